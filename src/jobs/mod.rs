//! The scheduler: keeps the reminder outbox in step with the plan and delivers it.
//!
//! - [`planner`]: replans what changed, at the cost of what it touches: a command's own
//!   subscription or lead change in its transaction, and ([`plan_loop`]) whatever a
//!   `confbot_plan` notification from PostgreSQL names (any process's import, channel
//!   plan, or a subscription change no command planned), plus a sweep that
//!   tokio-cron-scheduler runs every minute (announcements' moving window, and a
//!   reconciliation of each conference's whole plan every [`planner::FULL_EVERY`], which
//!   also repairs what a notification lost while the listener reconnected would miss).
//! - [`delivery`]: sleeps until the next due post, claims, sends, records.
//! - [`retention`]: deletes a finished conference's personal data once its retention
//!   passed (on the same minute tick).
//! - [`clock`]: the wall clock, or a shifted/accelerated one for rehearsals and tests.
//!
//! Timers and cron only wake the loops: what is due and what was sent lives in the outbox.

pub mod clock;
pub mod deliver;
pub mod delivery;
pub mod lease;
pub mod outcomes;
mod plan_loop;
pub mod planner;
pub mod retention;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, watch, Notify};
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::store::programme::Snapshots;

pub use clock::Clock;
pub use deliver::{Deliver, Recipient, SendError};
pub use delivery::{DeliveryOptions, MAX_MARGIN};
pub use lease::Claim;
pub use outcomes::{Outcome, OutcomeCounts, Outcomes};
pub use planner::{PlanSettings, Planner, Replanned};

/// The PostgreSQL notification channel of plan changes; the payload names a conference and
/// what changed in it ([`plan_loop::Notice`]).
pub const PLAN_CHANNEL: &str = "confbot_plan";
/// tokio-cron-scheduler wakes the minute sweeps every second of real time (its cron has a
/// seconds field), and they run when the injected clock has entered a new minute
/// ([`clock::MinuteTurns`]): once a minute of wall-clock time in production, once a minute
/// of simulated time in the demo and the tests, by the same code. (The scheduler reads the
/// wall clock itself and cannot be given another.)
const WAKE: &str = "* * * * * *";
/// How long the planner waits before listening again after losing its connection.
const RELISTEN_AFTER: Duration = Duration::from_secs(5);

/// How the scheduler runs.
pub struct Setup {
    pub plan: PlanSettings,
    pub clock: Clock,
    pub delivery: DeliveryOptions,
    /// Notified by this process's Discord handlers after a change: a change they planned
    /// themselves may have queued posts due before the delivery loop's next wake. (What
    /// needs planning arrives as a PostgreSQL notification, which every process sees.)
    pub plan_changed: Arc<Notify>,
    /// Counts of delivery outcomes, for whoever watches (metrics, tests).
    pub outcomes: Arc<Outcomes>,
    /// The live schedule sync (off in rehearsals such as the demo).
    pub sync: Option<SyncSettings>,
    /// Where the planner gets its programme snapshots: `confbot run` shares this registry
    /// with the Discord command cache, so both hold one copy of a conference's programme.
    pub snapshots: Arc<Snapshots>,
}

/// What the live sync needs: the import limits and the zone of conferences a sync creates.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub import: crate::config::ImportSettings,
    pub default_zone: chrono_tz::Tz,
}

