//! The delivery loop: sleeps until the outbox's next due post (or until woken because the
//! plan changed), claims what is due under a lease, sends each post through [`Deliver`] at
//! the paced rate and records the outcome. The outbox row is the truth throughout: a crash
//! at any point leaves rows that are either recorded or claimed, and a claimed row whose
//! lease ran out is sent again with the same nonce, which Discord answers with the first
//! message instead of a duplicate.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use super::clock::Clock;
use super::deliver::{Deliver, SendError};
use super::outcomes::{Outcome, Outcomes};
use crate::domain::reminders::{decide, Decision, Target};
use crate::store::outbox::{self, OutboxEntry};

/// How the loop works; [`DeliveryOptions::for_rate`] gives the production values.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// This worker's name in claims (unique per process).
    pub worker: String,
    /// How long a claim holds. Well under Discord's nonce window (a few minutes), so a
    /// crashed worker's sends are retried while Discord still recognises the nonce.
    pub lease: Duration,
    /// Rows claimed at once: about a quarter second of sends at the sender's rate, so a
    /// channel post that falls due during a long DM fan-out waits at most that long.
    pub batch: u32,
    /// Sends in flight at once (Discord answers in tens of milliseconds; one at a time
    /// could not reach the allowed rate).
    pub concurrency: usize,
    /// Failed attempts after which a temporary failure is given up.
    pub max_attempts: i32,
    /// The longest sleep: the loop looks at the outbox at least this often, for posts
    /// another process queued (that process delivers them too; this only bounds a gap).
    pub max_sleep: Duration,
}

impl DeliveryOptions {
    /// Production values for a paced rate.
    pub fn for_rate(worker: String, rate_per_second: u32) -> Self {
        let rate = rate_per_second.max(1);
        Self {
            worker,
            lease: Duration::from_secs(60),
            batch: (rate / 4).clamp(1, 50),
            concurrency: usize::try_from((rate / 4).clamp(1, 16)).unwrap_or(16),
            max_attempts: 8,
            max_sleep: Duration::from_secs(60),
        }
    }
}

/// Shared by the loop and its send tasks.
struct Shared<D> {
    pool: PgPool,
    deliver: Arc<D>,
    clock: Clock,
    options: DeliveryOptions,
    outcomes: Arc<Outcomes>,
    /// Channels already reported unusable to the organisers by this process.
    reported: std::sync::Mutex<std::collections::HashSet<u64>>,
}

/// Runs the delivery loop until `shutdown` completes, then stops claiming, cancels the
/// sends not yet made and releases this worker's claims (another worker, or the next
/// start, takes them at once instead of after the lease).
pub async fn run<D: Deliver>(
    pool: PgPool,
    deliver: Arc<D>,
    clock: Clock,
    options: DeliveryOptions,
    outcomes: Arc<Outcomes>,
    wake: Arc<Notify>,
    shutdown: impl Future<Output = ()>,
) {
    let shared = Arc::new(Shared {
        pool,
        deliver,
        clock,
        options,
        outcomes,
        reported: std::sync::Mutex::default(),
    });
    let (stop_tx, stop) = watch::channel(false);
    let work = work_loop(Arc::clone(&shared), wake, stop);
    tokio::pin!(work);
    tokio::select! {
        () = &mut work => {}
        () = shutdown => {
            let _ = stop_tx.send(true);
            // The loop notices at its next await point; in-flight sends are cancelled there.
            work.await;
        }
    }
    if let Err(error) = crate::store::workers::leave(&shared.pool, &shared.options.worker).await {
        tracing::warn!("removing this worker's heartbeat failed (it expires by itself): {error}");
    }
    match outbox::release(&shared.pool, &shared.options.worker).await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "released unsent claims for other workers"),
        Err(error) => tracing::warn!(
            "releasing claims failed (they become free when their lease ends): {error:#}"
        ),
    }
}

