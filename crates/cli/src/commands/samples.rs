//! `switchboard samples generate`: synthesises two-party call recordings from scripted
//! dialogues with known transcripts, using Debian's voices (espeak-ng; festival with the
//! 8 kHz `kal` diphone voice and the `slt` HTS voice).
//!
//! Per dialogue: `16k/<id>.wav` (stereo, agent on the left channel, customer on the right),
//! `8k-ulaw/<id>.wav` (the telephone variant, via sox), `mono-8k-ulaw/<id>.wav` (both parties
//! mixed on one channel, as many recorders store calls; its speakers are told apart by voice),
//! a provider-format metadata sidecar beside each (`calling_party`, `called_party`,
//! `started_at`, `ended_at`, `direction`, `agent`), and `transcripts/<id>.json` with every
//! turn's speaker, text and times. The dialogues (`sample_dialogues.json`) exercise QA rules
//! (greeting, identity check, empathy, resolution, upsell, a rude agent, an angry customer),
//! silences and interruptions.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde_json::json;
use switchboard_engines::audio::{self, DecodeLimits, TARGET_RATE};

const DIALOGUES: &str = include_str!("sample_dialogues.json");

/// The folder of the mono telephone variant.
pub const MONO: &str = "mono-8k-ulaw";

#[derive(Deserialize)]
struct Dialogue {
    id: String,
    direction: String,
    agent: serde_json::Value,
    customer_number: String,
    company_number: String,
    voices: Voices,
    turns: Vec<Turn>,
}

#[derive(Deserialize)]
struct Voices {
    agent: String,
    customer: String,
}

#[derive(Deserialize)]
struct Turn {
    speaker: String,
    text: String,
    /// Seconds of silence before this turn; negative overlaps the previous turn (an
    /// interruption). Default 0.6.
    #[serde(default)]
    gap: Option<f64>,
}

