//! How long Discord took to answer lately: a fan-out ends that much ahead of its due
//! instant, so that its last message has arrived by then.

use std::time::Duration;

/// The durations of the last [`Latencies::KEPT`] requests.
#[derive(Debug, Default)]
pub(super) struct Latencies {
    recent: std::collections::VecDeque<Duration>,
}

impl Latencies {
    const KEPT: usize = 64;

    pub(super) fn record(&mut self, took: Duration) {
        if self.recent.len() == Self::KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back(took);
    }

    pub(super) fn slowest(&self) -> Duration {
        self.recent.iter().copied().max().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latency_is_the_slowest_of_the_last_requests() {
        let mut latencies = Latencies::default();
        assert_eq!(latencies.slowest(), Duration::ZERO);
        latencies.record(Duration::from_millis(900));
        for _ in 0..Latencies::KEPT - 1 {
            latencies.record(Duration::from_millis(150));
        }
        assert_eq!(latencies.slowest(), Duration::from_millis(900));
        latencies.record(Duration::from_millis(150));
        assert_eq!(
            latencies.slowest(),
            Duration::from_millis(150),
            "only the last {} count",
            Latencies::KEPT
        );
    }
}
