//! `confbot serve-interactions`: a stateless replica answering Discord's HTTP interactions
//! (`POST /interactions`), until SIGTERM or Ctrl-C. Reminders are not delivered here: run
//! one or more `confbot run` workers on the same database for that. The same listener
//! serves the rest of the web surface: `/healthz` (healthy when the database answers),
//! `/metrics` and the calendar feeds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::Settings;
use crate::discord::{self, endpoint};
use crate::jobs::Outcomes;
use crate::ops::{Ops, Parts};
use crate::web;

/// Arguments of `confbot serve-interactions`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Where to listen; default `web.listen`, else `interactions.listen` (127.0.0.1:8080).
    /// Point the application's Interactions Endpoint URL at
    /// `https://<your host>/interactions` (TLS ends at the load balancer).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,
}

pub async fn run(settings: &Settings, args: ServeArgs) -> anyhow::Result<()> {
    // Checked before connecting to the database, so a missing key fails at once.
    endpoint::check_settings(settings)?;
    let pool = super::connect_configured(settings).await?;
    let listeners = web::bind_all(&settings.serve_listeners(args.listen)).await?;
    let telemetry = Arc::new(discord::Telemetry::default());
    let interactions = endpoint::routes(settings, pool.clone(), Arc::clone(&telemetry))?;
    let ops = Arc::new(Ops {
        pool: pool.clone(),
        invalid: Arc::default(),
        telemetry: Arc::clone(&telemetry),
        outcomes: Arc::new(Outcomes::default()),
        delivery_stale_after: Duration::MAX,
        parts: Parts::INTERACTIONS,
    });
    let site = web::Site {
        ops: Some(ops),
        interactions: Some(interactions.router.clone()),
        feeds: Some(web::feeds::Feeds::from_settings(
            settings,
            pool.clone(),
            Arc::default(),
        )?),
    };
    let (stop, stopping) = watch::channel(false);
    let served = site.serve(listeners, super::run::wait_for(stopping.clone()));
    let signals = async {
        super::run::stop_requested().await;
        let _ = stop.send(true);
    };
    tokio::join!(served, signals);
    interactions.finish().await;
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}
