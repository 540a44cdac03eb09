//! Discord's invalid-request limit: an IP that makes 10,000 requests answered 401, 403 or
//! 429 within 10 minutes is banned by Cloudflare for an hour, which would silence every
//! reminder. The sender counts its own such answers over a sliding 10 minutes and, long
//! before that many, stops sending until the oldest leave the window: posts wait (their
//! rows are put back, due when the pause ends) instead of risking the ban.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::lock::lock;

/// Discord's window.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Invalid answers within [`WINDOW`] after which one process stops sending: a tenth of
/// Discord's 10,000, so that several processes on one IP stay far below it too.
pub const BUDGET: usize = 1_000;

/// The invalid answers one process received, shared by its sender and its metrics.
#[derive(Debug)]
pub struct InvalidRequests {
    window: Duration,
    budget: usize,
    recent: Mutex<VecDeque<Instant>>,
    total: AtomicU64,
}

impl Default for InvalidRequests {
    fn default() -> Self {
        Self::new(WINDOW, BUDGET)
    }
}

impl InvalidRequests {
    pub fn new(window: Duration, budget: usize) -> Self {
        Self {
            window,
            budget: budget.max(1),
            recent: Mutex::new(VecDeque::new()),
            total: AtomicU64::new(0),
        }
    }

    /// Whether a response status counts: 401, 403 and 429, as Discord counts them.
    pub fn counts(status: u16) -> bool {
        matches!(status, 401 | 403 | 429)
    }

    /// Records one invalid answer at `now`.
    pub fn record(&self, now: Instant) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut recent = lock(&self.recent);
        recent.push_back(now);
        Self::expire(&mut recent, now, self.window);
    }

    /// How long no request may be made from `now` on: until enough invalid answers have left
    /// the window for the count to be under the budget again. `None`: sending is fine.
    pub fn paused_for(&self, now: Instant) -> Option<Duration> {
        let mut recent = lock(&self.recent);
        Self::expire(&mut recent, now, self.window);
        if recent.len() < self.budget {
            return None;
        }
        // The one whose leaving brings the count under the budget.
        let index = recent.len() - self.budget;
        recent
            .get(index)
            .map(|at| (*at + self.window).saturating_duration_since(now))
    }

    /// Invalid answers within the window at `now`.
    pub fn in_window(&self, now: Instant) -> usize {
        let mut recent = lock(&self.recent);
        Self::expire(&mut recent, now, self.window);
        recent.len()
    }

    /// Invalid answers since start.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    fn expire(recent: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while recent
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= window)
        {
            recent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sending_stops_at_the_budget_until_the_oldest_leave_the_window() {
        let start = Instant::now();
        let invalid = InvalidRequests::new(Duration::from_secs(600), 3);
        for second in [0, 10, 20] {
            assert_eq!(
                invalid.paused_for(start + Duration::from_secs(second)),
                None
            );
            invalid.record(start + Duration::from_secs(second));
        }

        let at_30 = start + Duration::from_secs(30);
        assert_eq!(invalid.paused_for(at_30), Some(Duration::from_secs(570)));
        assert_eq!(invalid.in_window(at_30), 3);
        // The first leaves the window at 600 s: one under the budget again.
        assert_eq!(invalid.paused_for(start + Duration::from_secs(600)), None);
        assert_eq!(invalid.in_window(start + Duration::from_secs(600)), 2);
        assert_eq!(invalid.total(), 3);
    }

    #[test]
    fn only_401_403_and_429_count() {
        let counted: Vec<u16> = [200, 204, 400, 401, 403, 404, 429, 500, 502]
            .into_iter()
            .filter(|s| InvalidRequests::counts(*s))
            .collect();
        assert_eq!(counted, [401, 403, 429]);
    }
}
