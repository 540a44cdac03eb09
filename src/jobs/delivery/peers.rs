//! Sharing Discord's global rate with the other delivering processes. Each worker records a
//! heartbeat every quarter second from a task of its own, busy or idle, and paces at
//! `1/workers` of the rate (`store::workers`). Two cases would still overrun the limit:
//! - A worker only learns of a newcomer at its next heartbeat, and the slots its pacer has
//!   already handed out keep the old spacing. So a worker that finds others alive when it
//!   starts (a rolling restart, a replica added) claims nothing for [`JOIN_WAIT`]. Without that
//!   wait, a process added to a fan-out going at the full paced rate drew 6-7 global 429s
//!   (BENCHMARKS.md, `join-late`), and a worker added in the test 2-18.
//! - An idle worker that stopped heartbeating would drop out of the others' count, and at the
//!   next fan-out both would start at the full rate. Hence the heartbeat's own task, instead of
//!   heartbeats from the delivery loop, which sleeps up to a minute when nothing is due.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use super::{Deliver, Shared};
use crate::lock::lock;

/// How often a delivering worker records that it is alive: how long a running worker takes
/// to see a newcomer and slow to its share (one small upsert per interval).
pub(super) const HEARTBEAT_EVERY: Duration = Duration::from_millis(250);

/// How long a worker that finds others alive when it joins claims nothing: at its first
/// heartbeat, or at the first after a gap long enough for the others to stop counting it.
/// It rests on two bounds:
/// - a running worker heartbeats within `HEARTBEAT_EVERY` of the newcomer's record (plus the
///   query's own time);
/// - the requests it queued before then, at the old spacing, leave within about three
///   `QUEUE_AHEAD`s. The loop claims while the queue is under one; a batch adds about one;
///   a row that opens its DM channel at send time takes a second slot once the open is
///   answered.
///
/// That is 1 s; the rest is margin for a slow database. The wait counts from the heartbeat's
/// answer, after which the others can see the record.
pub(super) const JOIN_WAIT: Duration = Duration::from_millis(1500);

/// Whether this worker may claim, as its heartbeats have found.
#[derive(Debug)]
pub(super) struct Peers {
    alive_for: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    started: Instant,
    /// When the last heartbeat that succeeded was sent: its record ages from then.
    recorded: Option<Instant>,
    join: Join,
}

/// The shortest and longest time a record may count: shorter than two heartbeats, every
/// heartbeat would be a join; the longest keeps the database's date arithmetic in range.
const ALIVE_BOUNDS: (Duration, Duration) = (
    HEARTBEAT_EVERY.saturating_mul(2),
    Duration::from_secs(24 * 60 * 60),
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    /// No heartbeat has succeeded yet: whether others are alive is not known.
    Unknown,
    /// Claims may go ahead.
    Settled,
    /// Others were alive when this worker joined: no claim before this instant.
    Until(Instant),
}

impl Peers {
    /// A worker counted by the others while its heartbeat is younger than `alive_for` (real
    /// time).
    pub(super) fn new(started: Instant, alive_for: Duration) -> Self {
        Self {
            alive_for: alive_for.clamp(ALIVE_BOUNDS.0, ALIVE_BOUNDS.1),
            state: Mutex::new(State {
                started,
                recorded: None,
                join: Join::Unknown,
            }),
        }
    }

    /// How long this worker must still wait before claiming anything (`None`: it may now).
    pub(super) fn holding_off(&self, now: Instant) -> Option<Duration> {
        match lock(&self.state).join {
            // Looked at again after the next heartbeat.
            Join::Unknown => Some(HEARTBEAT_EVERY),
            Join::Settled => None,
            Join::Until(from) => (from > now).then(|| from - now),
        }
    }

    /// A heartbeat sent at `sent` and answered at `answered`: `workers` are alive, this one
    /// included. The first, and the first after a gap in which the others stopped counting
    /// this worker, is a join.
    fn recorded(&self, sent: Instant, answered: Instant, workers: u32) {
        let waiting = {
            let mut state = lock(&self.state);
            let joined = state
                .recorded
                .map_or(true, |at| answered.duration_since(at) >= self.alive_for);
            state.recorded = Some(sent);
            if !joined {
                return;
            }
            let waiting = workers > 1;
            state.join = if waiting {
                Join::Until(answered + JOIN_WAIT)
            } else {
                Join::Settled
            };
            waiting
        };
        if waiting {
            tracing::info!(
                workers,
                "other delivery workers are alive: claiming starts once they have slowed to their share"
            );
        }
    }

    /// A heartbeat failed at `now`. A worker whose heartbeats have never succeeded goes on
    /// as if alone once the others would have stopped counting it anyway; its first
    /// heartbeat that succeeds then counts as a join.
    fn failed(&self, now: Instant) {
        let alone = {
            let mut state = lock(&self.state);
            let alone =
                state.join == Join::Unknown && now.duration_since(state.started) >= self.alive_for;
            if alone {
                state.join = Join::Settled;
            }
            alone
        };
        if alone {
            tracing::warn!("no delivery_workers heartbeat recorded yet: delivering as if alone");
        }
    }
}

