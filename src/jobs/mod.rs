//! The scheduler: keeps the reminder outbox in step with the plan and delivers it.
//!
//! - [`planner`]: replans a conference whenever something may have changed: a
//!   `confbot_plan` notification from PostgreSQL (any process's import, subscription, lead
//!   or channel change), a change made in this process, and a reconciliation sweep that
//!   tokio-cron-scheduler runs every minute (it also catches notifications missed while
//!   the listening connection was reconnecting; a reminder plan unchanged since this
//!   process applied it is left alone by the sweep, and applied in full every
//!   [`planner::FULL_EVERY`]).
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
pub mod planner;
pub mod retention;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{mpsc, watch, Notify};
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::store::programme::Snapshots;

pub use clock::Clock;
pub use deliver::{Deliver, Recipient, SendError};
pub use delivery::DeliveryOptions;
pub use lease::Claim;
pub use outcomes::{Outcome, OutcomeCounts, Outcomes};
pub use planner::{PlanSettings, Planner, Replanned};

/// The PostgreSQL notification channel of plan changes; the payload is a conference id.
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
    /// Notified by this process's Discord handlers after a subscription, lead or channel
    /// change; the same change also arrives as a PostgreSQL notification, which is what
    /// other processes see.
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

    let planning = plan_loop(
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

/// What the plan loop has to replan next.
#[derive(Debug, Default)]
struct Pending {
    /// Every conference, each plan applied in full.
    all: bool,
    /// The minute sweep: every conference, unchanged reminder plans left alone.
    sweep: bool,
    conferences: BTreeSet<i64>,
}

async fn plan_loop(
    mut planner: Planner,
    pool: PgPool,
    clock: Clock,
    plan_changed: Arc<Notify>,
    wake_delivery: Arc<Notify>,
    mut sweeps: mpsc::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    let mut listener = listen(&pool).await;
    // Everything once at start: changes made while no planner ran.
    let mut pending = Pending {
        all: true,
        ..Pending::default()
    };
    loop {
        if pending.all || pending.sweep || !pending.conferences.is_empty() {
            let work = std::mem::take(&mut pending);
            let now = clock.now();
            let done = if work.all {
                planner.replan_all(now).await
            } else {
                let mut total = Ok(Replanned::default());
                for id in work.conferences {
                    total = planner.replan_id(id, now).await;
                    if total.is_err() {
                        break;
                    }
                }
                // After the changed ones, whose plans it then finds applied.
                if work.sweep && total.is_ok() {
                    total = planner.sweep(now).await;
                }
                total
            };
            match done {
                Ok(done) if done.touched_outbox() => wake_delivery.notify_one(),
                Ok(_) => {}
                // Logged with its causes by the planner's span; the next sweep retries.
                Err(_) => pending.all = true,
            }
            continue;
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = plan_changed.notified() => pending.all = true,
            Some(()) = sweeps.recv() => pending.sweep = true,
            notification = next_notification(&mut listener) => match notification {
                Some(id) => {
                    match id {
                        Some(id) => pending.conferences.insert(id),
                        None => std::mem::replace(&mut pending.all, true),
                    };
                    drain(&mut listener, &mut pending).await;
                }
                None => {
                    // The listener is gone: after a pause, listen anew and replan
                    // everything (notifications may have been missed meanwhile).
                    tokio::select! {
                        _ = stop.changed() => return,
                        () = tokio::time::sleep(RELISTEN_AFTER) => {}
                    }
                    listener = listen(&pool).await;
                    pending.all = true;
                }
            },
        }
    }
}

/// A listener on [`PLAN_CHANNEL`], or `None` (logged) when the database does not answer.
async fn listen(pool: &PgPool) -> Option<PgListener> {
    let listener = async {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(PLAN_CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match listener.await {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!("cannot listen for plan changes (the sweep still runs): {error}");
            None
        }
    }
}

/// The next notification: `Some(Some(id))` names a conference, `Some(None)` a payload that
/// is no id (replan everything); `None` when the listener failed or there is none.
async fn next_notification(listener: &mut Option<PgListener>) -> Option<Option<i64>> {
    let active = listener.as_mut()?;
    match active.recv().await {
        Ok(notification) => Some(notification.payload().parse().ok()),
        Err(error) => {
            tracing::warn!("lost the plan-change listener: {error}");
            *listener = None;
            None
        }
    }
}

/// Takes the notifications already buffered, so a burst (a bulk import, a fan of clicks)
/// costs one replan per conference.
async fn drain(listener: &mut Option<PgListener>, pending: &mut Pending) {
    let Some(active) = listener.as_mut() else {
        return;
    };
    while let Ok(Ok(notification)) =
        tokio::time::timeout(Duration::from_millis(5), active.recv()).await
    {
        match notification.payload().parse() {
            Ok(id) => {
                pending.conferences.insert(id);
            }
            Err(_) => pending.all = true,
        }
    }
}
