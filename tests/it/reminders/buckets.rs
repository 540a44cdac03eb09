//! A reminder channel several rooms share gets its posts as fast as its bucket allows
//! (Discord: 5 messages per channel per 5 s) and not one 429: the sender counts the
//! requests under way against the places the last answer said were left.

use chrono::{DateTime, Utc};
use confbot::jobs::Clock;
use confbot::store::outbox::OutboxStatus;

use super::{ics, ids, import, outbox_of, Scheduler, Talk, LOBBY};
use crate::harness::TestDb;

#[tokio::test]
async fn eight_rooms_sharing_a_channel_fill_its_bucket_without_a_429() {
    let db = TestDb::new().await;
    let due: DateTime<Utc> = "2026-06-01T09:00:00Z".parse().unwrap();
    let start = due + chrono::Duration::minutes(10);
    let rooms: Vec<String> = (1..=8).map(|n| format!("Room {n}")).collect();
    let uids: Vec<String> = (1..=8).map(|n| format!("t{n}")).collect();
    let talks: Vec<Talk<'_>> = rooms
        .iter()
        .zip(&uids)
        .map(|(room, uid)| Talk::new(uid, "Side by side", room, start))
        .collect();
    import(&db.pool, &ics(&talks)).await;
    let (conference, _) = ids(&db.pool, "t1").await;
    let standin = super::standin().await;

    let clock = Clock::starting_at(due, 1);
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;
    scheduler
        .wait_for("eight lobby posts", |c| c.sent == 8)
        .await;
    scheduler.stop().await;

    let rows = outbox_of(&db.pool, conference).await;
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Sent));
    let counts = standin.messages().counts();
    assert_eq!(counts.created, 8);
    assert_eq!(
        counts.rate_limited, 0,
        "the lobby's bucket was kept to: {counts:?}"
    );
    let lobby = standin
        .messages()
        .posted()
        .iter()
        .filter(|p| p.channel == LOBBY)
        .count();
    assert_eq!(lobby, 8);
}
