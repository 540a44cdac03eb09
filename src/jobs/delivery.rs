//! The delivery loop: sleeps until the outbox's next due post (or until woken because the
//! plan changed), claims what is due under a lease, sends each post through [`Deliver`] at
//! the paced rate and records the outcome ([`row`]). Batches overlap ([`batch`]): the next
//! is claimed once every row of the previous one has started its request (it then waits in
//! the sender's bucket or pacer, not for an answer) and the pacer's queue is short, so the
//! rate holds whatever Discord's latency. The outbox row is the truth
//! throughout: a crash at any point leaves rows that are either recorded or claimed. A live
//! worker renews the claims it still holds, and a request leaves only while its claim holds
//! for longer than the request can take ([`super::lease`]), so two workers never have one
//! row in flight; a crashed worker's claimed rows are sent again after the lease with the
//! same nonce, which Discord answers with the first message instead of a duplicate.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use super::clock::Clock;
use super::deliver::Deliver;
use super::outcomes::Outcomes;
use crate::domain::reminders::EarlyStart;
use crate::store::outbox;
use batch::{claim_due, send_batch};
use chrono::{DateTime, Utc};
use dispatch::{Dispatch, InFlight};
use peers::Peers;

mod batch;
mod dispatch;
mod dms;
mod events;
mod panels;
mod peers;
mod questions;
mod row;
mod threads;
mod unusable;

/// How the loop works; [`DeliveryOptions::for_rate`] gives the production values.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// This worker's name in claims (unique per process).
    pub worker: String,
    /// How long a claim holds unless renewed (it is, every quarter lease, while the worker
    /// holds the row). Well under Discord's nonce window (a few minutes), so a crashed
    /// worker's sends are retried while Discord still recognises the nonce; and a quarter of
    /// it is more than a request may take, so a request never outlives its claim.
    pub lease: Duration,
    /// Rows claimed at once: about a quarter second of sends at the sender's rate. The next
    /// batch is claimed while the pacer's queue is under a quarter second, so a channel post
    /// that falls due during a long DM fan-out waits about that long (longer only for its
    /// own channel's bucket).
    pub batch: u32,
    /// Sends of one batch in flight at once (Discord answers in tens of milliseconds; one
    /// at a time could not reach the allowed rate).
    pub concurrency: usize,
    /// Claimed rows not yet done, over every batch: the next batch is claimed while
    /// earlier ones still wait for Discord's answers, up to this many rows (two seconds
    /// of sends: the allowed rate under a latency of over a second).
    pub in_flight: usize,
    /// Failed attempts after which a temporary failure is given up.
    pub max_attempts: i32,
    /// How long Discord is trusted to remember a nonce: an attempt whose outcome is unknown
    /// is repeated blindly only this long after it; later, the message is looked for first.
    /// Discord documents "a few minutes"; a minute is safely inside that.
    pub nonce_window: Duration,
    /// The longest sleep: the loop looks at the outbox at least this often, for posts
    /// another process queued (that process delivers them too; this only bounds a gap).
    pub max_sleep: Duration,
    /// The share of Discord's rate one post is counted at when fan-outs are sent early
    /// enough to end by their due instant ([`crate::domain::reminders::early_start`]);
    /// `None`: every post goes at its due instant (a sender without a rate limit).
    pub per_request: Option<Duration>,
    /// How long a worker's heartbeat counts it among those sharing the rate (it heartbeats
    /// every quarter second): a worker that died stops taking a share after this long.
    pub alive_for: Duration,
}

impl DeliveryOptions {
    /// Production values for a paced rate.
    pub fn for_rate(worker: String, rate_per_second: u32) -> Self {
        let rate = rate_per_second.max(1);
        Self {
            worker,
            lease: crate::config::DEFAULT_LEASE,
            batch: (rate / 4).clamp(1, 16),
            // Every row of a batch at once, so the whole batch reaches the sender.
            concurrency: usize::try_from((rate / 4).clamp(1, 16)).unwrap_or(16),
            in_flight: usize::try_from(rate.saturating_mul(2).clamp(1, 400)).unwrap_or(400),
            max_attempts: 8,
            nonce_window: crate::config::DEFAULT_NONCE_TRUST,
            max_sleep: Duration::from_secs(60),
            per_request: Some(Self::per_request_at(rate)),
            alive_for: Duration::from_secs(10),
        }
    }

