//! Throughput of the embedded models: MiniLM sentences/s at batch 1 and 32, Resemblyzer's
//! voice encoder on a minute of mono audio, SmolLM2 tokens/s. Needs the fetched models:
//! `SWITCHBOARD_TEST_MODELS=<data dir> cargo bench -p switchboard-engines --features candle --bench models`
//! `BENCH_ONLY=minilm` stops after MiniLM (for profiling it alone).

use std::time::Instant;

fn main() {
    #[cfg(feature = "candle")]
    run();
    #[cfg(not(feature = "candle"))]
    eprintln!("build with --features candle");
}

#[cfg(feature = "candle")]
fn run() {
    use switchboard_engines::embeddings::Embedder;
    use switchboard_engines::embeddings::minilm::MiniLm;
    use switchboard_engines::llm::local::LocalLlm;
    use switchboard_engines::llm::{ChatOptions, LanguageModel, Message};
    use switchboard_engines::models::ModelFiles;

    let Some(data) = std::env::var_os("SWITCHBOARD_TEST_MODELS") else {
        eprintln!("set SWITCHBOARD_TEST_MODELS to a data dir with fetched models");
        return;
    };
    let files = ModelFiles::under(std::path::Path::new(&data));
    let sentences: Vec<String> = (0..256)
        .map(|i| format!("Customer {i} asked to change the address on policy number {} before the renewal date.", 1000 + i))
        .collect();
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let minilm = MiniLm::load(&files.minilm_dir()).unwrap();
    minilm.embed_batch(&texts[..8]).unwrap();
    for batch in [1usize, 32] {
        let started = Instant::now();
        for chunk in texts.chunks(batch) {
            minilm.embed_batch(chunk).unwrap();
        }
        let rate = texts.len() as f64 / started.elapsed().as_secs_f64();
        println!("embeddings all-MiniLM-L6-v2 batch {batch:>2}: {rate:.0} sentences/s");
    }
    call_utterances(&minilm);
    if std::env::var("BENCH_ONLY").is_ok_and(|only| only == "minilm") {
        return;
    }

    voices(&files);

    let loading = Instant::now();
    let llm = LocalLlm::load(&files.smollm2()).unwrap();
    println!(
        "local LLM SmolLM2-135M: loaded (Q4_1 file requantised to Q8_0) in {:.2} s",
        loading.elapsed().as_secs_f64()
    );
    let messages = [Message::user(
        "Write three sentences about fixing a leaking boiler.",
    )];
    let options = ChatOptions {
        max_tokens: 64,
        temperature: 0.0,
    };
    llm.chat(
        &messages,
        &ChatOptions {
            max_tokens: 4,
            temperature: 0.0,
        },
    )
    .unwrap();
    let started = Instant::now();
    let reply = llm.chat(&messages, &options).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "local LLM SmolLM2-135M (run as Q8_0): {} prompt + {} generated tokens in {seconds:.2} s = {:.1} generated tokens/s",
        reply.input_tokens,
        reply.output_tokens,
        reply.output_tokens as f64 / seconds
    );
}

/// What analysing a call asks of MiniLM: the sample calls' utterances (3–40 tokens), one batch
/// per call, as the extractive summary embeds them.
#[cfg(feature = "candle")]
fn call_utterances(minilm: &switchboard_engines::embeddings::minilm::MiniLm) {
    use switchboard_engines::embeddings::Embedder;
    let dialogues: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../cli/src/commands/sample_dialogues.json")).unwrap();
    let calls: Vec<Vec<&str>> = dialogues
        .iter()
        .map(|d| {
            d["turns"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t["text"].as_str())
                .collect()
        })
        .collect();
    let utterances: usize = calls.iter().map(Vec::len).sum();
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        for call in &calls {
            minilm.embed_batch(call).unwrap();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "embeddings all-MiniLM-L6-v2, a call's utterances per batch: {:.0} sentences/s ({:.1} ms per call)",
        (rounds * utterances) as f64 / seconds,
        seconds * 1000.0 / (rounds * calls.len()) as f64
    );
}

/// The voice encoder on a 60 s mono recording cut into 20 utterances of 2.5 s (the work depends on
/// the audio's length, not on what is said, so a harmonic signal stands in for speech).
#[cfg(feature = "candle")]
fn voices(files: &switchboard_engines::models::ModelFiles) {
    use switchboard_engines::voice::VoiceEmbedder;
    use switchboard_engines::voice::resemblyzer::Resemblyzer;

    let encoder = Resemblyzer::load(&files.voice_encoder()).unwrap();
    let samples: Vec<f32> = (0..60 * 16_000)
        .map(|i| {
            let t = i as f32 / 16_000.0;
            let f0 = 120.0 + 40.0 * (t * 0.7).sin();
            (1..6)
                .map(|h| (2.0 * std::f32::consts::PI * f0 * h as f32 * t).sin() / h as f32)
                .sum::<f32>()
                * 0.1
        })
        .collect();
    let spans: Vec<(u64, u64)> = (0..20).map(|i| (i * 3000, i * 3000 + 2500)).collect();
    encoder.embed_spans(&samples, &spans[..2]).unwrap();
    let started = Instant::now();
    let rounds = 3;
    for _ in 0..rounds {
        encoder.embed_spans(&samples, &spans).unwrap();
    }
    let seconds = started.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "voice encoder resemblyzer: 60 s mono call, 20 utterances of 2.5 s: {:.0} ms per call ({:.0}x real time)",
        seconds * 1000.0,
        60.0 / seconds
    );
}
