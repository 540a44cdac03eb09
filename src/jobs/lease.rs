//! Claims that hold for as long as their sends need them.
//!
//! A worker claims a batch of outbox rows until `now + lease`. While it holds rows it
//! renews their lease every quarter lease; a row the renewal does not return (another worker
//! took it after an expiry, or it was recorded elsewhere) is lost, and a failed renewal
//! renews nothing, so the lease runs out on its own. A send may leave only while the row is
//! still held for at least a quarter lease more (the [`MARGIN`]): then the request (its
//! timeout is well inside that margin) ends before any other worker can claim the row, so
//! two workers never have the same row in flight. A wait (rate limit, bucket refill) that
//! would not end inside the held lease minus that margin is never slept on: the row is put
//! back, due when the wait ends, and the claim given up.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::clock::Clock;
use crate::lock::lock;

/// The share of the lease a send must still have left when its request leaves.
const MARGIN: i32 = 4;
/// How long a send that is not an outbox row (an organiser log line) may wait in all.
const UNCLAIMED_WAIT: Duration = Duration::from_secs(60);

/// The lease of one claimed batch, shared by its sends and its renewals.
#[derive(Debug)]
pub struct BatchLease {
    clock: Clock,
    lease: chrono::Duration,
    held_until: Mutex<DateTime<Utc>>,
    lost: Mutex<HashSet<i64>>,
}

impl BatchLease {
    /// A batch claimed at `now` for `lease`.
    pub fn new(clock: Clock, now: DateTime<Utc>, lease: chrono::Duration) -> Arc<Self> {
        Arc::new(Self {
            clock,
            lease,
            held_until: Mutex::new(now + lease),
            lost: Mutex::new(HashSet::new()),
        })
    }

    /// How often the batch is renewed (clock time).
    pub fn renew_every(&self) -> chrono::Duration {
        self.lease / MARGIN
    }

    /// The renewal of `asked` at `now` (until `until`) returned `renewed`: the rest are lost.
    pub fn renewed(&self, asked: &[i64], renewed: &[i64], until: DateTime<Utc>) {
        let renewed: HashSet<i64> = renewed.iter().copied().collect();
        lock(&self.lost).extend(asked.iter().filter(|id| !renewed.contains(id)));
        let mut held = lock(&self.held_until);
        *held = (*held).max(until);
    }

    /// Whether row `id` is lost.
    pub fn is_lost(&self, id: i64) -> bool {
        lock(&self.lost).contains(&id)
    }

    /// Real time left for waiting before a request must have left.
    fn time_left(&self) -> Duration {
        let until = *lock(&self.held_until) - self.lease / MARGIN;
        self.clock.real_time_until(until)
    }
}

/// What one send may do under its claim: how long it may wait, and whether its request may
/// leave. Given to [`super::Deliver::deliver`].
#[derive(Debug, Clone)]
pub struct Claim {
    held: Option<(Arc<BatchLease>, i64)>,
    /// How long a send that is no outbox row may wait.
    unclaimed_wait: Duration,
    /// A clock instant the request must also have left by (see [`Claim::leaving_by`]).
    leave_by: Option<DateTime<Utc>>,
}

impl Claim {
    /// Row `id` of a claimed batch.
    pub fn of(lease: &Arc<BatchLease>, id: i64) -> Self {
        Self {
            held: Some((Arc::clone(lease), id)),
            unclaimed_wait: UNCLAIMED_WAIT,
            leave_by: None,
        }
    }

    /// This claim, with its request also leaving before `deadline` (clock time): a repeat
    /// that is safe only while Discord still remembers the first attempt's nonce.
    pub fn leaving_by(&self, deadline: DateTime<Utc>) -> Self {
        Self {
            held: self.held.clone(),
            unclaimed_wait: self.unclaimed_wait,
            leave_by: Some(deadline),
        }
    }

    /// Whether the row is still this worker's for long enough to send (its deadline, if it
    /// has one, aside).
    pub fn holds(&self) -> bool {
        !self.held_time_left().is_zero()
    }

    /// A send that is no outbox row: nothing can take it over, but it may still not wait
    /// for ever.
    pub fn unclaimed() -> Self {
        Self::unclaimed_within(UNCLAIMED_WAIT)
    }