async fn work_loop<D: Deliver>(
    shared: Arc<Shared<D>>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let stopping = |stop: &watch::Receiver<bool>| *stop.borrow();
    let mut last_heartbeat: Option<tokio::time::Instant> = None;
    while !stopping(&stop) {
        // At least every `max_sleep`: the health check's sign that this loop still turns.
        shared.outcomes.beat();
        if !last_heartbeat.is_some_and(|at| at.elapsed() < HEARTBEAT_EVERY) {
            last_heartbeat = Some(tokio::time::Instant::now());
            heartbeat(&shared).await;
        }
        let batch = deliver_due(&shared, &mut stop).await;
        if batch > 0 {
            // More may be due: claim again before sleeping.
            continue;
        }
        let now = shared.clock.now();
        let next = match outbox::next_due(&shared.pool).await {
            Ok(next) => next,
            Err(error) => {
                tracing::error!("reading the outbox failed: {error:#}");
                // The database may be restarting: look again soon.
                Some(now + chrono::Duration::seconds(5))
            }
        };
        let limit = now + chrono::Duration::from_std(shared.options.max_sleep).unwrap_or_default();
        let until = next.map_or(limit, |next| next.min(limit));
        if until <= now {
            continue;
        }
        tokio::select! {
            () = shared.clock.sleep_until(until) => {}
            () = wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
}

/// Claims one batch of due rows and sends them. Returns how many rows were claimed.
async fn deliver_due<D: Deliver>(
    shared: &Arc<Shared<D>>,
    stop: &mut watch::Receiver<bool>,
) -> usize {
    let options = &shared.options;
    let now = shared.clock.now();
    let lease = chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::minutes(1));
    let claimed =
        match outbox::claim_due(&shared.pool, &options.worker, now, lease, options.batch).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!("claiming due posts failed: {error:#}");
                return 0;
            }
        };
    let count = claimed.len();
    let mut entries = claimed.into_iter();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.len() < options.concurrency {
            let Some(entry) = entries.next() else { break };
            tasks.spawn(handle(Arc::clone(shared), entry));
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            done = tasks.join_next() => {
                if let Some(Err(error)) = done {
                    if error.is_panic() {
                        tracing::error!("a delivery task panicked; its row is retried after the lease");
                    }
                }
            }
            _ = stop.changed() => {
                // Shutting down: sends under way may finish (and be recorded) for a
                // moment; the rest are cancelled and their rows released by the caller.
                let finishing = async { while tasks.join_next().await.is_some() {} };
                if tokio::time::timeout(FINISH_GRACE, finishing).await.is_err() {
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                }
                break;
            }
        }
    }
    count
}

/// How often a delivering worker records that it is alive, and how long a record counts.
/// Workers share Discord's global limit by the number alive (see `store::workers`); until a
/// worker sees a newcomer both pace at their old share, so the interval bounds that overlap
/// (one small upsert per interval while delivering).
const HEARTBEAT_EVERY: Duration = Duration::from_millis(250);
const ALIVE_FOR: chrono::Duration = chrono::Duration::seconds(10);

/// Records this worker's heartbeat and takes its share of the global rate.
async fn heartbeat<D: Deliver>(shared: &Shared<D>) {
    let now = shared.clock.now();
    match crate::store::workers::heartbeat(&shared.pool, &shared.options.worker, now, ALIVE_FOR)
        .await
    {
        Ok(workers) => shared.deliver.share_with(workers),
        Err(error) => tracing::warn!("recording the delivery heartbeat failed: {error}"),
    }
}

/// How long sends under way may take to finish at shutdown.
const FINISH_GRACE: Duration = Duration::from_secs(5);

/// How many times one send is retried after a global rate limit (the sender's pacer holds
/// every request back meanwhile) before the row is postponed.
const GLOBAL_WAITS: usize = 5;

