//! The delivery loop's clock: the wall clock in production; a clock set to another instant,
//! or running faster, for rehearsals (`confbot demo --fast N`) and tests.
//!
//! Every instant that decides something comes from [`Clock::now`], and every sleep goes
//! through [`Clock::sleep_until`], so a shifted or accelerated clock moves the whole
//! scheduler consistently.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// A source of "now" and of sleeps until an instant.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `Utc::now()`: follows the system clock, including NTP corrections.
    Wall,
    /// `start` at the monotonic instant `origin`, running `speed` times faster.
    Shifted {
        origin: Instant,
        start: DateTime<Utc>,
        speed: u32,
    },
}

impl Clock {
    /// The system's wall clock.
    pub fn wall() -> Self {
        Self { kind: Kind::Wall }
    }

    /// A clock that reads `start` now and then runs `speed` times as fast as real time
    /// (a speed of 0 counts as 1).
    pub fn starting_at(start: DateTime<Utc>, speed: u32) -> Self {
        Self {
            kind: Kind::Shifted {
                origin: Instant::now(),
                start,
                speed: speed.max(1),
            },
        }
    }

    /// The current instant on this clock.
    pub fn now(&self) -> DateTime<Utc> {
        match self.kind {
            Kind::Wall => Utc::now(),
            Kind::Shifted {
                origin,
                start,
                speed,
            } => {
                let elapsed = origin.elapsed().saturating_mul(speed);
                chrono::Duration::from_std(elapsed)
                    .ok()
                    .and_then(|elapsed| start.checked_add_signed(elapsed))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC)
            }
        }
    }

    /// How much real time passes until this clock reads `at` (zero if it already has).
    pub fn real_time_until(&self, at: DateTime<Utc>) -> Duration {
        let ahead = (at - self.now()).to_std().unwrap_or(Duration::ZERO);
        match self.kind {
            Kind::Wall => ahead,
            Kind::Shifted { speed, .. } => ahead / speed,
        }
    }

    /// How much of this clock's time passes in `real` real time.
    pub fn stretch(&self, real: Duration) -> chrono::Duration {
        let speed = match self.kind {
            Kind::Wall => 1,
            Kind::Shifted { speed, .. } => speed,
        };
        chrono::Duration::from_std(real.saturating_mul(speed)).unwrap_or(chrono::TimeDelta::MAX)
    }

    /// The wall-clock instant at which this clock read (or will read) `at`: what Discord's
    /// timestamps and snowflakes of that moment say.
    pub fn to_wall(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        match self.kind {
            Kind::Wall => at,
            Kind::Shifted { speed, .. } => {
                let ahead = self.now() - at;
                Utc::now() - ahead / i32::try_from(speed).unwrap_or(i32::MAX)
            }
        }
    }

    /// Sleeps until the clock reads `at`. With the wall clock the remaining time is
    /// re-read after the sleep, so a system clock that was stepped back is waited out.
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        loop {
            let wait = self.real_time_until(at);
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// Tells when a clock has entered a new minute since it was last asked: the minute sweeps
/// are woken often in real time and run once a minute of the clock's time, so the same code
/// runs them on the wall clock and on a fast one.
#[derive(Debug, Default)]
pub struct MinuteTurns {
    last: Option<i64>,
}

impl MinuteTurns {
    /// Whether `now` lies in a later minute than the last instant asked about (the first
    /// question only sets the minute: a sweep runs at the start anyway).
    pub fn turned(&mut self, now: DateTime<Utc>) -> bool {
        let minute = now.timestamp().div_euclid(60);
        let turned = self.last.is_some_and(|last| minute > last);
        if !matches!(self.last, Some(last) if minute <= last) {
            self.last = Some(minute);
        }
        turned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_shifted_clock_starts_at_its_instant_and_advances_with_time() {
        let clock = Clock::starting_at(instant("2026-04-25T22:34:50Z"), 1);

        let at_start = clock.now();
        tokio::time::advance(Duration::from_secs(10)).await;

        assert_eq!(at_start, instant("2026-04-25T22:34:50Z"));
        assert_eq!(clock.now(), instant("2026-04-25T22:35:00Z"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_clock_sleeps_a_fraction_of_the_clock_time() {
        let clock = Clock::starting_at(instant("2026-04-25T22:00:00Z"), 60);

        let wait = clock.real_time_until(instant("2026-04-25T22:10:00Z"));
        clock.sleep_until(instant("2026-04-25T22:10:00Z")).await;

        assert_eq!(wait, Duration::from_secs(10));
        assert!(clock.now() >= instant("2026-04-25T22:10:00Z"));
        assert!(clock.now() < instant("2026-04-25T22:10:01Z"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_shifted_instant_maps_to_the_wall_clock_moment_it_was_read() {
        let clock = Clock::starting_at(instant("2026-04-25T22:00:00Z"), 60);
        let wall = Utc::now();

        let mapped = clock.to_wall(instant("2026-04-25T21:50:00Z"));

        let off = (mapped - (wall - chrono::Duration::seconds(10)))
            .num_milliseconds()
            .abs();
        assert!(
            off < 1_000,
            "ten clock minutes are ten real seconds: {mapped} vs {wall}"
        );
        assert_eq!(Clock::wall().to_wall(wall), wall);
    }

    #[tokio::test(start_paused = true)]
    async fn an_instant_in_the_past_needs_no_sleep() {
        let clock = Clock::starting_at(instant("2026-04-25T22:00:00Z"), 1);

        let wait = clock.real_time_until(instant("2026-04-25T21:00:00Z"));

        assert_eq!(wait, Duration::ZERO);
    }

    #[test]
    fn a_minute_turns_once_per_minute_of_the_clocks_time() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let mut turns = MinuteTurns::default();

        assert!(
            !turns.turned(at("2026-06-01T09:00:30Z")),
            "the first look only sets it"
        );
        assert!(!turns.turned(at("2026-06-01T09:00:59Z")));
        assert!(turns.turned(at("2026-06-01T09:01:00Z")));
        assert!(!turns.turned(at("2026-06-01T09:01:01Z")));
        // A fast clock crosses many minutes between two looks: one turn.
        assert!(turns.turned(at("2026-06-01T09:11:01Z")));
        // A clock set back (NTP) waits for its minute to pass the last one again.
        assert!(!turns.turned(at("2026-06-01T09:10:59Z")));
        assert!(turns.turned(at("2026-06-01T09:12:00Z")));
    }
}
