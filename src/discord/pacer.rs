//! Pacing towards Discord's global rate limit: at most `rate` requests a second from this
//! process, whatever serenity's own limiter does (it is off behind `discord.proxy_url`, and
//! it does not hold other requests back after a global 429).
//!
//! Slots are handed out evenly, one every `1/rate` seconds, to whoever asks first; a
//! global 429 pushes every later slot past its `retry_after`. Even spacing (no bursts)
//! keeps any one-second window at or under the limit, so a fan-out runs at the allowed
//! rate instead of alternating bursts and penalties.

use std::sync::Mutex;

use crate::lock::lock;
use std::time::Duration;

use tokio::time::Instant;

/// Hands out send slots at a fixed rate.
#[derive(Debug)]
pub struct Pacer {
    rate: u32,
    /// `1/rate`, or `workers/rate` while several processes share the limit.
    interval: Mutex<Duration>,
    /// The earliest instant the next slot may start.
    next: Mutex<Instant>,
}

impl Pacer {
    /// A pacer for `rate` requests per second (at least 1).
    pub fn new(rate: u32) -> Self {
        Self {
            rate: rate.max(1),
            interval: Mutex::new(Duration::from_secs(1) / rate.max(1)),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this caller's slot: each call gets its own, `interval` after the previous
    /// one (or at once when the pacer has been idle). Unless the slot is more than `max`
    /// away: then nothing is taken and the wait is returned, for a caller that may not wait
    /// that long (a send whose claim would run out meanwhile).
    pub async fn acquire_within(&self, max: Duration) -> Result<(), Duration> {
        let interval = *lock(&self.interval);
        let slot = {
            let mut next = lock(&self.next);
            let now = Instant::now();
            let slot = (*next).max(now);
            if slot - now > max {
                return Err(slot - now);
            }
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
        Ok(())
    }

    /// How long a request asking now would wait for its slot: the queue of slots already
    /// handed out (zero when the pacer is idle).
    pub fn backlog(&self) -> Duration {
        let next = *lock(&self.next);
        next.saturating_duration_since(Instant::now())
    }

    /// Paces at `1/workers` of the rate: `workers` processes share the limit.
    pub fn share_with(&self, workers: u32) {
        let share = (self.rate / workers.max(1)).max(1);
        *lock(&self.interval) = Duration::from_secs(1) / share;
    }

    /// Holds every slot back until `wait` from now (a global 429's `retry_after`).
    pub fn pause(&self, wait: Duration) {
        let mut next = lock(&self.next);
        *next = (*next).max(Instant::now() + wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Pacer {
        async fn acquire(&self) {
            self.acquire_within(Duration::MAX).await.expect("no limit");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_evenly_at_the_rate() {
        let pacer = Pacer::new(50);
        let start = Instant::now();

        let mut at = Vec::new();
        for _ in 0..5 {
            pacer.acquire().await;
            at.push(Instant::now() - start);
        }

        let ms: Vec<u128> = at.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 20, 40, 60, 80]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_back_the_next_slots() {
        let pacer = Pacer::new(10);
        let start = Instant::now();
        pacer.acquire().await;

        pacer.pause(Duration::from_secs(2));
        pacer.acquire().await;
        let after_pause = Instant::now() - start;
        pacer.acquire().await;
        let next = Instant::now() - start;

        assert_eq!(after_pause, Duration::from_secs(2));
        assert_eq!(next, Duration::from_millis(2100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_further_away_than_the_caller_may_wait_is_not_taken() {
        let pacer = Pacer::new(10);
        pacer.pause(Duration::from_secs(30));
        let start = Instant::now();

        let refused = pacer.acquire_within(Duration::from_secs(10)).await;
        let taken = pacer.acquire_within(Duration::from_secs(31)).await;
        let next = pacer.acquire_within(Duration::from_millis(100)).await;

        assert_eq!(refused, Err(Duration::from_secs(30)));
        assert_eq!(taken, Ok(()));
        assert_eq!(
            Instant::now() - start,
            Duration::from_millis(30_100),
            "the refusal took no slot"
        );
        assert_eq!(next, Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn two_workers_each_take_half_the_rate() {
        let pacer = Pacer::new(50);
        pacer.share_with(2);
        let start = Instant::now();

        for _ in 0..3 {
            pacer.acquire().await;
        }
        pacer.share_with(1);
        pacer.acquire().await;
        pacer.acquire().await;

        assert_eq!(
            Instant::now() - start,
            Duration::from_millis(40 + 40 + 40 + 20)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_backlog_is_the_wait_for_the_next_slot() {
        let pacer = Pacer::new(10);
        assert_eq!(pacer.backlog(), Duration::ZERO);
        for _ in 0..3 {
            // Taken but not yet waited for: three slots 100 ms apart are queued.
            let _ = pacer.acquire_within(Duration::ZERO).await;
        }
        // Only the first slot (now) was free; the two others were refused and took nothing.
        assert_eq!(pacer.backlog(), Duration::from_millis(100));
        let waiting = tokio::spawn(async move {
            let pacer = std::sync::Arc::new(pacer);
            let queued: Vec<_> = (0..3)
                .map(|_| {
                    let pacer = std::sync::Arc::clone(&pacer);
                    tokio::spawn(async move { pacer.acquire().await })
                })
                .collect();
            tokio::task::yield_now().await;
            let backlog = pacer.backlog();
            for task in queued {
                task.await.unwrap();
            }
            (backlog, pacer.backlog())
        });
        let (queued, drained) = waiting.await.unwrap();
        assert_eq!(queued, Duration::from_millis(400));
        assert_eq!(drained, Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_pacer_does_not_bank_slots() {
        let pacer = Pacer::new(10);
        pacer.acquire().await;
        tokio::time::advance(Duration::from_secs(5)).await;
        let start = Instant::now();

        pacer.acquire().await;
        pacer.acquire().await;

        assert_eq!(Instant::now() - start, Duration::from_millis(100));
    }
}