    /// A send that is no outbox row and may wait at most `wait` (for a rate limit, a
    /// bucket): one that can be made later as well, such as opening a DM channel ahead.
    pub fn unclaimed_within(wait: Duration) -> Self {
        Self {
            held: None,
            unclaimed_wait: wait,
            leave_by: None,
        }
    }

    /// How long the send may still wait (for a rate limit, a bucket) before its request
    /// must leave: zero when the row is lost or its deadline passed.
    pub fn time_left(&self) -> Duration {
        let held = self.held_time_left();
        match (&self.held, self.leave_by) {
            (Some((lease, _)), Some(deadline)) => held.min(lease.clock.real_time_until(deadline)),
            _ => held,
        }
    }

    fn held_time_left(&self) -> Duration {
        match &self.held {
            None => self.unclaimed_wait,
            Some((lease, id)) if lease.is_lost(*id) => Duration::ZERO,
            Some((lease, _)) => lease.time_left(),
        }
    }

    /// Whether a wait of `wait` still lets the request leave under the claim.
    pub fn fits(&self, wait: Duration) -> bool {
        wait < self.time_left()
    }

    /// Whether the request may leave now: checked right before it does.
    pub fn may_leave(&self) -> bool {
        !self.time_left().is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_may_leave_only_while_a_quarter_lease_is_left() {
        let start = at("2026-06-01T09:00:00Z");
        let clock = Clock::starting_at(start, 1);
        let lease = BatchLease::new(clock, start, chrono::Duration::seconds(60));
        let claim = Claim::of(&lease, 1);

        assert_eq!(claim.time_left(), Duration::from_secs(45));
        assert!(claim.fits(Duration::from_secs(44)) && !claim.fits(Duration::from_secs(45)));
        tokio::time::advance(Duration::from_secs(44)).await;
        assert!(claim.may_leave());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!claim.may_leave(), "45 s into a 60 s lease nothing leaves");
    }

    #[tokio::test(start_paused = true)]
    async fn a_renewal_extends_the_claims_it_returned_and_loses_the_others() {
        let start = at("2026-06-01T09:00:00Z");
        let clock = Clock::starting_at(start, 1);
        let lease = BatchLease::new(clock, start, chrono::Duration::seconds(60));
        let (kept, taken) = (Claim::of(&lease, 1), Claim::of(&lease, 2));
        assert_eq!(lease.renew_every(), chrono::Duration::seconds(15));

        tokio::time::advance(Duration::from_secs(40)).await;
        lease.renewed(&[1, 2], &[1], clock.now() + chrono::Duration::seconds(60));

        assert_eq!(kept.time_left(), Duration::from_secs(45));
        assert!(!taken.may_leave() && taken.time_left().is_zero());
        // A renewal that failed renews nothing: the lease runs out by itself.
        tokio::time::advance(Duration::from_secs(45)).await;
        assert!(!kept.may_leave());
    }

    #[tokio::test(start_paused = true)]
    async fn on_a_fast_clock_the_time_left_is_real_time() {
        let start = at("2026-06-01T09:00:00Z");
        let clock = Clock::starting_at(start, 60);
        let lease = BatchLease::new(clock, start, chrono::Duration::seconds(60));

        assert_eq!(Claim::of(&lease, 1).time_left(), Duration::from_millis(750));
        assert_eq!(Claim::unclaimed().time_left(), UNCLAIMED_WAIT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_ends_the_wait_before_the_lease_does_but_the_row_stays_held() {
        let start = at("2026-06-01T09:00:00Z");
        let clock = Clock::starting_at(start, 1);
        let lease = BatchLease::new(clock, start, chrono::Duration::seconds(60));
        let claim = Claim::of(&lease, 1).leaving_by(start + chrono::Duration::seconds(10));

        assert_eq!(claim.time_left(), Duration::from_secs(10));
        assert!(claim.fits(Duration::from_secs(9)) && !claim.fits(Duration::from_secs(10)));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(!claim.may_leave(), "past its deadline nothing leaves");
        assert!(claim.holds(), "but the row is still this worker's");
        let later = Claim::of(&lease, 1).leaving_by(start + chrono::Duration::seconds(50));
        assert_eq!(
            later.time_left(),
            Duration::from_secs(35),
            "the lease ends first"
        );
    }
}