    /// One request's share of `rate_per_second`, the rate of every process together, with
    /// a tenth kept for what else a fan-out costs (retries, looks, channel opens, the
    /// answers to interactions).
    pub fn per_request_at(rate_per_second: u32) -> Duration {
        Duration::from_secs(1) * 10 / rate_per_second.max(1).saturating_mul(9)
    }

    /// The configured values (`[reminders]`: rate, lease, nonce trust).
    pub fn from_settings(worker: String, settings: &crate::config::ReminderSettings) -> Self {
        Self {
            lease: settings.lease,
            nonce_window: settings.nonce_trust,
            ..Self::for_rate(worker, settings.rate_per_second)
        }
    }

    /// The longest one request may take: a request leaves only while a quarter lease is
    /// left ([`super::lease`]), so it must end within a fifth of the lease, or another
    /// worker could claim the row while it is under way.
    pub fn request_timeout(&self) -> Duration {
        self.lease / 5
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
    /// Talks' open threads as last looked up, for DM links (`threads::linked`).
    threads: threads::Known,
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
        threads: threads::Known::default(),
    });
    let (stop_tx, stop) = watch::channel(false);
    let peers = Arc::new(Peers::new(
        tokio::time::Instant::now(),
        shared.options.alive_for,
    ));
    // Stopped only once the loop has ended: its sends under way still take this worker's
    // share meanwhile, so the others must go on counting it.
    let (stop_beating, beating_stops) = watch::channel(false);
    let beating = tokio::spawn(peers::keep_beating(
        Arc::clone(&shared),
        Arc::clone(&peers),
        beating_stops,
    ));
    let work = work_loop(Arc::clone(&shared), peers, wake, stop);
    tokio::pin!(work);
    tokio::select! {
        () = &mut work => {}
        () = shutdown => {
            let _ = stop_tx.send(true);
            // The loop notices at its next await point; in-flight sends are cancelled there.
            work.await;
        }
    }
    let _ = stop_beating.send(true);
    // Before leaving: a heartbeat recorded after it would count this worker for a while.
    if let Err(error) = beating.await {
        tracing::warn!("the delivery heartbeat task ended abnormally: {error}");
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
    peers: Arc<Peers>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let stopping = |stop: &watch::Receiver<bool>| *stop.borrow();
    // Claimed batches still sending. A batch is claimed as soon as the previous ones'
    // requests are queued, not answered: waiting for answers would send in waves, and
    // under Discord's latency the rate would fall well below the allowed one.
    let mut batches = JoinSet::new();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut last_woken: Option<tokio::time::Instant> = None;
    while !stopping(&stop) {
        // At least every `max_sleep`: the health check's sign that this loop still turns.
        shared.outcomes.beat();
        if let Some(wait) = peers.holding_off(tokio::time::Instant::now()) {
            // Not known yet to the other workers, or just joined them: no claim and no DM
            // channel open until they pace at their new share (`peers`).
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        while batches.try_join_next().is_some() {}
        let room = shared
            .options
            .in_flight
            .saturating_sub(in_flight.load(Ordering::Acquire));
        let queued = shared.deliver.backlog();
        if room == 0 || queued > QUEUE_AHEAD {
            // Busy: claim more when a batch ends or the queue has shortened. A long pause
            // (a global 429) still lets the loop's health beat through.
            let shortened = if room > 0 {
                queued.saturating_sub(QUEUE_AHEAD)
            } else {
                DISPATCH_WAIT
            }
            .min(shared.options.max_sleep);
            tokio::select! {
                _ = batches.join_next(), if !batches.is_empty() => {}
                () = tokio::time::sleep(shortened) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        // One look at the coming fan-outs serves the claim and, if nothing is claimed, the
        // sleep after it.
        let early = early_start(&shared, shared.clock.now()).await;
        let dms_until = early.and_then(|start| start.send_until);
        let limit = u32::try_from(room).unwrap_or(u32::MAX);
        if let Some(batch) = claim_due(&shared, dms_until, limit).await {
            if stopping(&stop) {
                // Released with the rest of this worker's claims once the loop ends.
                break;
            }
            let rows = InFlight::add(&in_flight, batch.len());
            let dispatch = Dispatch::new(batch.len());
            let queued = Arc::clone(&dispatch);
            batches.spawn(send_batch(
                Arc::clone(&shared),
                batch,
                stop.clone(),
                rows,
                dispatch,
            ));
            // Its rows start their requests (and take their places in the sender's pacer)
            // before the backlog is looked at again; a batch that cannot start its sends
            // (stopping) does not hold the loop.
            tokio::select! {
                () = queued.all() => {}
                () = tokio::time::sleep(DISPATCH_WAIT) => {}
                _ = stop.changed() => {}
            }
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
        let early = match early {
            Some(start) => start.next,
            // A fan-out may be starting: look again soon.
            None => Some(now + chrono::Duration::seconds(1)),
        };
        let until = [next, early]
            .into_iter()
            .flatten()
            .fold(limit, DateTime::min);
        if until <= now {
            continue;
        }
        // Meanwhile, open the DM channels of coming fan-outs: a few at a time, each only
        // when the pacer has a slot within a moment, so a post falling due waits for a
        // handful of requests at most. Not cancelled midway: an open holds a pacer slot.
        if batches.is_empty() && dms::open_ahead(&shared).await > 0 {
            continue;
        }
        tokio::select! {
            () = shared.clock.sleep_until(until) => {}
            () = wake.notified() => {
                // A burst of plan changes (thousands of people subscribing) wakes the loop
                // once per WAKE_COALESCE, not once per change: each look costs the
                // database a few queries, and what a change queued is rarely due at once.
                if let Some(at) = last_woken.filter(|at| at.elapsed() < WAKE_COALESCE) {
                    tokio::select! {
                        () = tokio::time::sleep_until(at + WAKE_COALESCE) => {}
                        () = shared.clock.sleep_until(until) => {}
                        _ = stop.changed() => {}
                    }
                }
                last_woken = Some(tokio::time::Instant::now());
            }
            // A batch's retries may fall due before `until`.
            _ = batches.join_next(), if !batches.is_empty() => {}
            _ = stop.changed() => {}
        }
    }
    // Each batch sees the stop too: it lets its sends under way finish for a moment.
    while batches.join_next().await.is_some() {}
}

/// How long the requests already waiting for the pacer may take before the loop claims
/// more: a post falling due during a long fan-out queues behind at most this much.
const QUEUE_AHEAD: Duration = Duration::from_millis(250);
/// The least time between two looks at the outbox that plan changes ask for: a post a
/// change queued for now leaves this much later at most.
const WAKE_COALESCE: Duration = Duration::from_millis(250);
/// The longest the loop waits for a new batch's first requests before it looks again.
const DISPATCH_WAIT: Duration = Duration::from_secs(1);

/// Which DMs may go out before their due instant so that a fan-out ends by it. `None` on a
/// database error: posts then go at their due instants until the next look succeeds.
async fn early_start<D: Deliver>(shared: &Shared<D>, now: DateTime<Utc>) -> Option<EarlyStart> {
    let Some(per_request) = shared.options.per_request else {
        return Some(EarlyStart::default());
    };
    // A request's share of the rate is real time; the outbox is in clock time.
    let per_request = shared.clock.stretch(per_request);
    // The fan-out ends this much before its due instant, so that its last DM, which takes
    // as long as Discord's answers lately took to arrive, is there by then.
    let margin = shared
        .clock
        .stretch(shared.deliver.latency().min(MAX_MARGIN));
    match outbox::send_early(&shared.pool, now + margin, per_request, EARLY_HORIZON).await {
        Ok(start) => Some(EarlyStart {
            send_until: start.send_until,
            next: start.next.map(|next| next - margin),
        }),
        Err(error) => {
            tracing::warn!("planning early sends failed: {error:#}");
            None
        }
    }
}

/// The most a fan-out ends ahead of its due instant for Discord's latency.
pub const MAX_MARGIN: Duration = Duration::from_secs(2);

/// How far ahead pending posts are counted for early sends: a fan-out longer than this at
/// Discord's rate (over 300,000 posts) is not foreseen in full.
const EARLY_HORIZON: chrono::Duration = chrono::Duration::hours(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_options_claim_a_quarter_second_of_sends() {
        let options = DeliveryOptions::for_rate("w".into(), 50);
        assert_eq!((options.batch, options.concurrency), (12, 12));
        assert_eq!(options.in_flight, 100, "two seconds of sends");
        let slow = DeliveryOptions::for_rate("w".into(), 1);
        assert_eq!((slow.batch, slow.concurrency), (1, 1));
    }

    #[test]
    fn a_production_request_ends_well_inside_the_claim_it_leaves_under() {
        // A request may leave with a quarter lease left (`lease::MARGIN`): its timeout must
        // end before that quarter does, or another worker could claim the row mid-request.
        let options = DeliveryOptions::for_rate("w".into(), 50);
        assert!(options.lease / 4 > crate::discord::sender::REQUEST_TIMEOUT);
        assert!(options.lease / 4 > options.request_timeout());
    }
}
