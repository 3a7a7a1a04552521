//! Local speech-to-text with whisper.cpp through whisper-rs (CPU).

mod window;

use std::path::Path;

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::{
    AsrError, EngineInfo, SpeechToText, Utterance, WhisperConfig, is_silent, transcribe_channels,
};
use crate::audio::{DecodedAudio, TARGET_RATE};
use window::{chunks, encoder_positions};

pub struct WhisperEngine {
    context: WhisperContext,
    config: WhisperConfig,
    model_name: String,
}

impl WhisperEngine {
    pub fn load(config: WhisperConfig) -> Result<Self, AsrError> {
        if !config.model.is_file() {
            return Err(AsrError::ModelMissing {
                path: config.model.display().to_string(),
                setting: "WHISPER_MODEL",
            });
        }
        // Route whisper.cpp's own logging away from stderr.
        whisper_rs::install_logging_hooks();
        let context =
            WhisperContext::new_with_params(&config.model, WhisperContextParameters::default())
                .map_err(|e| AsrError::Model(format!("{}: {e}", config.model.display())))?;
        let model_name = model_name(&config.model);
        Ok(Self {
            context,
            config,
            model_name,
        })
    }
}

fn model_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("whisper");
    stem.strip_prefix("ggml-").unwrap_or(stem).to_string()
}

impl SpeechToText for WhisperEngine {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            engine: "whisper.cpp".into(),
            model: self.model_name.clone(),
        }
    }

    fn transcribe_channel(
        &self,
        samples: &[f32],
        channel: usize,
    ) -> Result<Vec<Utterance>, AsrError> {
        self.run(samples, &[], channel, self.config.threads, Split::Segments)
    }

    /// The channels side by side, each on its share of the threads (one whisper state each; the
    /// model is shared). A mono recording is cut into sentences: its speakers are told apart per
    /// utterance, and a quick reply often shares a whisper segment with what came before.
    fn transcribe(&self, audio: &DecodedAudio) -> Result<super::Transcript, AsrError> {
        let split = if audio.channels.len() == 1 {
            Split::Sentences
        } else {
            Split::Segments
        };
        transcribe_channels(
            self.info(),
            audio,
            self.config.threads,
            |speech, channel, threads| {
                let cuts: Vec<i64> = speech.cuts_ms().iter().map(|&ms| ms as i64 / 10).collect();
                self.run(speech.samples(), &cuts, channel, threads, split)
            },
        )
    }
}

/// What one utterance is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Split {
    /// A whisper segment.
    Segments,
    /// A sentence of a whisper segment, timed by its tokens.
    Sentences,
}

impl WhisperEngine {
    /// Transcribes `samples`. `cuts` (centiseconds) are where the samples join stretches around
    /// a cut silence ([`super::Speech`]): whisper often runs one segment on across a join, so a
    /// segment whose sentences lie on both sides of one becomes an utterance per side.
    ///
    /// Audio longer than [`window::CHUNK_MAX_S`] is transcribed in chunks cut at quiet points
    /// ([`chunks`]), each encoded on the positions it fills ([`encoder_positions`]).
    fn run(
        &self,
        samples: &[f32],
        cuts: &[i64],
        channel: usize,
        threads: usize,
        split: Split,
    ) -> Result<Vec<Utterance>, AsrError> {
        let mut state = self
            .context
            .create_state()
            .map_err(|e| AsrError::Failed(e.to_string()))?;
        let per_cs = TARGET_RATE as usize / 100;
        let mut utterances = Vec::new();
        for chunk in chunks(samples) {
            let (from, to) = ((chunk.start / per_cs) as i64, (chunk.end / per_cs) as i64);
            let chunk_cuts: Vec<i64> = cuts
                .iter()
                .filter(|&&c| from < c && c < to)
                .map(|&c| c - from)
                .collect();
            let offset_ms = from as u64 * 10;
            let found = self.run_chunk(
                &mut state,
                &samples[chunk],
                &chunk_cuts,
                channel,
                threads,
                split,
            )?;
            utterances.extend(found.into_iter().map(|mut u| {
                u.start_ms += offset_ms;
                u.end_ms += offset_ms;
                u
            }));
        }
        Ok(utterances)
    }

