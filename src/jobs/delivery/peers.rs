//! Sharing Discord's global rate with the other delivering processes. Each worker records a
//! heartbeat every quarter second from a task of its own, busy or idle, and paces at
//! `1/workers` of the rate (`store::workers`). Two cases would still overrun the limit:
//! - A worker only learns of a newcomer at its next heartbeat, and the slots its pacer has
//!   already handed out keep the old spacing. So a worker that finds others delivering when it
//!   starts (a rolling restart, a replica added) claims nothing for [`JOIN_WAIT`]. Without that
//!   wait, a rolling restart mid-fan-out drew 7 global 429s (BENCHMARKS.md) and a worker added
//!   mid-fan-out drew 2-18 in the test.
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

/// How long a worker that finds others delivering at its first heartbeat claims nothing.
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
    /// When a heartbeat last succeeded.
    recorded: Option<Instant>,
    join: Join,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    /// No heartbeat has succeeded yet: whether others are delivering is not known.
    Unknown,
    /// Claims may go ahead.
    Settled,
    /// Others were delivering when this worker joined: no claim before this instant.
    Until(Instant),
}

impl Peers {
    /// A worker counted by the others while its heartbeat is younger than `alive_for`.
    pub(super) fn new(started: Instant, alive_for: Duration) -> Self {
        Self {
            alive_for,
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

    /// A heartbeat answered at `now`: `workers` are alive, this one included. The first, and
    /// the first after a gap in which the others stopped counting this worker, is a join.
    fn recorded(&self, now: Instant, workers: u32) {
        let mut state = lock(&self.state);
        let joined = state
            .recorded
            .map_or(true, |at| now.duration_since(at) >= self.alive_for);
        state.recorded = Some(now);
        if !joined {
            return;
        }
        state.join = if workers > 1 {
            tracing::info!(
                workers,
                "other delivery workers are alive: claiming starts once they have slowed to their share"
            );
            Join::Until(now + JOIN_WAIT)
        } else {
            Join::Settled
        };
    }

    /// A heartbeat failed at `now`. A worker whose heartbeats have never succeeded goes on
    /// as if alone once the others would have stopped counting it anyway; its first
    /// heartbeat that succeeds then counts as a join.
    fn failed(&self, now: Instant) {
        let mut state = lock(&self.state);
        if state.join == Join::Unknown && now.duration_since(state.started) >= self.alive_for {
            tracing::warn!("no delivery heartbeat recorded yet: delivering as if alone");
            state.join = Join::Settled;
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
    let alive_for = chrono::Duration::from_std(peers.alive_for).unwrap_or(chrono::Duration::MAX);
    let worker = &shared.options.worker;
    let mut every = tokio::time::interval(HEARTBEAT_EVERY);
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut failing = false;
    while !*stop.borrow() {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => break,
        }
        let at = shared.clock.now();
        match crate::store::workers::heartbeat(&shared.pool, worker, at, alive_for).await {
            Ok(workers) => {
                shared.deliver.share_with(workers);
                peers.recorded(Instant::now(), workers);
                if std::mem::take(&mut failing) {
                    tracing::info!("the delivery heartbeat is recorded again");
                }
            }
            Err(error) => {
                // Once per outage, not four times a second.
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!("recording the delivery heartbeat failed: {error}");
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

        peers.recorded(start, 1);
        peers.recorded(start + HEARTBEAT_EVERY, 2);

        assert_eq!(peers.holding_off(start + HEARTBEAT_EVERY), None);
    }

    #[test]
    fn a_newcomer_waits_until_the_others_have_slowed_and_only_once() {
        let start = Instant::now();
        let peers = Peers::new(start, ALIVE);

        peers.recorded(start, 2);
        let waiting = peers.holding_off(start + Duration::from_millis(100));
        peers.recorded(start + HEARTBEAT_EVERY, 3);
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
        peers.recorded(start, 1);

        // The database was away for longer than a record counts.
        let back = start + ALIVE + HEARTBEAT_EVERY;
        peers.failed(start + HEARTBEAT_EVERY);
        peers.recorded(back, 2);

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
        peers.recorded(start + ALIVE + HEARTBEAT_EVERY, 2);
        let recorded = peers.holding_off(start + ALIVE + HEARTBEAT_EVERY);

        assert_eq!(early, Some(HEARTBEAT_EVERY));
        assert_eq!(late, None, "delivering as if alone");
        assert_eq!(recorded, Some(JOIN_WAIT), "then a join like any other");
    }

    #[test]
    fn the_wait_covers_a_running_worker_seeing_the_newcomer_and_draining_its_queue() {
        assert!(JOIN_WAIT > HEARTBEAT_EVERY + 3 * QUEUE_AHEAD);
        let defaults = super::super::DeliveryOptions::for_rate("w".into(), 45);
        assert!(JOIN_WAIT < defaults.alive_for);
    }
}
