//! Under Discord's latency the delivery loop keeps requests in flight back to back: it
//! claims the next batch as soon as the previous batch's requests are queued, not once
//! they are answered, so a slow answer does not lower the rate.

use chrono::{DateTime, Utc};
use confbot::jobs::Clock;
use confbot::store::outbox::OutboxStatus;

use super::{fan_out, outbox_of, Scheduler};
use crate::harness::TestDb;

#[tokio::test]
async fn more_than_one_batch_waits_for_its_answers_at_once() {
    let db = TestDb::new().await;
    let due: DateTime<Utc> = "2026-06-01T09:00:00Z".parse().unwrap();
    let subscribers = 60;
    let conference = fan_out(&db.pool, due, subscribers).await;
    let standin = super::standin().await;
    // Every answer takes half a second: one batch at a time would keep at most a batch
    // of requests open.
    standin.set_latency(
        std::time::Duration::from_millis(500)..std::time::Duration::from_millis(501),
        7,
    );
    let batch = 12;
    let clock = Clock::starting_at(due, 1);
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |options| {
        options.batch = batch;
        options.concurrency = batch as usize;
        options.in_flight = 100;
        // Every DM at its due instant: the fan-out is all due at once.
        options.per_request = None;
    })
    .await;
    scheduler
        .wait_for("the fan-out and the channel post", |c| {
            c.sent == subscribers + 1
        })
        .await;
    scheduler.stop().await;

    let rows = outbox_of(&db.pool, conference).await;
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Sent));
    assert_eq!(standin.messages().posted().len(), subscribers as usize + 1);
    let most = standin.most_open_requests();
    assert!(
        most > batch as usize,
        "at most {most} requests were open at once: batches waited for each other's answers"
    );
}
