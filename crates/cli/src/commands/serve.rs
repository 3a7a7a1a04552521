//! `switchboard serve`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use switchboard_ingest::SyncContext;
use switchboard_pipeline::Engines;
use switchboard_server::receptionist::Receptionist;
use switchboard_server::{AppState, router};
use switchboard_store::auth::Authenticator;
use switchboard_store::auth::jwt::JwtVerifier;
use switchboard_store::group_commit::GroupCommit;

use crate::context::Context;

/// The server's state over the context, with the receptionist on `engines`.
pub fn app_state(context: &Context, engines: Arc<Engines>) -> anyhow::Result<AppState> {
    let issuers = context.settings.issuers();
    let jwt = if issuers.is_empty() {
        None
    } else {
        Some(JwtVerifier::new(issuers).context("OIDC issuer configuration")?)
    };
    Ok(AppState {
        auth: Authenticator::new(context.db.clone(), jwt),
        db: context.db.clone(),
        commits: Arc::new(GroupCommit::new(context.db.clone())),
        storage: context.storage.clone(),
        keyring: Arc::new(context.keyring.clone()),
        config: Arc::new(context.settings.server()),
        receptionist: Arc::new(Receptionist::new(
            Some(engines),
            context.settings.platform_twilio(),
        )),
    })
}

pub async fn serve(
    context: Context,
    addr: SocketAddr,
    banner: Option<String>,
) -> anyhow::Result<()> {
    let interval = context.settings.ingest_interval_secs;
    if interval > 0 {
        let mut ctx = SyncContext::new(
            context.db.clone(),
            context.storage.clone(),
            Arc::new(context.keyring.clone()),
        );
        ctx.request_timeout = context.settings.server().provider_timeout;
        let operator = context.operator.clone();
        tokio::spawn(switchboard_ingest::scheduler::run(
            ctx,
            operator,
            std::time::Duration::from_secs(interval),
            std::future::pending(),
        ));
    }
    // The embedded shape: pipeline workers in this process, stopped after the server drains.
    let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
    let engines = Arc::new(super::worker::engines(&context.settings)?);
    let workers = match context.settings.workers {
        0 => None,
        n => {
            let pipeline = super::worker::pipeline(&context, engines.clone());
            Some(tokio::spawn(pipeline.run_workers(
                super::worker::worker_name(),
                n,
                workers_stopped,
            )))
        }
    };
    let state = app_state(&context, engines)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    println!("switchboard listening on http://{local}");
    if let Some(banner) = banner {
        println!("{banner}");
    }
    tracing::info!(addr = %local, "listening");
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving");
    let _ = stop_workers.send(true);
    if let Some(workers) = workers {
        let _ = workers.await;
    }
    served
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
