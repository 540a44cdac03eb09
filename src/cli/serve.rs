//! `confbot serve-interactions`: a stateless replica answering Discord's HTTP interactions
//! (`POST /interactions`), until SIGTERM or Ctrl-C. Reminders are not delivered here: run
//! one or more `confbot run` workers on the same database for that. With `[http] listen`
//! the operations endpoint (`/healthz`, `/metrics`) runs too; health then means the
//! database answers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Settings;
use crate::discord::{self, endpoint};
use crate::jobs::Outcomes;
use crate::ops::{self, Ops, Parts};

/// Arguments of `confbot serve-interactions`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Where to listen for Discord's requests; default `interactions.listen`
    /// (127.0.0.1:8080). Point the application's Interactions Endpoint URL at
    /// `https://<your host>/interactions` (TLS ends at the load balancer).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,
}

pub async fn run(settings: &Settings, args: ServeArgs) -> anyhow::Result<()> {
    // Checked before connecting to the database, so a missing key fails at once.
    endpoint::check_settings(settings)?;
    let pool = super::connect_configured(settings).await?;
    let addr = args.listen.unwrap_or(settings.interactions.listen);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (interactions.listen or --listen)"))?;
    let ops_listener = match settings.http.listen {
        Some(addr) => Some(ops::bind(addr).await?),
        None => None,
    };
    let telemetry = Arc::new(discord::Telemetry::default());
    let (stop, stopping) = watch::channel(false);
    let operations = async {
        if let Some(listener) = ops_listener {
            let ops = Arc::new(Ops {
                pool: pool.clone(),
                invalid: Arc::default(),
                telemetry: Arc::clone(&telemetry),
                outcomes: Arc::new(Outcomes::default()),
                delivery_stale_after: Duration::MAX,
                parts: Parts::INTERACTIONS,
            });
            ops::serve(listener, ops, super::run::wait_for(stopping.clone())).await;
        }
    };
    let served = async {
        let served = endpoint::serve(
            settings,
            pool.clone(),
            listener,
            Arc::clone(&telemetry),
            super::run::wait_for(stopping.clone()),
        )
        .await;
        let _ = stop.send(true);
        served
    };
    let signals = async {
        tokio::select! {
            () = super::run::stop_requested() => {
                let _ = stop.send(true);
            }
            () = super::run::wait_for(stopping.clone()) => {}
        }
    };
    let (served, (), ()) = tokio::join!(served, operations, signals);
    pool.close().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}
