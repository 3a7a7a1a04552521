//! The stages, their job kinds, and the call state each one leaves behind.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    Transcribe,
    Enrich,
    Analyse,
    Publish,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Transcribe,
        Stage::Enrich,
        Stage::Analyse,
        Stage::Publish,
    ];

    /// The job kind in the queue.
    pub fn kind(self) -> &'static str {
        match self {
            Stage::Transcribe => "transcribe",
            Stage::Enrich => "enrich",
            Stage::Analyse => "analyse",
            Stage::Publish => "publish",
        }
    }

    pub fn from_kind(kind: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.kind() == kind)
    }

    /// The call's status once this stage is done.
    pub fn done_status(self) -> &'static str {
        match self {
            Stage::Transcribe => "transcribed",
            Stage::Enrich => "enriched",
            Stage::Analyse => "analysed",
            Stage::Publish => "published",
        }
    }

    /// The call's status while this stage is pending (the previous stage's done status).
    pub fn waiting_status(self) -> &'static str {
        match self {
            Stage::Transcribe => "received",
            Stage::Enrich => "transcribed",
            Stage::Analyse => "enriched",
            Stage::Publish => "analysed",
        }
    }

    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Transcribe => Some(Stage::Enrich),
            Stage::Enrich => Some(Stage::Analyse),
            Stage::Analyse => Some(Stage::Publish),
            Stage::Publish => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stage;

    #[test]
    fn kinds_round_trip_and_chain_ends_at_publish() {
        for stage in Stage::ALL {
            assert_eq!(Stage::from_kind(stage.kind()), Some(stage));
        }
        assert_eq!(Stage::from_kind("nope"), None);
        let mut chain = vec![Stage::Transcribe];
        while let Some(next) = chain.last().unwrap().next() {
            assert_eq!(next.waiting_status(), chain.last().unwrap().done_status());
            chain.push(next);
        }
        assert_eq!(chain, Stage::ALL);
    }
}

#[cfg(test)]
mod ingest_contract {
    #[test]
    fn ingest_queues_the_first_stage() {
        assert_eq!(
            switchboard_store::ingest::FIRST_JOB,
            super::Stage::Transcribe.kind()
        );
    }
}
