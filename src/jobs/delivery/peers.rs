//! Sharing Discord's global rate with the other delivering processes: each worker records a
//! heartbeat and paces at `1/workers` of the rate (`store::workers`). A worker only learns of
//! a newcomer at its next heartbeat, and the slots its pacer has already handed out keep the
//! old spacing; so a worker that finds others alive when it starts (a rolling restart, a
//! second replica) sends nothing until they have slowed to their new share. Without that
//! wait, the old worker's last second at the full rate and the newcomer's first requests
//! together overran the global limit (7 global 429s in a rolling restart, BENCHMARKS.md).

use std::time::Duration;

use tokio::time::Instant;

use super::{Deliver, Shared};

/// How often a delivering worker records that it is alive, and how long a record counts.
/// Until a worker sees a newcomer both pace at their old share, so the interval bounds that
/// overlap (one small upsert per interval while delivering).
pub(super) const HEARTBEAT_EVERY: Duration = Duration::from_millis(250);
const ALIVE_FOR: chrono::Duration = chrono::Duration::seconds(10);

/// How long a worker that finds others alive at its first heartbeat waits before it claims.
/// A running worker's loop heartbeats at most two intervals after the newcomer's (it looks
/// once per interval, and the heartbeat falls due up to one interval after the look), and
/// the requests its pacer has queued at the old spacing drain within two `QUEUE_AHEAD`s
/// (the loop claims while the queue is under one, and a batch adds about one more).
pub(super) const JOIN_WAIT: Duration = Duration::from_secs(1);

/// This worker's heartbeats, and whether it may claim yet.
#[derive(Debug, Default)]
pub(super) struct Peers {
    last_heartbeat: Option<Instant>,
    /// Decided at the first heartbeat that succeeds: `Some` while the newcomer waits.
    claim_from: Option<Option<Instant>>,
}

impl Peers {
    /// Records a heartbeat if one is due and takes this worker's share of the rate.
    pub(super) async fn beat<D: Deliver>(&mut self, shared: &Shared<D>) {
        let now = Instant::now();
        if self
            .last_heartbeat
            .is_some_and(|at| now.duration_since(at) < HEARTBEAT_EVERY)
        {
            return;
        }
        self.last_heartbeat = Some(now);
        let at = shared.clock.now();
        let worker = &shared.options.worker;
        match crate::store::workers::heartbeat(&shared.pool, worker, at, ALIVE_FOR).await {
            Ok(workers) => {
                shared.deliver.share_with(workers);
                self.seen(now, workers);
            }
            Err(error) => tracing::warn!("recording the delivery heartbeat failed: {error}"),
        }
    }

    /// What the heartbeat at `now` found: `workers` alive, this one included.
    fn seen(&mut self, now: Instant, workers: u32) {
        if self.claim_from.is_some() {
            return;
        }
        let wait = (workers > 1).then(|| now + JOIN_WAIT);
        if wait.is_some() {
            tracing::info!(
                workers,
                "other delivery workers are alive: sending starts once they have slowed to their share"
            );
        }
        self.claim_from = Some(wait);
    }

    /// How long this worker must still wait before claiming anything (`None`: it may now).
    /// Until a heartbeat has succeeded the worker does not know of others and claims, as it
    /// would alone.
    pub(super) fn holding_off(&self, now: Instant) -> Option<Duration> {
        let from = self.claim_from.flatten()?;
        (from > now).then(|| from - now)
    }
}

#[cfg(test)]
mod tests {
    use super::super::QUEUE_AHEAD;
    use super::*;

    #[test]
    fn a_worker_alone_at_its_first_heartbeat_claims_at_once_and_later_newcomers_do_not_stop_it() {
        let start = Instant::now();
        let mut peers = Peers::default();
        assert_eq!(peers.holding_off(start), None, "before any heartbeat");

        peers.seen(start, 1);
        peers.seen(start + HEARTBEAT_EVERY, 2);

        assert_eq!(peers.holding_off(start + HEARTBEAT_EVERY), None);
    }

    #[test]
    fn a_newcomer_waits_until_the_others_have_slowed_and_only_once() {
        let start = Instant::now();
        let mut peers = Peers::default();

        peers.seen(start, 2);
        let waiting = peers.holding_off(start + Duration::from_millis(100));
        peers.seen(start + HEARTBEAT_EVERY, 3);
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
    fn the_wait_covers_a_running_worker_seeing_the_newcomer_and_draining_its_queue() {
        assert!(JOIN_WAIT >= 2 * HEARTBEAT_EVERY + 2 * QUEUE_AHEAD);
        assert!(JOIN_WAIT < ALIVE_FOR.to_std().unwrap_or_default());
    }
}
