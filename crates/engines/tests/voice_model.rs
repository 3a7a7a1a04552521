//! Resemblyzer's voice encoder, read from the checkpoint its package ships: embeddings are unit
//! vectors; one voice's sentences are more alike than two voices'; a mono recording of two
//! voices is split between them, and one of a single voice is one speaker. A missing or corrupt
//! model file is a typed error.

#![cfg(feature = "candle")]

mod support;

use std::path::Path;

use switchboard_engines::asr::Utterance;
use switchboard_engines::audio::{DecodeLimits, decode};
use switchboard_engines::embeddings::cosine;
use switchboard_engines::models::ModelFiles;
use switchboard_engines::voice::resemblyzer::Resemblyzer;
use switchboard_engines::voice::{self, VoiceEmbedder, VoiceError};

const LINES: [&str; 4] = [
    "Thank you for calling Demo Insurance, my name is Sarah. How can I help you today?",
    "Hi, I moved house last month and I need to change the address on my policy.",
    "I can help with that. For security, could you confirm your date of birth please?",
    "Sure, it is the fourth of July nineteen eighty.",
];

/// `text` in espeak-ng's `voice`, as 16 kHz samples.
fn say(dir: &Path, voice: &str, text: &str) -> Vec<f32> {
    let path = dir.join("line.wav");
    support::run(
        "espeak-ng",
        &["-v", voice, "-s", "150", "-w", path.to_str().unwrap(), text],
    );
    decode(&std::fs::read(&path).unwrap(), DecodeLimits::default())
        .unwrap()
        .mixdown()
}

/// The lines one after another with 0.7 s pauses, and their spans.
fn recording(lines: &[Vec<f32>]) -> (Vec<f32>, Vec<Utterance>) {
    let mut samples = Vec::new();
    let mut utterances = Vec::new();
    for line in lines {
        let start = samples.len() as u64 / 16;
        samples.extend_from_slice(line);
        utterances.push(Utterance {
            channel: 0,
            start_ms: start,
            end_ms: samples.len() as u64 / 16,
            text: String::new(),
            confidence: 1.0,
        });
        samples.extend(std::iter::repeat_n(0.0, 11_200));
    }
    (samples, utterances)
}

#[test]
fn voices_are_told_apart_on_a_mono_recording() {
    let Some(data) = support::models_data_dir() else {
        return;
    };
    if !support::have_tools(&["espeak-ng"]) {
        return;
    }
    let encoder = Resemblyzer::load(&ModelFiles::under(&data).voice_encoder()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A male and a female espeak-ng voice, taking turns.
    let turns: Vec<Vec<f32>> = LINES
        .iter()
        .enumerate()
        .map(|(i, line)| say(dir.path(), if i % 2 == 0 { "en" } else { "en+f3" }, line))
        .collect();
    let (samples, utterances) = recording(&turns);
    let spans: Vec<(u64, u64)> = utterances.iter().map(|u| (u.start_ms, u.end_ms)).collect();
    let e = encoder.embed_spans(&samples, &spans).unwrap();
    assert_eq!(e.len(), 4);
    for v in &e {
        assert_eq!(v.len(), 256);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
    let same = [cosine(&e[0], &e[2]), cosine(&e[1], &e[3])];
    let different = [cosine(&e[0], &e[1]), cosine(&e[2], &e[3])];
    eprintln!("same voice {same:?}, different voices {different:?}");
    assert!(same.iter().all(|s| different.iter().all(|d| s > d)));

    assert_eq!(
        voice::speakers(&encoder, &samples, &utterances).unwrap(),
        [0, 1, 0, 1]
    );

    // One voice throughout is one speaker.
    let single: Vec<Vec<f32>> = LINES.iter().map(|l| say(dir.path(), "en", l)).collect();
    let (samples, utterances) = recording(&single);
    assert_eq!(
        voice::speakers(&encoder, &samples, &utterances).unwrap(),
        [0, 0, 0, 0]
    );
}

#[test]
fn a_missing_or_corrupt_model_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pt");
    let Err(VoiceError::ModelMissing { setting, .. }) = Resemblyzer::load(&missing) else {
        panic!("a missing file must be ModelMissing");
    };
    assert_eq!(setting, "VOICE_MODEL");
    for bytes in [&b""[..], b"not a checkpoint", &[0x80, 0x02, 0x8a, 0x0a][..]] {
        std::fs::write(&missing, bytes).unwrap();
        assert!(matches!(
            Resemblyzer::load(&missing),
            Err(VoiceError::Model(_))
        ));
    }
}