/// Records this worker's heartbeat every [`HEARTBEAT_EVERY`] and takes its share of the rate,
/// until `stop`. A heartbeat under way is finished, not cancelled: a record written after the
/// worker has left would keep the others at a smaller share until it expired.
pub(super) async fn keep_beating<D: Deliver>(
    shared: Arc<Shared<D>>,
    peers: Arc<Peers>,
    mut stop: watch::Receiver<bool>,
) {
    // Records carry the clock's time, which a demo or a test may run faster than real time.
    let alive_for = shared
        .clock
        .stretch(peers.alive_for)
        .min(chrono::Duration::days(3650));
    let worker = &shared.options.worker;
    let mut every = tokio::time::interval(HEARTBEAT_EVERY);
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut failing = false;
    while !*stop.borrow() {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = every.tick() => {}
        }
        let (sent, at) = (Instant::now(), shared.clock.now());
        match crate::store::workers::heartbeat(&shared.pool, worker, at, alive_for).await {
            Ok(workers) => {
                shared.deliver.share_with(workers);
                shared.outcomes.counted_workers(workers);
                peers.recorded(sent, Instant::now(), workers);
                if std::mem::take(&mut failing) {
                    tracing::info!("the delivery_workers heartbeat is recorded again");
                }
            }
            Err(error) => {
                // Once per outage, not four times a second.
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!("recording the delivery_workers heartbeat failed: {error}");
                }
                peers.failed(Instant::now());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::QUEUE_AHEAD;
    use super::*;

    const ALIVE: Duration = Duration::from_secs(10);

    #[test]
    fn a_worker_alone_at_its_first_heartbeat_claims_at_once_and_newcomers_do_not_stop_it() {
        let start = Instant::now();
        let peers = Peers::new(start, ALIVE);
        assert_eq!(
            peers.holding_off(start),
            Some(HEARTBEAT_EVERY),
            "before any heartbeat"
        );

        peers.recorded(start, start, 1);
        let next = start + HEARTBEAT_EVERY;
        peers.recorded(next, next, 2);

        assert_eq!(peers.holding_off(next), None);
    }

    #[test]
    fn a_newcomer_waits_until_the_others_have_slowed_and_only_once() {
        let start = Instant::now();
        let peers = Peers::new(start, ALIVE);

        peers.recorded(start, start, 2);
        let waiting = peers.holding_off(start + Duration::from_millis(100));
        let next = start + HEARTBEAT_EVERY;
        peers.recorded(next, next, 3);
        let still = peers.holding_off(start + HEARTBEAT_EVERY);
        let after = peers.holding_off(start + JOIN_WAIT);

        assert_eq!(waiting, Some(JOIN_WAIT - Duration::from_millis(100)));
        assert_eq!(
            still,
            Some(JOIN_WAIT - HEARTBEAT_EVERY),
            "a later heartbeat does not move the wait"
        );
        assert_eq!(after, None);
    }

    #[test]
    fn a_worker_the_others_stopped_counting_joins_again() {
        let start = Instant::now();
        let peers = Peers::new(start, ALIVE);
        // A slow heartbeat: its record ages from when it was sent.
        peers.recorded(start, start + Duration::from_secs(2), 1);

        // The database was away for longer than a record counts, from the record's time.
        let back = start + ALIVE;
        peers.failed(start + Duration::from_secs(5));
        peers.recorded(back, back, 2);

        assert_eq!(peers.holding_off(back), Some(JOIN_WAIT));
    }

    #[test]
    fn a_worker_whose_heartbeats_fail_waits_until_the_others_would_not_count_it() {
        let start = Instant::now();
        let peers = Peers::new(start, ALIVE);

        peers.failed(start + HEARTBEAT_EVERY);
        let early = peers.holding_off(start + HEARTBEAT_EVERY);
        peers.failed(start + ALIVE);
        let late = peers.holding_off(start + ALIVE);
        let back = start + ALIVE + HEARTBEAT_EVERY;
        peers.recorded(back, back, 2);
        let recorded = peers.holding_off(back);

        assert_eq!(early, Some(HEARTBEAT_EVERY));
        assert_eq!(late, None, "delivering as if alone");
        assert_eq!(recorded, Some(JOIN_WAIT), "then a join like any other");
    }

    #[test]
    fn a_record_counts_for_at_least_two_heartbeats() {
        let start = Instant::now();
        let peers = Peers::new(start, Duration::ZERO);
        peers.recorded(start, start, 2);
        let next = start + HEARTBEAT_EVERY;
        peers.recorded(next, next, 2);

        assert_eq!(peers.alive_for, 2 * HEARTBEAT_EVERY);
        assert_eq!(
            peers.holding_off(next),
            Some(JOIN_WAIT - HEARTBEAT_EVERY),
            "the next heartbeat is no join that would move the wait"
        );
    }

    #[test]
    fn the_wait_covers_a_running_worker_seeing_the_newcomer_and_draining_its_queue() {
        assert!(JOIN_WAIT > HEARTBEAT_EVERY + 3 * QUEUE_AHEAD);
        let defaults = super::super::DeliveryOptions::for_rate("w".into(), 45);
        assert!(JOIN_WAIT < defaults.alive_for);
    }
}
