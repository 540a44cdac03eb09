//! A fan-out is sent early enough to end by its due instant, and no earlier than it needs:
//! the DMs of a 200-subscriber talk, counted at 18 requests a second (a bot limited to 20),
//! start about 11 s ahead, while the room's channel post waits for the due instant.

use chrono::{DateTime, Duration, Utc};
use confbot::jobs::{Clock, DeliveryOptions, MAX_MARGIN};
use confbot::store::outbox::OutboxStatus;

use super::{fan_out, outbox_of, Scheduler, StandIn, BARN};
use crate::harness::TestDb;

#[tokio::test]
async fn a_fan_out_starts_its_own_length_ahead_while_the_channel_post_waits_for_its_instant() {
    let db = TestDb::new().await;
    let due: DateTime<Utc> = "2026-06-01T09:00:00Z".parse().unwrap();
    let subscribers = 200;
    let conference = fan_out(&db.pool, due, subscribers).await;
    let standin = super::standin().await;
    // Counted at 20/s less a tenth, as production counts at its configured rate; the
    // stand-in answers at once, so the DMs go out much faster than they are counted.
    let per_request = DeliveryOptions::per_request_at(RATE);
    let clock = Clock::starting_at(due - Duration::seconds(13), 1);

    let scheduler = start_paced(&db, &standin, clock).await;
    scheduler
        .wait_for("the fan-out and the channel post", |c| {
            c.sent == subscribers + 1
        })
        .await;
    scheduler.stop().await;

    let rows = outbox_of(&db.pool, conference).await;
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Sent));
    // The fan-out's length, and ahead of it at most the margin for Discord's latency.
    let spread =
        chrono::Duration::from_std(per_request * (subscribers as u32 + 1) + MAX_MARGIN).unwrap();
    for row in &rows {
        let sent = row.sent_at.expect("sent");
        assert!(
            sent >= due - spread,
            "no earlier than the fan-out needs: {sent}"
        );
    }
    let channel = rows
        .iter()
        .find(|r| r.post.key.target == confbot::domain::reminders::Target::Channel(BARN))
        .and_then(|r| r.sent_at)
        .expect("the channel post");
    assert!(
        channel >= due,
        "the channel post waited for its instant: {channel}"
    );
    // The fan-out started its length (11 s) ahead of its due instant: on time even on a
    // machine too loaded to send 200 DMs in that time.
    let first_dm = rows
        .iter()
        .filter(|r| r.post.key.target != confbot::domain::reminders::Target::Channel(BARN))
        .filter_map(|r| r.sent_at)
        .min()
        .expect("DMs");
    assert!(first_dm < due, "the fan-out started early: {first_dm}");
    assert_eq!(standin.messages().posted().len(), subscribers as usize + 1);
}

#[tokio::test]
async fn under_latency_a_lone_dm_leaves_early_enough_to_arrive_by_its_due_instant() {
    let db = TestDb::new().await;
    let due: DateTime<Utc> = "2026-06-01T09:00:00Z".parse().unwrap();
    fan_out(&db.pool, due, 1).await;
    let standin = super::standin().await;
    // Every answer takes 300 ms: the DM channel opened ahead shows it.
    let latency = std::time::Duration::from_millis(300);
    standin.set_latency(latency..latency + std::time::Duration::from_millis(1), 3);
    let clock = Clock::starting_at(due - Duration::seconds(5), 1);
    let scheduler = start_paced(&db, &standin, clock).await;
    scheduler
        .wait_for("the DM and the channel post", |c| c.sent == 2)
        .await;
    scheduler.stop().await;

    let posted = standin.messages().posted();
    let dm = posted
        .iter()
        .find(|p| p.dm_user.is_some())
        .expect("the DM was created");
    let arrived = DateTime::<Utc>::from(dm.at);
    assert!(
        arrived <= clock.to_wall(due),
        "the DM arrived {} ms after its due instant",
        (arrived - clock.to_wall(due)).num_milliseconds()
    );
}

/// The rate these tests pace at: slow enough that a fan-out's length is seconds.
const RATE: u32 = 20;

/// A scheduler counting each request at [`RATE`] less a tenth, as production counts at its
/// configured rate.
async fn start_paced(db: &TestDb, standin: &StandIn, clock: Clock) -> Scheduler {
    let per_request = DeliveryOptions::per_request_at(RATE);
    Scheduler::start(&db.url, standin, clock, "w1", |options| {
        options.per_request = Some(per_request);
    })
    .await
}