/// Runs the planner and the delivery loop until `shutdown` completes.
pub async fn run<D: Deliver>(
    pool: PgPool,
    deliver: D,
    setup: Setup,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let Setup {
        plan: plan_settings,
        clock,
        delivery: options,
        plan_changed,
        outcomes,
        sync,
        snapshots,
    } = setup;
    let deliver = Arc::new(deliver);
    let (stop_tx, stop) = watch::channel(false);
    let wake_delivery = Arc::new(Notify::new());
    let (sweep_tx, sweep_rx) = mpsc::channel::<()>(1);
    let (sync_tx, sync_rx) = mpsc::channel::<()>(1);
    let (retention_tx, retention_rx) = mpsc::channel::<()>(1);
    let mut scheduler = start_sweeps(vec![sweep_tx, sync_tx, retention_tx], clock).await?;
    let retaining = retention::retention_loop(pool.clone(), clock, retention_rx, stop.clone());
    let syncing = async {
        if let Some(settings) = &sync {
            sync_loop(
                pool.clone(),
                settings,
                Arc::clone(&deliver),
                clock,
                sync_rx,
                stop.clone(),
            )
            .await;
        }
    };

    let planning = plan_loop::plan_loop(
        Planner::sharing(pool.clone(), plan_settings, snapshots),
        pool.clone(),
        clock,
        plan_changed,
        Arc::clone(&wake_delivery),
        sweep_rx,
        stop.clone(),
    );
    let delivering = delivery::run(
        pool.clone(),
        Arc::clone(&deliver),
        clock,
        options,
        outcomes,
        wake_delivery,
        stopped(stop.clone()),
    );
    let stopper = async {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    tokio::join!(planning, delivering, syncing, retaining, stopper);
    if let Err(error) = scheduler.shutdown().await {
        tracing::warn!("stopping the sweep scheduler: {error}");
    }
    Ok(())
}

/// Waits for the next minute tick: `false` once the process is stopping (or the ticks end).
async fn next_tick(ticks: &mut mpsc::Receiver<()>, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = stop.changed() => false,
        tick = ticks.recv() => tick.is_some(),
    }
}

/// Completes once `stop` turns true.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The minute ticks of `clock`: the reconciliation sweep, the sync check and the retention
/// sweep, each fed a tick. An async job (a panicking sync job would never run again).
async fn start_sweeps(ticks: Vec<mpsc::Sender<()>>, clock: Clock) -> anyhow::Result<JobScheduler> {
    let scheduler = JobScheduler::new().await?;
    let turns = Arc::new(std::sync::Mutex::new(clock::MinuteTurns::default()));
    scheduler
        .add(Job::new_async(WAKE, move |_id, _scheduler| {
            let ticks = ticks.clone();
            let turned = crate::lock::lock(&turns).turned(clock.now());
            Box::pin(async move {
                if !turned {
                    return;
                }
                for tick in &ticks {
                    // A tick already waiting is enough.
                    let _ = tick.try_send(());
                }
            })
        })?)
        .await?;
    scheduler.start().await?;
    Ok(scheduler)
}

/// Every minute: syncs the sources that are due, and posts what the organisers should know
/// in their log channel (best effort: a lost log line loses no schedule data).
async fn sync_loop<D: Deliver>(
    pool: PgPool,
    settings: &SyncSettings,
    deliver: Arc<D>,
    clock: Clock,
    mut ticks: mpsc::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    while next_tick(&mut ticks, &mut stop).await {
        let targets = match crate::store::syncs::targets(&pool).await {
            Ok(targets) => targets,
            Err(error) => {
                tracing::warn!("reading the schedule sources failed: {error}");
                continue;
            }
        };
        for target in targets {
            let run = crate::sync::sync_target(
                &pool,
                &settings.import,
                settings.default_zone,
                &target,
                false,
                clock.now(),
            )
            .await;
            match run {
                Ok(Some(crate::sync::SyncRun {
                    log: Some(text), ..
                })) => {
                    post_to_organisers(&pool, deliver.as_ref(), target.conference_id, &text).await;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!("schedule sync bookkeeping failed: {error}"),
            }
        }
    }
}

/// Posts `text` in the organiser log channel of a server following the conference, if one
/// set it (`/setup channel organiser-log`). Failures are logged.
pub async fn post_to_organisers<D: Deliver>(
    pool: &PgPool,
    deliver: &D,
    conference_id: i64,
    text: &str,
) {
    let channel = match crate::store::guilds::organiser_log_channel(pool, conference_id).await {
        Ok(Some(channel)) => channel,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!("finding the organiser log channel failed: {error}");
            return;
        }
    };
    let message = crate::domain::commands::Message {
        content: text.to_owned(),
        ..Default::default()
    };
    // A fresh nonce: organiser log lines are not outbox rows.
    let nonce = format!(
        "log{:x}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let nonce: String = nonce.chars().take(25).collect();
    if let Err(error) = deliver
        .deliver(
            Recipient::Channel(channel),
            &message,
            &nonce,
            &Claim::unclaimed(),
        )
        .await
    {
        tracing::warn!(channel, "posting to the organiser log failed: {error}");
    }
}
