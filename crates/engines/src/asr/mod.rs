//! Speech-to-text: a trait with a local whisper.cpp implementation (feature `whisper`)
//! and a remote OpenAI-compatible one (`POST /v1/audio/transcriptions`).
//!
//! Engines are synchronous: transcription is CPU-bound or a blocking HTTP call, and
//! callers in async code run it under `tokio::task::spawn_blocking`.
//!
//! Each source channel is transcribed separately, so a stereo call recording (agent
//! on one channel, customer on the other) yields utterances attributed by channel. Channels run
//! side by side: the remote engine's requests at once, whisper's within its thread budget.
//! An engine hears each channel without its long silences ([`Speech`]): a stereo call's channel
//! is quiet while the other party talks, and that quiet costs whisper as much as speech.

pub mod remote;
mod speech;
#[cfg(feature = "whisper")]
pub mod whisper;

use std::path::PathBuf;
use std::sync::Arc;

pub use remote::{RemoteAsr, RemoteAsrConfig};
pub use speech::Speech;

use crate::audio::{DecodedAudio, TARGET_RATE};

/// Settings of the local engine.
#[derive(Debug, Clone)]
pub struct WhisperConfig {
    /// A ggml model file (setting `WHISPER_MODEL`); any official whisper.cpp model works.
    pub model: PathBuf,
    /// CPU threads per transcription (setting `WHISPER_THREADS`). A stereo call's two channels
    /// run side by side on half of them each when there are two or more (one whisper thread per
    /// channel was measured ~18 % less CPU than two).
    pub threads: usize,
    /// Language code; English when absent.
    pub language: Option<String>,
}

/// Which speech-to-text engine to run (setting `ASR_ENGINE`).
#[derive(Debug, Clone)]
pub enum AsrConfig {
    Whisper(WhisperConfig),
    Remote(RemoteAsrConfig),
}

impl AsrConfig {
    /// Loads the engine (for whisper, the model file).
    pub fn build(self) -> Result<Arc<dyn SpeechToText>, AsrError> {
        match self {
            #[cfg(feature = "whisper")]
            Self::Whisper(config) => Ok(Arc::new(whisper::WhisperEngine::load(config)?)),
            #[cfg(not(feature = "whisper"))]
            Self::Whisper(_) => Err(AsrError::Model(
                "this build has no local whisper (feature `whisper`); set ASR_ENGINE=remote".into(),
            )),
            Self::Remote(config) => Ok(Arc::new(RemoteAsr::new(config)?)),
        }
    }
}

/// One stretch of speech on one channel.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Utterance {
    /// Source channel (0-based).
    pub channel: usize,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// 0..1: mean token probability (local) or exp(avg_logprob) (remote).
    pub confidence: f32,
}

/// What produced a transcript, recorded with it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EngineInfo {
    pub engine: String,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Transcript {
    pub engine: EngineInfo,
    /// Utterances of every channel, ordered by start time.
    pub utterances: Vec<Utterance>,
    pub duration_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error(
        "the speech-to-text model file {path} is missing; set {setting} or run `switchboard models fetch`"
    )]
    ModelMissing { path: String, setting: &'static str },
    #[error("the speech-to-text model could not be loaded: {0}")]
    Model(String),
    #[error("transcription failed: {0}")]
    Failed(String),
    /// Worth retrying later (timeouts, 429, 5xx).
    #[error("the transcription service is unavailable: {0}")]
    Unavailable(String),
}

impl AsrError {
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

pub trait SpeechToText: Send + Sync {
    fn info(&self) -> EngineInfo;

    /// Transcribes one 16 kHz mono channel; times are relative to its start.
    fn transcribe_channel(
        &self,
        samples: &[f32],
        channel: usize,
    ) -> Result<Vec<Utterance>, AsrError>;

