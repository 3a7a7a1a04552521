//! Transcribe (SPEC §4.2): the recording → `raw/<call_id>.json`. Stereo channels are speakers
//! (the metadata's `channels` map, e.g. `{"0": "agent", "1": "customer"}`, or by default channel
//! 0 = agent, 1 = customer). On a mono recording the voice encoder tells two voices apart: the
//! first to speak is the agent — the customer when the metadata says the call was outbound,
//! since then the customer answers — and a recording with one voice stays `unknown`. A live
//! receptionist call has no recording: its transcript is built from its turns (see
//! [`crate::live`]).

use std::time::Instant;

use switchboard_core::Area;
use switchboard_engines::audio::{self, DecodeLimits};
use switchboard_engines::voice;
use switchboard_store::queue::ClaimedJob;

use super::{StageError, blocking, finish, load_call, raw_name, write_json};
use crate::record::{Diarization, RawTranscript, Speaker, Utterance};
use crate::stage::Stage;
use crate::worker::Pipeline;

pub(super) async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), StageError> {
    let started = Instant::now();
    let call = load_call(pipeline, job).await?;
    let objects = pipeline.storage.tenant(&job.scope)?;
    if call.source == "live" {
        let ai = super::ai_config(&objects).await?;
        let mut raw = crate::live::live_transcript(pipeline, job, &call, &ai.language).await?;
        raw.elapsed_ms = started.elapsed().as_millis() as u64;
        write_json(&objects, &raw_name(&call.id), &raw).await?;
        finish(pipeline, job, Stage::Transcribe, None).await?;
        return Ok(());
    }
    let bytes = objects.get(Area::Input, &call.audio_name()).await?;
    let ai = super::ai_config(&objects).await?;
    let limits = DecodeLimits {
        max_seconds: pipeline.settings.max_audio_seconds,
    };
    let engines = pipeline.engines.clone();
    let (transcript, channels, voices) = blocking(move || {
        let decoded = audio::decode(&bytes, limits)
            .map_err(|e| StageError::permanent(format!("{} ({})", e, e.code())))?;
        let asr = engines.asr.get().map_err(StageError::retry)?;
        let transcript = asr.transcribe(&decoded).map_err(|e| {
            if e.retryable() {
                StageError::retry(e.to_string())
            } else {
                StageError::permanent(e.to_string())
            }
        })?;
        let voices = match voice::mono_channel(&decoded, &transcript.utterances) {
            Some(mono) => {
                let encoder = engines.voices.get().map_err(StageError::retry)?;
                let labels = voice::speakers(encoder.as_ref(), mono, &transcript.utterances)
                    .map_err(|e| StageError::retry(e.to_string()))?;
                Some((labels, encoder.model().to_owned()))
            }
            None => None,
        };
        Ok((transcript, decoded.channels.len(), voices))
    })
    .await?;
    // Each utterance's speaker, and how it was told.
    let (speakers, diarization): (Vec<Speaker>, _) = match voices {
        Some((labels, model)) => {
            let two = labels.contains(&1);
            let direction = crate::parties::identify(&call.meta, &ai.agents).direction;
            let roles = voice_roles(&direction, two);
            let diarization = Diarization {
                method: "voices".into(),
                model: Some(model),
                voices: if two { 2 } else { 1 },
            };
            (
                labels.into_iter().map(|l| roles[l]).collect(),
                Some(diarization),
            )
        }
        None => {
            let by_channel = channel_speakers(&call.meta, channels);
            let speakers = transcript
                .utterances
                .iter()
                .map(|u| {
                    by_channel
                        .get(u.channel)
                        .copied()
                        .unwrap_or(Speaker::Unknown)
                })
                .collect();
            let diarization = (channels > 1).then(|| Diarization {
                method: "channels".into(),
                model: None,
                voices: channels,
            });
            (speakers, diarization)
        }
    };
    let utterances = transcript
        .utterances
        .into_iter()
        .zip(speakers)
        .enumerate()
        .map(|(index, (u, speaker))| Utterance {
            index,
            speaker,
            channel: u.channel,
            start_ms: u.start_ms,
            end_ms: u.end_ms,
            text: u.text.trim().to_owned(),
            confidence: u.confidence,
        })
        .collect();
    let raw = RawTranscript {
        call_id: call.id.clone(),
        language: ai.language,
        engine: transcript.engine,
        duration_ms: transcript.duration_ms,
        channels,
        utterances,
        diarization,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    write_json(&objects, &raw_name(&call.id), &raw).await?;
    finish(pipeline, job, Stage::Transcribe, None).await?;
    Ok(())
}

/// The roles of a mono recording's voices, first speaker first: the agent answers an inbound
/// call and the customer an outbound one (`direction` as the provider states it or the tenant's
/// agent numbers and domains tell). One voice cannot be told to be either.
fn voice_roles(direction: &str, two_voices: bool) -> [Speaker; 2] {
    if !two_voices {
        return [Speaker::Unknown; 2];
    }
    if direction.eq_ignore_ascii_case("outbound") {
        [Speaker::Customer, Speaker::Agent]
    } else {
        [Speaker::Agent, Speaker::Customer]
    }
}

/// The speaker on each channel.
pub(crate) fn channel_speakers(meta: &serde_json::Value, channels: usize) -> Vec<Speaker> {
    if channels < 2 {
        return vec![Speaker::Unknown; channels];
    }
    let mut speakers: Vec<Speaker> = (0..channels)
        .map(|c| match c {
            0 => Speaker::Agent,
            1 => Speaker::Customer,
            _ => Speaker::Unknown,
        })
        .collect();
    if let Some(map) = meta.get("channels").and_then(|c| c.as_object()) {
        for (channel, role) in map {
            let (Ok(channel), Some(role)) = (channel.parse::<usize>(), role.as_str()) else {
                continue;
            };
            let speaker = match role.to_ascii_lowercase().as_str() {
                "agent" => Speaker::Agent,
                "customer" | "caller" => Speaker::Customer,
                _ => Speaker::Unknown,
            };
            if let Some(slot) = speakers.get_mut(channel) {
                *slot = speaker;
            }
        }
    }
    speakers
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channel_map_from_metadata_or_default() {
        assert_eq!(
            channel_speakers(&json!({}), 2),
            [Speaker::Agent, Speaker::Customer]
        );
        assert_eq!(
            channel_speakers(&json!({"channels": {"0": "customer", "1": "agent"}}), 2),
            [Speaker::Customer, Speaker::Agent]
        );
        assert_eq!(channel_speakers(&json!({}), 1), [Speaker::Unknown]);
    }

    #[test]
    fn the_first_voice_answers_the_call() {
        assert_eq!(
            voice_roles("inbound", true),
            [Speaker::Agent, Speaker::Customer]
        );
        assert_eq!(
            voice_roles("unknown", true),
            [Speaker::Agent, Speaker::Customer]
        );
        assert_eq!(
            voice_roles("outbound", true),
            [Speaker::Customer, Speaker::Agent]
        );
        assert_eq!(voice_roles("inbound", false), [Speaker::Unknown; 2]);
    }
}
