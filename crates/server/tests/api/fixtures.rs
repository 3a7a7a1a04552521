//! Test data shared by the API tests and the benchmarks.

#![allow(dead_code)]

/// The 44-byte header of a 16-bit PCM WAV file at 8 kHz.
fn wav_header(channels: u16, frames: usize) -> Vec<u8> {
    let block = 2 * u32::from(channels);
    let data_len = frames as u32 * block;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&(8000 * block).to_le_bytes());
    out.extend_from_slice(&(block as u16).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out
}

/// A small valid WAV file (16-bit mono PCM at 8 kHz) whose samples depend on `seed`.
pub fn wav(seed: u8, samples: usize) -> Vec<u8> {
    let mut out = wav_header(1, samples);
    for i in 0..samples {
        let sample = ((i as i32 * (seed as i32 + 1) * 37) % 20000 - 10000) as i16;
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

/// A RIFF/WAVE file whose format chunk is garbage: the decoder refuses it before any model is
/// needed.
pub fn corrupt_wav(seed: u8) -> Vec<u8> {
    let mut bad = wav(seed, 400);
    for byte in &mut bad[20..36] {
        *byte = 0xEE;
    }
    bad
}

/// A small valid stereo WAV file (16-bit PCM at 8 kHz, the channels in opposite phase) whose
/// samples depend on `seed`.
pub fn stereo_wav(seed: u32, frames: usize) -> Vec<u8> {
    let mut out = wav_header(2, frames);
    for i in 0..frames as u32 {
        let sample = ((i.wrapping_mul(seed + 7) % 2000) as i16) - 1000;
        out.extend_from_slice(&sample.to_le_bytes());
        out.extend_from_slice(&(-sample).to_le_bytes());
    }
    out
}

/// A published call row with plain values (for tests that need rows in the result tables).
pub fn call_result_row(call_id: &str) -> switchboard_store::repo::results::CallResultRow {
    switchboard_store::repo::results::CallResultRow {
        call_id: call_id.to_owned(),
        version: 1,
        started_at: 1_790_000_000_000,
        ended_at: 1_790_000_060_000,
        duration_seconds: 60.0,
        direction: "inbound".into(),
        calling_party: Some("+14155550101".into()),
        called_party: Some("+18005550100".into()),
        agent_id: Some("agent@example.test".into()),
        sentiment_label: "NEUTRAL".into(),
        sentiment_score: 0.0,
        agent_sentiment_score: Some(0.1),
        customer_sentiment_score: Some(-0.1),
        positive_score: 0.1,
        neutral_score: 0.8,
        negative_score: 0.1,
        mixed_score: 0.0,
        transcript_word_count: 120,
        utterance_count: 10,
        agent_talk_ratio: Some(0.5),
        non_talk_seconds: 12.0,
        interruptions: 1,
        qa_overall_pass: true,
        qa_score: 1.0,
        summary: "A call.".into(),
        model_tokens: 0,
        row: serde_json::json!({"call_id": call_id}),
    }
}

pub fn qa_result_row(call_id: &str, rule: &str) -> switchboard_store::repo::results::QaResultRow {
    switchboard_store::repo::results::QaResultRow {
        call_id: call_id.to_owned(),
        rule_id: rule.to_owned(),
        rule_name: rule.to_owned(),
        passed: Some(true),
        reason: "said it".into(),
        evidence_start_ms: Some(1200),
    }
}
