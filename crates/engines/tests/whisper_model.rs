//! The converted tiny.en model transcribes synthetic speech (espeak-ng) accurately,
//! on a stereo call with one speaker per channel and on an 8 kHz μ-law variant; a mono
//! recording comes back one sentence per utterance; a channel's long silence is cut before
//! transcription without moving the words on either side of it; a one-word reply is heard.

#![cfg(feature = "whisper")]

mod support;

use std::sync::Arc;

use switchboard_engines::asr::{AsrConfig, SpeechToText, WhisperConfig, word_error_rate};
use switchboard_engines::audio::{DecodeLimits, decode};
use switchboard_engines::models::ModelFiles;

const AGENT: &str = "Thank you for calling. My name is Sarah. How can I help you today?";
const CUSTOMER: &str = "I would like to change the address on my policy please.";

/// whisper tiny.en from the fetched models, when they and the speech tools are here.
fn tiny_en() -> Option<Arc<dyn SpeechToText>> {
    let data = support::models_data_dir()?;
    if !support::have_tools(&["espeak-ng", "sox"]) {
        return None;
    }
    let engine = AsrConfig::Whisper(WhisperConfig {
        model: ModelFiles::under(&data).whisper_tiny_en(),
        threads: 2,
        language: None,
    })
    .build()
    .unwrap();
    Some(engine)
}