pub fn generate(out: &Path) -> anyhow::Result<()> {
    let dialogues: Vec<Dialogue> =
        serde_json::from_str(DIALOGUES).context("sample_dialogues.json")?;
    for dir in ["16k", "8k-ulaw", MONO, "transcripts"] {
        std::fs::create_dir_all(out.join(dir))?;
    }
    let scratch = tempfile::tempdir()?;
    // Calls start on consecutive days before today, so the dashboard's default range holds them.
    let today = time::OffsetDateTime::now_utc().replace_time(time::Time::from_hms(9, 0, 0)?);
    for (n, dialogue) in dialogues.iter().enumerate() {
        let mut channels = [Vec::<f32>::new(), Vec::<f32>::new()];
        let mut cursor = 0usize;
        let mut turns = Vec::new();
        for (i, turn) in dialogue.turns.iter().enumerate() {
            let (channel, voice) = match turn.speaker.as_str() {
                "agent" => (0, &dialogue.voices.agent),
                "customer" => (1, &dialogue.voices.customer),
                other => bail!("{}: unknown speaker {other}", dialogue.id),
            };
            let wav = scratch.path().join(format!("{}-{i}.wav", dialogue.id));
            speak(voice, &turn.text, &wav)?;
            let speech = audio::decode(&std::fs::read(&wav)?, DecodeLimits::default())?.mixdown();
            let gap = (turn.gap.unwrap_or(0.6) * f64::from(TARGET_RATE)) as isize;
            let start = if i == 0 {
                0
            } else {
                (cursor as isize + gap).max(0) as usize
            };
            let end = start + speech.len();
            for track in &mut channels {
                if track.len() < end {
                    track.resize(end, 0.0);
                }
            }
            channels[channel][start..end].copy_from_slice(&speech);
            cursor = cursor.max(end);
            let ms = |samples: usize| samples as u64 * 1000 / u64::from(TARGET_RATE);
            turns.push(
                json!({"speaker": turn.speaker, "channel": channel, "text": turn.text,
                              "start_ms": ms(start), "end_ms": ms(end)}),
            );
        }
        let stereo = interleave(&channels);
        let wide = out.join("16k").join(format!("{}.wav", dialogue.id));
        std::fs::write(&wide, audio::wav_i16(TARGET_RATE, 2, &stereo))?;
        let narrow = out.join("8k-ulaw").join(format!("{}.wav", dialogue.id));
        let mono = out.join(MONO).join(format!("{}.wav", dialogue.id));
        for (file, channels) in [(&narrow, "2"), (&mono, "1")] {
            run(
                "sox",
                &[
                    wide.as_os_str(),
                    "-r".as_ref(),
                    "8000".as_ref(),
                    "-e".as_ref(),
                    "u-law".as_ref(),
                    "-b".as_ref(),
                    "8".as_ref(),
                    file.as_os_str(),
                    "channels".as_ref(),
                    channels.as_ref(),
                ],
            )?;
        }

        let seconds = channels[0].len() as i64 / i64::from(TARGET_RATE);
        let started = today - time::Duration::days(n as i64 + 1);
        let ended = started + time::Duration::seconds(seconds);
        let rfc3339 =
            |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339);
        let (calling, called) = match dialogue.direction.as_str() {
            "outbound" => (&dialogue.company_number, &dialogue.customer_number),
            _ => (&dialogue.customer_number, &dialogue.company_number),
        };
        let meta = json!({
            "provider_recording_id": format!("sample-{}", dialogue.id),
            "calling_party": calling,
            "called_party": called,
            "started_at": rfc3339(started)?,
            "ended_at": rfc3339(ended)?,
            "direction": dialogue.direction,
            "agent": dialogue.agent,
            "channels": {"0": "agent", "1": "customer"},
        });
        for dir in ["16k", "8k-ulaw"] {
            std::fs::write(
                out.join(dir).join(format!("{}.json", dialogue.id)),
                serde_json::to_vec_pretty(&meta)?,
            )?;
        }
        // The mono recording is another recording of the call: no channel map, its own id.
        let mut mono_meta = meta.clone();
        mono_meta["provider_recording_id"] = json!(format!("sample-{}-mono", dialogue.id));
        if let Some(fields) = mono_meta.as_object_mut() {
            fields.remove("channels");
        }
        std::fs::write(
            out.join(MONO).join(format!("{}.json", dialogue.id)),
            serde_json::to_vec_pretty(&mono_meta)?,
        )?;
        let transcript = json!({"id": dialogue.id, "voices": {"agent": dialogue.voices.agent, "customer": dialogue.voices.customer}, "turns": turns});
        std::fs::write(
            out.join("transcripts")
                .join(format!("{}.json", dialogue.id)),
            serde_json::to_vec_pretty(&transcript)?,
        )?;
        println!("{} ({seconds} s)", wide.display());
    }
    Ok(())
}

fn interleave(channels: &[Vec<f32>; 2]) -> Vec<i16> {
    let pcm = |s: f32| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
    channels[0]
        .iter()
        .zip(&channels[1])
        .flat_map(|(l, r)| [pcm(*l), pcm(*r)])
        .collect()
}

/// `espeak:<voice>` or `festival:slt|kal`.
fn speak(voice: &str, text: &str, out: &Path) -> anyhow::Result<()> {
    match voice.split_once(':') {
        Some(("espeak", name)) => run(
            "espeak-ng",
            &[
                "-v".as_ref(),
                name.as_ref(),
                "-s".as_ref(),
                "150".as_ref(),
                "-w".as_ref(),
                out.as_os_str(),
                text.as_ref(),
            ],
        ),
        Some(("festival", name)) => {
            let select = match name {
                "slt" => "(voice_cmu_us_slt_arctic_hts)",
                "kal" => "(voice_kal_diphone)",
                other => bail!("unknown festival voice {other}"),
            };
            let input = out.with_extension("txt");
            std::fs::write(&input, text)?;
            run(
                "text2wave",
                &[
                    "-eval".as_ref(),
                    select.as_ref(),
                    "-o".as_ref(),
                    out.as_os_str(),
                    input.as_os_str(),
                ],
            )
        }
        _ => bail!("unknown voice {voice}"),
    }
}

fn run(program: &str, args: &[&std::ffi::OsStr]) -> anyhow::Result<()> {
    let output = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("running {program} (install it: bash scripts/tools.sh)"))?;
    if !output.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