    /// Transcribes audio of at most [`window::CHUNK_MAX_S`]; times are relative to its start.
    fn run_chunk(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        cuts: &[i64],
        channel: usize,
        threads: usize,
        split: Split,
    ) -> Result<Vec<Utterance>, AsrError> {
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(threads.max(1) as i32);
        params.set_language(Some(self.config.language.as_deref().unwrap_or("en")));
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_suppress_blank(true);
        // Segments with a join in them are cut into sentences too, to be joined again per
        // stretch; sentences are timed by their tokens.
        let sentences = split == Split::Sentences || !cuts.is_empty();
        params.set_token_timestamps(sentences);
        // Without context from earlier windows, a misheard phrase cannot loop.
        params.set_no_context(true);
        params.set_audio_ctx(encoder_positions(samples.len()));
        state
            .full(params, samples)
            .map_err(|e| AsrError::Failed(e.to_string()))?;

        let eot = self.context.token_eot();
        let mut utterances = Vec::new();
        let mut previous_end: Option<i64> = None;
        for segment in state.as_iter() {
            if segment.no_speech_probability() > 0.8 {
                continue;
            }
            let mut pieces = Vec::new();
            let mut piece = Piece::default();
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else {
                    continue;
                };
                if token.token_id() >= eot {
                    continue;
                }
                let bytes = token
                    .to_bytes()
                    .map_err(|e| AsrError::Failed(e.to_string()))?;
                let data = token.token_data();
                // A sentence ends before a token that starts a new word after `.`, `?` or `!`.
                if sentences && piece.ends_sentence() && bytes.starts_with(b" ") {
                    pieces.push(std::mem::take(&mut piece));
                }
                piece.push(bytes, token.token_probability(), data.t0, data.t1);
            }
            pieces.push(piece);
            if split == Split::Segments && pieces.len() > 1 {
                pieces = joined_per_stretch(pieces, cuts);
            }
            let start = segment.start_timestamp();
            let end = segment.end_timestamp().max(start);
            let single = pieces.len() == 1;
            for piece in pieces {
                let text = if single {
                    segment
                        .to_str_lossy()
                        .map_err(|e| AsrError::Failed(e.to_string()))?
                        .trim()
                        .to_string()
                } else {
                    String::from_utf8_lossy(&piece.text).trim().to_string()
                };
                // Bracketed non-speech annotations ("[BLANK_AUDIO]", "(music)") are not words.
                if text.is_empty() || is_annotation(&text) {
                    continue;
                }
                // Token times are rough: a sentence keeps inside its segment; a whole segment
                // keeps the segment's own times.
                let (mut t0, t1) = if single {
                    (start, end)
                } else {
                    let t1 = piece.t1.clamp(start, end);
                    (piece.t0.clamp(start, t1), t1)
                };
                // A sentence that begins where the one before it ended was cut at a guessed
                // boundary; see `after_leading_pause`.
                if split == Split::Sentences && previous_end.is_some_and(|e| t0 <= e) {
                    t0 = after_leading_pause(samples, t0, t1);
                }
                previous_end = Some(t1);
                // Timestamps are in centiseconds.
                utterances.push(Utterance {
                    channel,
                    start_ms: (t0.max(0) as u64) * 10,
                    end_ms: (t1.max(0) as u64) * 10,
                    text,
                    confidence: piece.confidence(),
                });
            }
        }
        Ok(utterances)
    }
}

/// Where a sentence that begins where the one before it ended really starts, in centiseconds.
/// After a pause whisper's boundary (a token time, or the start of the next segment) is often
/// early — in the previous speaker's tail — so when the first half of `t0..t1` holds a pause of
/// 300 ms or more, the sentence starts after it.
fn after_leading_pause(samples: &[f32], t0: i64, t1: i64) -> i64 {
    const FRAME_CS: i64 = 2;
    const PAUSE_FRAMES: usize = 15;
    let per_cs = TARGET_RATE as usize / 100;
    let frame = |at: i64| {
        let from = (at.max(0) as usize * per_cs).min(samples.len());
        let to = ((at + FRAME_CS).max(0) as usize * per_cs).min(samples.len());
        &samples[from..to]
    };
    let middle = t0 + (t1 - t0) / 2;
    let mut silent_run = 0;
    let mut at = t0;
    while at < t1 {
        if is_silent(frame(at)) {
            silent_run += 1;
        } else if silent_run >= PAUSE_FRAMES {
            return at;
        } else {
            silent_run = 0;
            if at >= middle {
                break;
            }
        }
        at += FRAME_CS;
    }
    t0
}