#[test]
fn tiny_en_transcribes_a_two_channel_call() {
    let Some(engine) = tiny_en() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    support::speak(AGENT, p("agent.wav").as_ref());
    support::speak(CUSTOMER, p("customer.wav").as_ref());
    // Agent speaks first, then the customer after a pause: one speaker per channel.
    support::run(
        "sox",
        &[&p("agent.wav"), &p("agent_padded.wav"), "pad", "0", "5"],
    );
    support::run(
        "sox",
        &[
            &p("customer.wav"),
            &p("customer_padded.wav"),
            "pad",
            "5.5",
            "0",
        ],
    );
    support::run(
        "sox",
        &[
            "-M",
            &p("agent_padded.wav"),
            &p("customer_padded.wav"),
            &p("call.wav"),
        ],
    );
    support::run(
        "sox",
        &[
            &p("call.wav"),
            "-r",
            "8000",
            "-e",
            "u-law",
            "-b",
            "8",
            &p("call_ulaw.wav"),
        ],
    );

    for (file, max_wer) in [("call.wav", 0.15), ("call_ulaw.wav", 0.30)] {
        let audio = decode(&std::fs::read(p(file)).unwrap(), DecodeLimits::default()).unwrap();
        let transcript = engine.transcribe(&audio).unwrap();
        let text = |channel| {
            transcript
                .utterances
                .iter()
                .filter(|u| u.channel == channel)
                .map(|u| u.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (agent, customer) = (text(0), text(1));
        let wer = (word_error_rate(AGENT, &agent) + word_error_rate(CUSTOMER, &customer)) / 2.0;
        eprintln!("{file}: WER {wer:.3}\n  agent: {agent}\n  customer: {customer}");
        assert!(wer <= max_wer, "{file}: WER {wer}");
        let first_customer = transcript
            .utterances
            .iter()
            .find(|u| u.channel == 1)
            .unwrap();
        assert!(
            first_customer.start_ms >= 5000,
            "customer starts after the agent: {first_customer:?}"
        );
        assert!(
            transcript
                .utterances
                .iter()
                .all(|u| u.confidence > 0.0 && u.confidence <= 1.0)
        );
        assert_eq!(transcript.engine.engine, "whisper.cpp");
    }
}

#[test]
fn a_missing_model_names_the_setting() {
    let Err(err) = AsrConfig::Whisper(WhisperConfig {
        model: "/nonexistent/ggml.bin".into(),
        threads: 1,
        language: None,
    })
    .build() else {
        panic!("loaded a missing model")
    };
    assert!(err.to_string().contains("WHISPER_MODEL"), "{err}");
}

#[test]
fn a_mono_recording_is_cut_into_sentences_and_stereo_keeps_segments() {
    let Some(engine) = tiny_en() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    support::speak(AGENT, p("agent.wav").as_ref());
    // The same speech as the left channel of a stereo file, the right one silent.
    support::run(
        "sox",
        &[&p("agent.wav"), &p("stereo.wav"), "remix", "1", "0"],
    );
    let transcribe = |file: &str| {
        let audio = decode(&std::fs::read(p(file)).unwrap(), DecodeLimits::default()).unwrap();
        engine.transcribe(&audio).unwrap().utterances
    };
    let mono = transcribe("agent.wav");
    let texts: Vec<&str> = mono.iter().map(|u| u.text.as_str()).collect();
    eprintln!("mono: {texts:?}");
    assert!(mono.len() >= 3, "one utterance per sentence: {texts:?}");
    assert!(texts.iter().all(|t| t.ends_with(['.', '?'])), "{texts:?}");
    for pair in mono.windows(2) {
        assert!(pair[0].start_ms <= pair[0].end_ms && pair[0].end_ms <= pair[1].start_ms + 10);
    }
    let joined = texts.join(" ");
    assert!(word_error_rate(AGENT, &joined) <= 0.15, "{joined}");

    let stereo = transcribe("stereo.wav");
    assert!(
        stereo.len() < mono.len(),
        "stereo keeps whisper's segments: {stereo:?}"
    );
}

#[test]
fn a_channels_long_silence_is_cut_and_each_side_keeps_its_own_time() {
    let Some(engine) = tiny_en() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    support::speak(AGENT, p("first.wav").as_ref());
    support::speak(CUSTOMER, p("second.wav").as_ref());
    // One channel: a sentence, 20 s of silence (the other party's turn), another sentence; the
    // other channel silent.
    support::run(
        "sox",
        &[&p("first.wav"), &p("first_padded.wav"), "pad", "0", "20"],
    );
    support::run(
        "sox",
        &[&p("first_padded.wav"), &p("second.wav"), &p("channel.wav")],
    );
    support::run(
        "sox",
        &[&p("channel.wav"), &p("stereo.wav"), "remix", "1", "0"],
    );
    let first = decode(
        &std::fs::read(p("first.wav")).unwrap(),
        DecodeLimits::default(),
    )
    .unwrap();
    let first_ms = (first.duration_seconds() * 1000.0) as u64;
    let second_at_ms = first_ms + 20_000;

    let audio = decode(
        &std::fs::read(p("stereo.wav")).unwrap(),
        DecodeLimits::default(),
    )
    .unwrap();
    let utterances = engine.transcribe(&audio).unwrap().utterances;
    eprintln!("{utterances:#?}");
    let text = |range: &dyn Fn(u64) -> bool| {
        utterances
            .iter()
            .filter(|u| range(u.start_ms))
            .map(|u| u.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let before = text(&|start| start < first_ms);
    let after = text(&|start| start >= second_at_ms - 300);
    assert!(word_error_rate(AGENT, &before) <= 0.15, "{before}");
    assert!(word_error_rate(CUSTOMER, &after) <= 0.15, "{after}");
    for u in &utterances {
        let inside = |ms: u64| ms > first_ms + 500 && ms + 500 < second_at_ms;
        let spans_it = u.start_ms < first_ms && u.end_ms > second_at_ms;
        assert!(
            !(inside(u.start_ms) || inside(u.end_ms) || spans_it),
            "no utterance runs into the silence: {u:?}"
        );
    }
}

#[test]
fn a_short_reply_is_heard_though_the_encoder_reads_only_the_positions_it_fills() {
    let Some(engine) = tiny_en() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (i, reply) in ["Okay.", "Yes, please."].iter().enumerate() {
        let path = dir.path().join(format!("reply{i}.wav"));
        support::speak(reply, &path);
        let audio = decode(&std::fs::read(&path).unwrap(), DecodeLimits::default()).unwrap();
        assert!(audio.duration_seconds() < 2.0);
        let utterances = engine.transcribe(&audio).unwrap().utterances;
        let heard: Vec<&str> = utterances.iter().map(|u| u.text.as_str()).collect();
        assert!(
            word_error_rate(reply, &heard.join(" ")) == 0.0,
            "{reply:?} heard as {heard:?}"
        );
    }
}