    /// Transcribes every channel (side by side) and merges the utterances by start time.
    fn transcribe(&self, audio: &DecodedAudio) -> Result<Transcript, AsrError> {
        transcribe_channels(
            self.info(),
            audio,
            audio.channels.len(),
            |speech, channel, _| self.transcribe_channel(speech.samples(), channel),
        )
    }
}

/// Transcribes every channel with sound — as many side by side (scoped threads) as `budget`
/// allows, `channel` getting its share of the budget and the channel's samples with their long
/// silences cut ([`Speech`]) — keeps the utterances that have speech, tightened to it in
/// the channel's own times, and merges them by start time. The result does not depend on
/// `budget`.
pub fn transcribe_channels(
    engine: EngineInfo,
    audio: &DecodedAudio,
    budget: usize,
    channel: impl Fn(&Speech, usize, usize) -> Result<Vec<Utterance>, AsrError> + Sync,
) -> Result<Transcript, AsrError> {
    let voiced: Vec<(usize, &[f32])> = audio
        .channels
        .iter()
        .enumerate()
        .filter(|(_, samples)| !is_silent(samples))
        .map(|(i, samples)| (i, samples.as_slice()))
        .collect();
    let parallel = voiced.len().clamp(1, budget.max(1));
    let share = (budget / parallel).max(1);
    let run = |&(index, samples): &(usize, &[f32])| -> Result<Vec<Utterance>, AsrError> {
        let speech = Speech::of(samples);
        if speech.samples().is_empty() {
            return Ok(Vec::new());
        }
        let mut found = channel(&speech, index, share)?;
        for utterance in &mut found {
            speech.restore(utterance);
        }
        found.retain(|u| !u.text.trim().is_empty() && !is_silent(span(samples, u)));
        for utterance in &mut found {
            tighten_to_speech(samples, utterance);
        }
        Ok(found)
    };
    let mut utterances = Vec::new();
    for group in voiced.chunks(parallel) {
        let results: Vec<Result<Vec<Utterance>, AsrError>> = if group.len() == 1 {
            vec![run(&group[0])]
        } else {
            std::thread::scope(|scope| {
                let running: Vec<_> = group.iter().map(|c| scope.spawn(move || run(c))).collect();
                running
                    .into_iter()
                    .map(|thread| {
                        thread.join().unwrap_or_else(|_| {
                            Err(AsrError::Failed("a transcription thread panicked".into()))
                        })
                    })
                    .collect()
            })
        };
        for found in results {
            utterances.extend(found?);
        }
    }
    utterances.sort_by_key(|u| (u.start_ms, u.channel));
    Ok(Transcript {
        engine,
        utterances,
        duration_ms: (audio.duration_seconds() * 1000.0).round() as u64,
    })
}

/// The samples an utterance covers.
fn span<'a>(samples: &'a [f32], u: &Utterance) -> &'a [f32] {
    let at = |ms: u64| ((ms * u64::from(TARGET_RATE) / 1000) as usize).min(samples.len());
    &samples[at(u.start_ms)..at(u.end_ms).max(at(u.start_ms))]
}

/// Moves an utterance's bounds in to the first and last 20 ms frame with sound:
/// whisper's segment timestamps often swallow the silence around speech.
fn tighten_to_speech(samples: &[f32], u: &mut Utterance) {
    let start = (u.start_ms * u64::from(TARGET_RATE) / 1000) as usize;
    let covered = span(samples, u);
    let loud: Vec<usize> = covered
        .chunks(FRAME)
        .enumerate()
        .filter(|(_, chunk)| !is_silent(chunk))
        .map(|(i, _)| i)
        .collect();
    if let (Some(first), Some(last)) = (loud.first(), loud.last()) {
        let to_ms = |offset: usize| ((start + offset) as u64) * 1000 / u64::from(TARGET_RATE);
        u.start_ms = to_ms(first * FRAME);
        u.end_ms = to_ms(((last + 1) * FRAME).min(covered.len())).max(u.start_ms);
    }
}

/// The RMS level below which a stretch holds no speech: −50 dBFS.
pub const SILENT_RMS: f64 = 0.003;

/// The frames (20 ms) in which sound is told from silence.
pub(crate) const FRAME: usize = TARGET_RATE as usize / 50;

/// True when a stretch is too quiet to hold speech (RMS below −50 dBFS). Whisper
/// invents text ("Thank you.") for silence, so silent channels and spans are dropped.
pub fn is_silent(samples: &[f32]) -> bool {
    crate::audio::rms(samples) < SILENT_RMS
}

