//! One request per DM: subscribers' DM channels are opened ahead of the fan-out (while
//! nothing is due) and stored, so every process reuses them; a user who refuses DMs is not
//! asked again until they interact with the bot.

use chrono::{DateTime, Duration, Utc};
use confbot::jobs::Clock;
use confbot::store::dm_channels;
use confbot::store::outbox::OutboxStatus;

use super::{fan_out, ics, ids, import, outbox_of, subscribe, Scheduler, Talk, BARN};
use crate::discord::standin::{Recorded, StandIn};
use crate::harness::TestDb;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

fn is_open(request: &Recorded) -> bool {
    request.method == "POST" && request.path.ends_with("/users/@me/channels")
}

fn is_post(request: &Recorded) -> bool {
    request.method == "POST" && request.path.ends_with("/messages")
}

fn opens(standin: &StandIn) -> usize {
    standin.requests().iter().filter(|r| is_open(r)).count()
}

#[tokio::test]
async fn dm_channels_are_opened_ahead_and_the_fan_out_costs_one_request_per_dm() {
    let db = TestDb::new().await;
    let due = at("2026-06-01T09:00:00Z");
    let conference = fan_out(&db.pool, due, 20).await;
    let users: Vec<u64> = (1..=20).collect();
    let standin = super::standin().await;

    // Half an hour ahead nothing is due: one process opens the channels meanwhile.
    let early = Clock::starting_at(due - Duration::minutes(30), 1);
    let scheduler = Scheduler::start(&db.url, &standin, early, "w1", |_| {}).await;
    scheduler
        .wait_for("the channels opened", |c| c.dm_channels_opened == 20)
        .await;
    scheduler.stop().await;
    assert!(standin.messages().posted().is_empty(), "nothing was due");
    let stored = dm_channels::of_users(&db.pool, &users)
        .await
        .expect("stored");
    assert_eq!(stored.len(), users.len());

    // Another process sends the fan-out with them.
    let clock = Clock::starting_at(due - Duration::seconds(2), 1);
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w2", |_| {}).await;
    scheduler.wait_for("the fan-out", |c| c.sent == 21).await;
    scheduler.stop().await;

    let requests = standin.requests();
    assert_eq!(
        opens(&standin),
        users.len(),
        "one open per subscriber, ever"
    );
    let posts = requests.iter().filter(|r| is_post(r)).count();
    assert_eq!(
        posts,
        users.len() + 1,
        "one request per DM, one channel post"
    );
    let rows = outbox_of(&db.pool, conference).await;
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Sent));
}

#[tokio::test]
async fn a_user_who_refuses_dms_is_not_asked_again_until_they_interact() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    // Reminders due at t0, t0 + 5 min and t0 + 10 min.
    let due: Vec<DateTime<Utc>> = (0..3).map(|i| t0 + Duration::minutes(5 * i)).collect();
    let talks: Vec<Talk> = ["a", "b", "c"]
        .iter()
        .zip(&due)
        .map(|(uid, due)| Talk::new(uid, "Keynote", "Barn", *due + Duration::minutes(10)))
        .collect();
    import(&db.pool, &ics(&talks)).await;
    let conference = ids(&db.pool, "a").await.0;
    for uid in ["a", "b", "c"] {
        subscribe(&db.pool, conference, 7, ids(&db.pool, uid).await.1).await;
    }
    let standin = super::standin().await;
    standin.messages().close_dms(7);
    let dm_attempts = |standin: &StandIn| {
        standin
            .requests()
            .iter()
            .filter(|r| is_post(r) && !r.path.contains(&BARN.to_string()))
            .count()
    };
    // One process per reminder, each started just before it is due.
    let run = |due: DateTime<Utc>, worker: &'static str| {
        let (url, standin) = (db.url.clone(), &standin);
        async move {
            let clock = Clock::starting_at(due - Duration::seconds(2), 1);
            let scheduler = Scheduler::start(&url, standin, clock, worker, |_| {}).await;
            scheduler
                .wait_for("the channel post and the DM's outcome", |c| {
                    c.sent + c.failed == 2
                })
                .await;
            scheduler.stop().await;
        }
    };

    run(due[0], "w1").await;
    run(due[1], "w2").await;
    assert_eq!(dm_attempts(&standin), 1, "a refusing user is asked once");
    let failed: Vec<_> = outbox_of(&db.pool, conference)
        .await
        .into_iter()
        .filter(|r| r.status == OutboxStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed
            .iter()
            .all(|r| r.last_error.as_deref().is_some_and(|e| e.contains("50007"))),
        "{failed:?}"
    );

    // They interact (having opened their DMs meanwhile): the next DM is tried, and arrives.
    assert!(dm_channels::reopen(&db.pool, 7).await.expect("reopen"));
    standin.messages().open_dms(7);
    run(due[2], "w3").await;
    assert_eq!(dm_attempts(&standin), 2);
    let to_7 = standin.messages().posted();
    assert_eq!(to_7.iter().filter(|p| p.dm_user == Some(7)).count(), 1);
    assert_eq!(opens(&standin), 1, "the stored channel was kept");
}
