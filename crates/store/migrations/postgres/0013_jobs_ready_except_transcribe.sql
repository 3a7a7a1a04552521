-- Ready jobs other than speech-to-text, for the dispatcher's slots that take only those
-- (`queue::Kinds::ExceptTranscribe`): without it, such a claim reads past every ready
-- `transcribe` job of a backlog.
CREATE INDEX jobs_ready_except_transcribe ON jobs (run_at) WHERE state = 'ready' AND kind <> 'transcribe';
