//! `switchboard models fetch` and `switchboard transcribe`.

use std::path::Path;

use anyhow::Context as _;
use switchboard_engines::audio;
use switchboard_engines::models::{self, FetchOptions};

use crate::cli::ModelsCommand;
use crate::settings::Settings;

pub fn run(settings: &Settings, command: ModelsCommand) -> anyhow::Result<()> {
    match command {
        ModelsCommand::Fetch { with_base } => fetch(settings, FetchOptions { with_base }),
        ModelsCommand::Check => check(settings),
    }
}

/// Loads each engine and runs one small input through it.
fn check(settings: &Settings) -> anyhow::Result<()> {
    #[cfg(feature = "models")]
    use switchboard_engines::embeddings::Embedder as _;
    use switchboard_engines::llm::{ChatOptions, Message};

    let asr = settings.asr()?.build()?;
    let silence = audio::DecodedAudio {
        source_rate: audio::TARGET_RATE,
        channels: vec![vec![0.0; audio::TARGET_RATE as usize]],
    };
    asr.transcribe(&silence)?;
    let info = asr.info();
    println!("speech-to-text: {} {} — ok", info.engine, info.model);

    #[cfg(feature = "models")]
    {
        let precision = settings.embedding_precision()?;
        let embedder = switchboard_engines::embeddings::minilm::MiniLm::load_at(
            &settings.embedding_model_dir(),
            precision,
        )?;
        embedder.embed("hello")?;
        println!(
            "embeddings: {} (dense layers in {}) — ok",
            embedder.model(),
            precision.in_force()
        );

        use switchboard_engines::voice::VoiceEmbedder as _;
        let voices =
            switchboard_engines::voice::resemblyzer::Resemblyzer::load(&settings.voice_model())?;
        voices.embed_spans(&[0.0; 16_000], &[(0, 1000)])?;
        println!("voices: {} — ok", voices.model());
    }
    #[cfg(not(feature = "models"))]
    let _ = (settings.embedding_model_dir(), settings.voice_model());

    let llm = settings.llm()?.build()?;
    let reply = llm.chat(
        &[Message::user("Reply with the word ready.")],
        &ChatOptions {
            max_tokens: 8,
            temperature: 0.0,
        },
    )?;
    let info = llm.info();
    println!(
        "language model: {} {} — ok ({} tokens)",
        info.engine, info.model, reply.output_tokens
    );
    Ok(())
}

/// Makes sure the default models are in place (used by `demo` too).
pub fn fetch(settings: &Settings, options: FetchOptions) -> anyhow::Result<()> {
    let files = settings.model_files();
    let placed = models::fetch(&files, options, &mut |line| eprintln!("models: {line}"))?;
    for path in placed {
        println!("{}", path.display());
    }
    Ok(())
}

pub async fn transcribe(
    settings: &Settings,
    file: &Path,
    json: bool,
    voices: bool,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let limits = settings.decode_limits();
    let engine = settings.asr()?;
    let voice_model = settings.voice_model();
    let (transcript, speakers) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let decoded = audio::decode(&bytes, limits)?;
        let engine = engine.build()?;
        let transcript = engine.transcribe(&decoded)?;
        let speakers = if voices {
            mono_speakers(&voice_model, &decoded, &transcript)?
        } else {
            None
        };
        Ok((transcript, speakers))
    })
    .await??;
    if json {
        let mut value = serde_json::to_value(&transcript)?;
        if let Some(speakers) = &speakers {
            value["speakers"] = serde_json::json!(speakers);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        for (i, u) in transcript.utterances.iter().enumerate() {
            let who = match &speakers {
                Some(speakers) => format!("spk{}", speakers[i]),
                None => format!("ch{}", u.channel),
            };
            println!(
                "[{:>7.2}–{:>7.2}] {who} ({:.2}) {}",
                u.start_ms as f64 / 1000.0,
                u.end_ms as f64 / 1000.0,
                u.confidence,
                u.text
            );
        }
    }
    Ok(())
}

/// A mono recording's voices told apart (0 = the first to speak), as the pipeline does.
#[cfg(feature = "models")]
fn mono_speakers(
    voice_model: &Path,
    decoded: &audio::DecodedAudio,
    transcript: &switchboard_engines::asr::Transcript,
) -> anyhow::Result<Option<Vec<usize>>> {
    use switchboard_engines::voice;
    let Some(mono) = voice::mono_channel(decoded, &transcript.utterances) else {
        return Ok(None);
    };
    let encoder = voice::resemblyzer::Resemblyzer::load(voice_model)?;
    Ok(Some(voice::speakers(
        &encoder,
        mono,
        &transcript.utterances,
    )?))
}

#[cfg(not(feature = "models"))]
fn mono_speakers(
    _: &Path,
    _: &audio::DecodedAudio,
    _: &switchboard_engines::asr::Transcript,
) -> anyhow::Result<Option<Vec<usize>>> {
    Ok(None)
}
