//! `confbot run`: the bot itself, until SIGTERM or Ctrl-C: the Discord gateway answering
//! interactions, the scheduler planning and delivering reminders, and (with `[web] listen`)
//! the web surface: `/healthz`, `/metrics` and the calendar feeds. With `--no-gateway` it is a delivery worker only, for
//! deployments whose commands are answered by `confbot serve-interactions` replicas.

use std::sync::Arc;

use tokio::sync::{watch, Notify};

use crate::config::Settings;
use crate::discord::{self, sender::DiscordSender};
use crate::jobs::{self, Clock, DeliveryOptions, PlanSettings, Setup, SyncSettings};
use crate::ops::{self, Ops};
use crate::store::programme::Snapshots;
use crate::web;

/// Arguments of `confbot run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A delivery worker only: no gateway connection and no command registration. For
    /// deployments where `confbot serve-interactions` replicas answer the commands.
    #[arg(long, env = "CONFBOT_NO_GATEWAY")]
    pub no_gateway: bool,
}

/// Connects to the database and to Discord, answers interactions and delivers reminders
/// until stopped. When either half ends for good (a rejected token), the other is stopped.
pub async fn run(settings: &Settings, args: RunArgs) -> anyhow::Result<()> {
    // Checked before connecting to the database, so a missing token fails at once.
    let token = discord::token(settings)?.clone();
    let pool = super::connect_configured(settings).await?;
    let base = settings
        .discord
        .proxy_url
        .as_ref()
        .map_or("https://discord.com", |url| url.as_str());
    let options = DeliveryOptions::from_settings(worker_name(), &settings.reminders);
    let timeout = options
        .request_timeout()
        .min(discord::sender::REQUEST_TIMEOUT);
    let sender =
        DiscordSender::with_timeout(base, token, settings.reminders.rate_per_second, timeout)?;
    let invalid = sender.invalid_requests();
    let rest = sender.rest();
    // Bound before anything connects: a taken port fails the start, not a scrape later.
    let listeners = web::bind_all(&settings.run_listeners()).await?;
    let (stop, stopping) = watch::channel(false);
    let plan_changed = Arc::new(Notify::new());
    let telemetry = Arc::new(discord::Telemetry::default());
    let outcomes = Arc::new(jobs::Outcomes::default());
    // The loop looks at least every `max_sleep`; one missed turn is tolerated.
    let stale_after = options.max_sleep * 2;
    // One programme snapshot per conference version for the planner, the commands and the
    // feeds.
    let snapshots = Arc::new(Snapshots::default());
    let feeds = web::feeds::Feeds::from_settings(settings, pool.clone(), Arc::clone(&snapshots))?;
    let endpoint = async {
        if !listeners.is_empty() {
            let ops = Arc::new(Ops {
                pool: pool.clone(),
                invalid: Arc::clone(&invalid),
                telemetry: Arc::clone(&telemetry),
                outcomes: Arc::clone(&outcomes),
                delivery_stale_after: stale_after,
                parts: ops::Parts {
                    gateway: !args.no_gateway,
                    delivery: true,
                },
            });
            let site = web::Site {
                ops: Some(ops),
                interactions: None,
                feeds: Some(feeds),
            };
            site.serve(listeners, wait_for(stopping.clone())).await;
        }
    };
    let setup = Setup {
        plan: PlanSettings::from_settings(settings),
        clock: Clock::wall(),
        delivery: options,
        plan_changed: Arc::clone(&plan_changed),
        outcomes: Arc::clone(&outcomes),
        sync: Some(SyncSettings {
            import: settings.import.clone(),
            default_zone: settings.defaults.time_zone,
        }),
        snapshots: Arc::clone(&snapshots),
    };
    let scheduler = jobs::run(pool.clone(), sender, setup, wait_for(stopping.clone()));
    let bot = async {
        if args.no_gateway {
            tracing::info!("delivery worker only: no Discord gateway connection");
            wait_for(stopping.clone()).await;
            return Ok(());
        }
        let ended = discord::run_observed(
            settings,
            pool.clone(),
            Arc::clone(&plan_changed),
            Arc::clone(&telemetry),
            Arc::clone(&snapshots),
            rest,
            wait_for(stopping.clone()),
        )
        .await;
        // The bot is gone (stopped or failed): stop the scheduler too.
        let _ = stop.send(true);
        ended
    };
    let signals = async {
        tokio::select! {
            () = stop_requested() => {
                let _ = stop.send(true);
            }
            () = wait_for(stopping.clone()) => {}
        }
    };
    let (bot, scheduler, (), ()) = tokio::join!(bot, scheduler, signals, endpoint);
    pool.close().await;
    bot?;
    scheduler?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes once a stop was requested.
pub(super) async fn wait_for(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// This process's name in outbox claims: host and process id, unique among the processes
/// sharing a database.
fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "confbot".to_owned());
    // Containers all run as pid 1: the start time tells two of them apart anyway.
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("{host}-{}-{started:08x}", std::process::id())
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM (what `docker stop` and systemd send).
pub(super) async fn stop_requested() {
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