/// Sends one claimed row (or drops it when too late) and records the outcome.
async fn handle<D: Deliver>(shared: Arc<Shared<D>>, entry: OutboxEntry) {
    let options = &shared.options;
    let (pool, worker, id) = (&shared.pool, options.worker.as_str(), entry.id);
    let key = entry.post.key;
    let kind = key.kind;
    let target = describe(key.target);
    for _ in 0..GLOBAL_WAITS {
        // Decided at each attempt: the text states the time left at the real send.
        let now = shared.clock.now();
        let message = match decide(&entry.post, now) {
            Decision::Drop(reason) => {
                tracing::info!(target = %target, "{reason}");
                let outcome = outbox::mark_dropped(pool, id, worker, &reason.to_string()).await;
                record(&shared, outcome, id, kind, Outcome::Dropped);
                return;
            }
            Decision::Send(message) => message,
        };
        let result = shared
            .deliver
            .deliver(key.target, &message, &entry.nonce)
            .await;
        let now = shared.clock.now();
        let (outcome, counter) = match result {
            Ok(()) => {
                let late = (now - entry.post.due).to_std().unwrap_or_default();
                let late_ms = u64::try_from(late.as_millis()).unwrap_or(u64::MAX);
                tracing::info!(target = %target, subject = ?key.subject, kind = kind.as_str(), late_ms, "sent");
                shared.outcomes.observe_lateness(late);
                (
                    outbox::mark_sent(pool, id, worker, now).await,
                    Outcome::Sent,
                )
            }
            Err(SendError::RateLimited {
                retry_after,
                global: true,
            }) => {
                tracing::warn!(?retry_after, "global rate limit: every send waits");
                continue;
            }
            Err(error @ SendError::RateLimited { retry_after, .. }) => {
                let until = later(now, retry_after);
                let outcome = outbox::postpone(pool, id, worker, until, &error.to_string()).await;
                (outcome, Outcome::Postponed)
            }
            Err(error @ SendError::Transient(_)) => {
                let attempts = entry.attempts + 1;
                let retry =
                    (attempts < options.max_attempts).then(|| later(now, backoff(attempts)));
                tracing::warn!(target = %target, attempts, retry = ?retry, "send failed: {error}");
                let outcome =
                    outbox::mark_failed(pool, id, worker, &error.to_string(), retry, now).await;
                if retry.is_some() {
                    (outcome, Outcome::Retried)
                } else {
                    (outcome, Outcome::Failed)
                }
            }
            Err(error @ SendError::ChannelUnavailable(_)) => {
                // The organisers must hear of it: their reminders are not reaching anybody.
                tracing::error!(target = %target, "reminder channel unusable, organisers must fix it: {error}");
                if let Target::Channel(channel) = key.target {
                    report_unusable(&shared, entry.conference_id, channel, &error).await;
                }
                let outcome =
                    outbox::mark_failed(pool, id, worker, &error.to_string(), None, now).await;
                (outcome, Outcome::Failed)
            }
            Err(error @ (SendError::ClosedDm | SendError::Rejected(_))) => {
                tracing::info!(target = %target, "not delivered, not retried: {error}");
                let outcome =
                    outbox::mark_failed(pool, id, worker, &error.to_string(), None, now).await;
                (outcome, Outcome::Failed)
            }
        };
        record(&shared, outcome, id, kind, counter);
        return;
    }
    let until = later(shared.clock.now(), Duration::from_secs(1));
    let outcome = outbox::postpone(pool, id, worker, until, "global rate limit").await;
    record(&shared, outcome, id, kind, Outcome::Postponed);
}

/// Tells the organisers (once per channel and process) that a reminder channel cannot be
/// posted in.
async fn report_unusable<D: Deliver>(
    shared: &Shared<D>,
    conference_id: i64,
    channel: u64,
    error: &SendError,
) {
    let first = shared
        .reported
        .lock()
        .map(|mut reported| reported.insert(channel))
        .unwrap_or(false);
    if first {
        let text = format!(
            "⚠️ Reminders cannot be posted in <#{channel}> ({error}). Give confbot access or pick \
             another channel with `/channel`."
        );
        super::post_to_organisers(&shared.pool, shared.deliver.as_ref(), conference_id, &text)
            .await;
    }
}

/// Counts a recorded outcome, or logs one that could not be recorded: the row then stays
/// claimed until its lease ends and is sent again with the same nonce, which Discord
/// deduplicates.
fn record<D>(
    shared: &Shared<D>,
    outcome: Result<bool, crate::store::StoreError>,
    id: i64,
    kind: crate::domain::reminders::PostKind,
    counter: Outcome,
) {
    match outcome {
        Ok(true) => shared.outcomes.bump(kind, counter),
        Ok(false) => tracing::warn!(
            row = id,
            "the claim had expired and another worker owns the row now"
        ),
        Err(error) => tracing::error!(row = id, "recording a delivery outcome failed: {error:#}"),
    }
}

fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(1))
}

/// 2, 4, 8, ... seconds, at most five minutes.
fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 9)).unwrap_or(1);
    Duration::from_secs(2_u64.pow(exponent).min(300))
}

/// `channel:<id>` or `dm:<user id>`: channel names are not at hand here, and ids are what
/// an operator greps for anyway.
fn describe(target: Target) -> String {
    match target {
        Target::Channel(id) => format!("channel:{id}"),
        Target::Dm(user) => format!("dm:{user}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let secs: Vec<u64> = [1, 2, 3, 8, 9, 20].map(|a| backoff(a).as_secs()).to_vec();
        assert_eq!(secs, [2, 4, 8, 256, 300, 300]);
    }

    #[test]
    fn production_options_claim_a_quarter_second_of_sends() {
        let options = DeliveryOptions::for_rate("w".into(), 50);
        assert_eq!((options.batch, options.concurrency), (12, 12));
        let slow = DeliveryOptions::for_rate("w".into(), 1);
        assert_eq!((slow.batch, slow.concurrency), (1, 1));
    }
}
