//! Who spoke when on a mono recording (SPEC §4.2: "mono recordings get one speaker per turn as
//! well as the engine can tell"): a voice embedding per utterance (Resemblyzer's d-vector encoder
//! through candle, feature `candle`), then the utterances grouped into two voices or one.

pub mod cluster;
#[cfg(feature = "candle")]
pub mod mel;
#[cfg(feature = "candle")]
pub mod resemblyzer;
#[cfg(feature = "candle")]
mod torch_legacy;

use crate::asr::Utterance;
use crate::audio::DecodedAudio;

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error(
        "the voice model file {path} is missing; set {setting} or run `switchboard models fetch`"
    )]
    ModelMissing { path: String, setting: &'static str },
    #[error("the voice model could not be loaded: {0}")]
    Model(String),
    #[error("voice embedding failed: {0}")]
    Failed(String),
}

pub trait VoiceEmbedder: Send + Sync {
    /// Engine and model name, recorded with results.
    fn model(&self) -> &str;
    /// A unit-length voice embedding per `(start_ms, end_ms)` span of `samples` (16 kHz mono).
    fn embed_spans(
        &self,
        samples: &[f32],
        spans: &[(u64, u64)],
    ) -> Result<Vec<Vec<f32>>, VoiceError>;
}

/// The channel whose voices are to be told apart: that of a mono recording with two or more
/// utterances (a stereo recording's channels are its speakers).
pub fn mono_channel<'a>(audio: &'a DecodedAudio, utterances: &[Utterance]) -> Option<&'a [f32]> {
    match audio.channels.as_slice() {
        [mono] if utterances.len() > 1 => Some(mono),
        _ => None,
    }
}

/// A speaker per utterance of one channel: 0 for whoever spoke first, 1 for the other voice
/// (all 0 when the recording has one voice).
pub fn speakers(
    voices: &dyn VoiceEmbedder,
    samples: &[f32],
    utterances: &[Utterance],
) -> Result<Vec<usize>, VoiceError> {
    let spans: Vec<(u64, u64)> = utterances.iter().map(|u| (u.start_ms, u.end_ms)).collect();
    let embeddings = voices.embed_spans(samples, &spans)?;
    let weights: Vec<f32> = spans
        .iter()
        .map(|(s, e)| e.saturating_sub(*s) as f32 / 1000.0)
        .collect();
    Ok(cluster::two_voices(&embeddings, &weights))
}