/// Normalised word error rate between a reference and a hypothesis: lower-cased,
/// punctuation removed, Levenshtein distance over words / reference words.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric() || *c == '\'')
                    .collect::<String>()
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (r, h) = (words(reference), words(hypothesis));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut previous: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut current = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            let substitution = previous[j] + usize::from(rw != hw);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[h.len()] as f64 / r.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wer_counts_edits_over_reference_words() {
        assert_eq!(word_error_rate("Hello, world!", "hello world"), 0.0);
        assert_eq!(word_error_rate("a b c d", "a x c"), 0.5);
        assert_eq!(word_error_rate("", ""), 0.0);
    }

    #[test]
    fn channels_side_by_side_give_the_same_transcript_and_share_the_budget() {
        let tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
        let audio = DecodedAudio {
            source_rate: 16_000,
            channels: vec![tone.clone(), vec![0.0; 16_000], tone],
        };
        let engine = EngineInfo {
            engine: "test".into(),
            model: "tone".into(),
        };
        let shares = std::sync::Mutex::new(Vec::new());
        let said = |_: &Speech, channel: usize, share: usize| {
            shares.lock().unwrap().push((channel, share));
            Ok(vec![Utterance {
                channel,
                start_ms: 100,
                end_ms: 900,
                text: format!("channel {channel}"),
                confidence: 0.9,
            }])
        };
        let one_by_one = transcribe_channels(engine.clone(), &audio, 1, said).unwrap();
        let side_by_side = transcribe_channels(engine.clone(), &audio, 4, said).unwrap();
        assert_eq!(one_by_one, side_by_side);
        let channels: Vec<usize> = side_by_side.utterances.iter().map(|u| u.channel).collect();
        assert_eq!(
            channels,
            [0, 2],
            "the silent channel is skipped, the rest ordered"
        );
        let mut shares = shares.into_inner().unwrap();
        shares.sort();
        // Budget 1: one at a time on 1 thread; budget 4: both voiced channels at once on 2 each.
        assert_eq!(shares, [(0, 1), (0, 2), (2, 1), (2, 2)]);

        let failing = |_: &Speech, channel: usize, _: usize| {
            if channel == 2 {
                Err(AsrError::Failed("channel 2 broke".into()))
            } else {
                Ok(Vec::new())
            }
        };
        let err = transcribe_channels(engine, &audio, 2, failing).unwrap_err();
        assert!(err.to_string().contains("channel 2 broke"), "{err}");
    }

    #[test]
    fn each_channel_is_transcribed_without_its_long_silences_and_timed_in_its_own_times() {
        let second = |s: f32| (s * TARGET_RATE as f32) as usize;
        // The agent talks 0–2 s and 8–10 s; the customer's turn between is silence here.
        let mut agent = vec![0.0f32; second(12.0)];
        for range in [0..second(2.0), second(8.0)..second(10.0)] {
            for i in range {
                agent[i] = (i as f32 * 0.05).sin() * 0.3;
            }
        }
        let audio = DecodedAudio {
            source_rate: 16_000,
            channels: vec![agent],
        };
        let engine = EngineInfo {
            engine: "test".into(),
            model: "tone".into(),
        };
        let heard = std::sync::Mutex::new(0);
        // The engine hears 2 s + 0.4 s, then 0.4 s + 2 s + 0.4 s, and says what it heard.
        let said = |speech: &Speech, channel: usize, _: usize| {
            *heard.lock().unwrap() = speech.samples().len();
            assert_eq!(speech.cuts_ms(), [2400]);
            Ok(vec![
                Utterance {
                    channel,
                    start_ms: 0,
                    end_ms: 2000,
                    text: "hello".into(),
                    confidence: 0.9,
                },
                Utterance {
                    channel,
                    start_ms: 2800,
                    end_ms: 4800,
                    text: "goodbye".into(),
                    confidence: 0.9,
                },
            ])
        };
        let transcript = transcribe_channels(engine, &audio, 1, said).unwrap();
        assert_eq!(*heard.lock().unwrap(), second(5.2));
        let times: Vec<(u64, u64)> = transcript
            .utterances
            .iter()
            .map(|u| (u.start_ms, u.end_ms))
            .collect();
        assert_eq!(times, [(0, 2000), (8000, 10000)]);
        assert_eq!(transcript.duration_ms, 12_000);
    }

    #[test]
    fn silence_detection() {
        assert!(is_silent(&[0.0; 1600]));
        assert!(is_silent(&[]));
        let tone: Vec<f32> = (0..1600).map(|i| (i as f32 * 0.1).sin() * 0.1).collect();
        assert!(!is_silent(&tone));
    }
}
