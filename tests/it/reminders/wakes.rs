//! A storm of plan changes (hundreds of people subscribing a second, each change planned
//! in its command's transaction) wakes the delivery loop a few times a second, not once
//! per change: every look at the outbox costs the database a few queries.

use std::time::{Duration, Instant};

use chrono::Utc;
use confbot::jobs::Clock;

use super::Scheduler;
use crate::harness::TestDb;

/// The least time between two looks that plan changes ask for (`jobs::delivery`).
const COALESCE: Duration = Duration::from_millis(250);

#[tokio::test]
async fn a_burst_of_plan_changes_wakes_the_delivery_loop_once_per_quarter_second() {
    let db = TestDb::new().await;
    let standin = super::standin().await;
    let clock = Clock::starting_at(Utc::now(), 1);
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;

    // 100 changes 5 ms apart: each would find the loop asleep again (a look at an empty
    // outbox takes a few milliseconds), so without coalescing each would cost a look.
    let started = Instant::now();
    for _ in 0..100 {
        scheduler.plan_changed.notify_one();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let turns = scheduler.outcomes.turns();
    scheduler.stop().await;

    // The looks at start (the first, and one for each start-up replan that wakes it), then
    // at most one per COALESCE of the burst, plus the one that began it.
    let allowed = 4 + (elapsed.as_millis() / COALESCE.as_millis()) as u64 + 1;
    assert!(
        turns <= allowed,
        "{turns} looks at the outbox for 100 changes over {elapsed:?} (at most {allowed})"
    );
    assert!(turns >= 1, "the loop looked at least once");
}
