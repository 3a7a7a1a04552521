//! `switchboard import <dir> --tenant <id>`: a folder of recordings through the same ingest as
//! uploads. Idempotent and resumable: a recording already imported (same bytes, or same
//! `recording_id` in its metadata) is reported as a duplicate, so an interrupted import is
//! finished by running it again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};
use switchboard_store::ingest::{self, NewRecording};

use crate::context::Context;

const AUDIO_EXTENSIONS: &[&str] = &["wav", "mp3", "flac", "ogg"];

fn recordings(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_lowercase().as_str()))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// CSV rows keyed by their `file` column (a file name or a path relative to the folder).
fn csv_metadata(path: &Path) -> anyhow::Result<HashMap<String, Map<String, Value>>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    if !headers.iter().any(|h| h == "file") {
        bail!(
            "{} needs a `file` column naming each recording",
            path.display()
        );
    }
    let mut rows = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{} row {}", path.display(), line + 2))?;
        let mut meta = Map::new();
        let mut file = None;
        for (header, value) in headers.iter().zip(record.iter()) {
            if header == "file" {
                file = Some(value.to_owned());
            } else if !value.is_empty() {
                meta.insert(header.to_owned(), Value::String(value.to_owned()));
            }
        }
        if let Some(file) = file {
            rows.insert(file, meta);
        }
    }
    Ok(rows)
}

fn sidecar(recording: &Path) -> anyhow::Result<Option<Value>> {
    let path = recording.with_extension("json");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    Ok(Some(value))
}

pub async fn run(
    context: &Context,
    dir: &Path,
    tenant: &str,
    csv: Option<&Path>,
) -> anyhow::Result<()> {
    let files = recordings(dir)?;
    let csv_path = csv
        .map(Path::to_path_buf)
        .or_else(|| Some(dir.join("metadata.csv")).filter(|p| p.exists()));
    let csv_rows = match &csv_path {
        Some(path) => csv_metadata(path)?,
        None => HashMap::new(),
    };
    let scope = context.tenant_scope(tenant, "calls (import)").await?;

    let progress = ProgressBar::new(files.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut imported, mut duplicates, mut failed) = (0, 0, 0);
    for file in &files {
        let relative = file
            .strip_prefix(dir)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned();
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        progress.set_message(relative.clone());
        let meta = match sidecar(file) {
            Ok(Some(meta)) => Some(meta),
            Ok(None) => csv_rows
                .get(&relative)
                .or_else(|| csv_rows.get(&name))
                .cloned()
                .map(Value::Object),
            Err(err) => {
                progress.suspend(|| eprintln!("failed {relative}: {err:#}"));
                failed += 1;
                progress.inc(1);
                continue;
            }
        };
        let result = match tokio::fs::read(file).await {
            Ok(audio) => ingest::accept(
                &context.db,
                &context.storage,
                &scope,
                NewRecording {
                    audio: Bytes::from(audio),
                    meta,
                    source: "import".into(),
                    provider_recording_id: None,
                },
            )
            .await
            .map_err(anyhow::Error::from),
            Err(err) => Err(err.into()),
        };
        match result {
            Ok(accepted) if accepted.duplicate => duplicates += 1,
            Ok(_) => imported += 1,
            Err(err) => {
                progress.suspend(|| eprintln!("failed {relative}: {err:#}"));
                failed += 1;
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    println!(
        "imported {imported}, already present {duplicates}, failed {failed} (of {} recordings)",
        files.len()
    );
    if failed > 0 {
        bail!("{failed} recordings could not be imported; fix them and run the import again");
    }
    Ok(())
}
