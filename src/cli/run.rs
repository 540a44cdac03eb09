//! `confbot run`: the bot itself, until SIGTERM or Ctrl-C.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Settings;
use crate::discord;

/// Connects to the database and to Discord and answers interactions until stopped.
pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    // Checked before connecting to the database, so a missing token fails at once.
    discord::token(settings)?;
    let pool = super::connect_configured(settings).await?;
    // Notified on every subscription, lead or channel change; the reminder planner will
    // listen on it.
    let plan_changed = Arc::new(Notify::new());
    discord::run(settings, pool, plan_changed, stop_requested()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM (what `docker stop` and systemd send).
async fn stop_requested() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::error!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