/// The sentences of one segment joined again where no cut lies between them: each group becomes
/// one utterance. A sentence lies in the stretch that holds the middle of its token times.
fn joined_per_stretch(sentences: Vec<Piece>, cuts: &[i64]) -> Vec<Piece> {
    let stretch = |p: &Piece| cuts.iter().filter(|&&c| c <= (p.t0 + p.t1) / 2).count();
    let mut joined: Vec<(usize, Piece)> = Vec::new();
    for sentence in sentences {
        let at = stretch(&sentence);
        match joined.last_mut() {
            Some((last, piece)) if *last == at => piece.append(sentence),
            _ => joined.push((at, sentence)),
        }
    }
    joined.into_iter().map(|(_, piece)| piece).collect()
}

/// The tokens of one utterance.
#[derive(Default)]
struct Piece {
    text: Vec<u8>,
    probabilities: Vec<f32>,
    t0: i64,
    t1: i64,
}

/// Words ending in a full stop that do not end a sentence.
const ABBREVIATIONS: [&str; 8] = ["mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "e.g.", "i.e."];

impl Piece {
    fn push(&mut self, bytes: &[u8], probability: f32, t0: i64, t1: i64) {
        if self.probabilities.is_empty() {
            self.t0 = t0;
        }
        self.t1 = self.t1.max(t1);
        self.text.extend_from_slice(bytes);
        self.probabilities.push(probability);
    }

    fn append(&mut self, other: Piece) {
        if self.probabilities.is_empty() {
            self.t0 = other.t0;
        }
        self.t1 = self.t1.max(other.t1);
        self.text.extend_from_slice(&other.text);
        self.probabilities.extend(other.probabilities);
    }

    fn ends_sentence(&self) -> bool {
        let text = String::from_utf8_lossy(&self.text);
        let text = text.trim_end();
        let last_word = text.rsplit(' ').next().unwrap_or("").to_lowercase();
        text.ends_with(['.', '?', '!']) && !ABBREVIATIONS.contains(&last_word.as_str())
    }

    /// Mean token probability.
    fn confidence(&self) -> f32 {
        if self.probabilities.is_empty() {
            0.0
        } else {
            self.probabilities.iter().sum::<f32>() / self.probabilities.len() as f32
        }
    }
}

fn is_annotation(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('(') && t.ends_with(')'))
}

#[cfg(test)]
mod tests {
    use super::{Piece, after_leading_pause};

    #[test]
    fn a_sentence_after_a_pause_starts_after_it() {
        // 0.4 s of the previous speaker's tail, 1.1 s of silence, 0.3 s of "Fine."
        let loud = |seconds: f32| vec![0.2f32; (seconds * 16_000.0) as usize];
        let mut samples = loud(0.4);
        samples.extend(vec![0.0; 17_600]);
        samples.extend(loud(0.3));
        assert_eq!(after_leading_pause(&samples, 0, 180), 150);
        // No pause, or only a short one: the token time stands.
        let speech = loud(1.8);
        assert_eq!(after_leading_pause(&speech, 0, 180), 0);
        let mut short = loud(0.5);
        short.extend(vec![0.0; 3_200]);
        short.extend(loud(1.0));
        assert_eq!(after_leading_pause(&short, 0, 170), 0);
        // A pause late in the sentence is the speaker's own.
        let mut late = loud(1.2);
        late.extend(vec![0.0; 8_000]);
        late.extend(loud(0.3));
        assert_eq!(after_leading_pause(&late, 0, 200), 0);
        // Out of range times do not panic.
        assert_eq!(after_leading_pause(&[], 10, 50), 10);
    }

    fn piece(text: &str) -> Piece {
        let mut p = Piece::default();
        p.push(text.as_bytes(), 0.5, 10, 20);
        p
    }

    #[test]
    fn sentences_end_at_stops_but_not_at_titles() {
        assert!(piece(" Okay.").ends_sentence());
        assert!(piece(" What is the new address?").ends_sentence());
        assert!(piece(" Wow!").ends_sentence());
        assert!(!piece(" Am I speaking with Mr.").ends_sentence());
        assert!(!piece(" It costs 4").ends_sentence());
        assert!(!piece("").ends_sentence());
    }

    #[test]
    fn a_piece_spans_its_tokens_and_averages_their_probabilities() {
        let mut p = Piece::default();
        p.push(b" Twelve", 0.75, 100, 150);
        p.push(b" Oak", 0.25, 150, 180);
        assert_eq!((p.t0, p.t1), (100, 180));
        assert_eq!(p.confidence(), 0.5);
        assert_eq!(Piece::default().confidence(), 0.0);
    }
}
