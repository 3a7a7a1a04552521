//! The bucket-drop connector (the S3-trigger flow of the source documents): a tenant's own system
//! writes recordings to `input/<t>/audio/<name>.<ext>`, optionally with `input/<t>/meta/<name>.json`.
//! Each sync lists the tenant's prefix, turns every dropped object into a call through the normal
//! ingest (provider recording id `drop:<name>`, so a drop becomes at most one call), and then
//! removes the dropped object, whose content now lives under the call's own key. Objects written by
//! ingest itself (`audio/<call id>.<ext>`) are recognised and left alone.

use switchboard_core::Area;
use switchboard_store::ingest::{self, NewRecording};
use switchboard_store::repo::calls;
use switchboard_store::repo::syncs::SyncRun;
use switchboard_store::{StoreError, TenantScope};

use crate::sync::{SyncContext, note};

fn stem(name: &str) -> Option<&str> {
    let file = name.strip_prefix("audio/")?;
    if file.contains('/') {
        return None;
    }
    Some(file.rsplit_once('.').map_or(file, |(stem, _)| stem))
}

pub(crate) async fn sync(
    ctx: &SyncContext,
    scope: &TenantScope,
    run: &mut SyncRun,
) -> Result<(), String> {
    let objects = ctx.storage.tenant(scope).map_err(|e| e.to_string())?;
    let names = objects
        .list(Area::Input, Some("audio"))
        .await
        .map_err(|e| e.to_string())?;
    for name in names {
        let Some(stem) = stem(&name) else { continue };
        let recording_id = format!("drop:{name}");
        let mut tx = ctx.db.read(scope).await.map_err(|e| e.to_string())?;
        let own = calls::get(&mut tx, stem)
            .await
            .map_err(|e| e.to_string())?
            .is_some();
        let done = calls::find_by_recording_id(&mut tx, &recording_id)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        if own {
            continue;
        }
        let meta_name = format!("meta/{stem}.json");
        if done.is_none() {
            let audio = match objects.get(Area::Input, &name).await {
                Ok(audio) => audio,
                Err(err) => {
                    note(run, Some(&recording_id), err.to_string());
                    continue;
                }
            };
            let meta = match objects.get(Area::Input, &meta_name).await {
                Ok(bytes) => match serde_json::from_slice(&bytes) {
                    Ok(meta) => Some(meta),
                    Err(_) => {
                        note(
                            run,
                            Some(&recording_id),
                            format!("{meta_name} is not valid JSON"),
                        );
                        continue;
                    }
                },
                Err(StoreError::NotFound(_)) => None,
                Err(err) => {
                    note(run, Some(&recording_id), err.to_string());
                    continue;
                }
            };
            let recording = NewRecording {
                audio,
                meta,
                source: "provider:bucket-drop".into(),
                provider_recording_id: Some(recording_id.clone()),
            };
            match ingest::accept(&ctx.db, &ctx.storage, scope, recording).await {
                Ok(accepted) if accepted.duplicate => run.skipped += 1,
                Ok(_) => run.fetched += 1,
                Err(err) => {
                    note(run, Some(&recording_id), err.to_string());
                    continue;
                }
            }
        } else {
            run.skipped += 1;
        }
        // The call holds its own copy now; the drop is consumed.
        objects
            .delete(Area::Input, &name)
            .await
            .map_err(|e| e.to_string())?;
        objects
            .delete(Area::Input, &meta_name)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
