//! One request per DM: subscribers' DM channels are opened ahead of the fan-out (while
//! nothing is due) and stored, so every process reuses them; a user who refuses DMs is not
//! asked again until they interact with the bot.

use chrono::{DateTime, Duration, Utc};
use confbot::jobs::Clock;
use confbot::store::dm_channels;
use confbot::store::outbox::OutboxStatus;

use super::{fan_out, ics, ids, import, outbox_of, subscribe, Scheduler, Talk, BARN};
use crate::discord::standin::{Recorded, StandIn, WAIT};
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

/// A talk due at `due` with `users` subscribers, its reminders planned at `now`.
async fn planned_fan_out(db: &TestDb, due: DateTime<Utc>, users: u64, now: DateTime<Utc>) {
    fan_out(&db.pool, due, users).await;
    super::plan_all(&db.pool, now).await;
}

/// Users to open, taken by one process: sorted, to compare as sets.
async fn take(db: &TestDb, now: DateTime<Utc>, hold: Duration, limit: u32) -> Vec<u64> {
    let due_before = now + Duration::hours(2);
    let mut taken = dm_channels::take_to_open(&db.pool, due_before, now, now + hold, limit)
        .await
        .expect("take");
    taken.sort_unstable();
    taken
}

#[tokio::test]
async fn processes_looking_ahead_together_are_given_different_users_to_open() {
    let db = TestDb::new().await;
    let due = at("2026-06-01T09:00:00Z");
    let now = due - Duration::minutes(30);
    planned_fan_out(&db, due, 10, now).await;
    let hold = Duration::seconds(30);

    let first = take(&db, now, hold, 6).await;
    let second = take(&db, now, hold, 6).await;
    assert_eq!(first.len(), 6);
    assert_eq!(
        second.len(),
        4,
        "held users are not given again: {second:?}"
    );
    let mut all: Vec<u64> = first.iter().chain(&second).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (1..=10).collect::<Vec<_>>());
    assert!(
        take(&db, now, hold, 6).await.is_empty(),
        "every user is held"
    );

    // Let go (the pacer had no slot): given again. Opened or refused: never again. A let-go
    // of a hold taken since by someone else (another `until`) leaves that hold alone.
    dm_channels::let_go(&db.pool, first[0], now)
        .await
        .expect("let go");
    assert!(take(&db, now, hold, 6).await.is_empty(), "not this hold");
    dm_channels::let_go(&db.pool, first[0], now + hold)
        .await
        .expect("let go");
    dm_channels::remember(&db.pool, first[1], 900, now)
        .await
        .expect("remember");
    dm_channels::mark_closed(&db.pool, first[2], None, now)
        .await
        .expect("closed");
    assert_eq!(take(&db, now, hold, 6).await, vec![first[0]]);

    // A DM claimed by a process sending it: the send opens the channel, the look-ahead not,
    // even for the user's next DM (a second talk five minutes later).
    let claimed = first[3];
    let start = due + Duration::minutes(10);
    let talks = [
        Talk::new("big", "Everybody Comes", "Barn", start),
        Talk::new(
            "later",
            "Some Come Back",
            "Barn",
            start + Duration::minutes(5),
        ),
    ];
    import(&db.pool, &ics(&talks)).await;
    let (conference, later) = ids(&db.pool, "later").await;
    subscribe(&db.pool, conference, claimed, later).await;
    super::plan_all(&db.pool, now).await;
    let claim = sqlx::query(
        "UPDATE outbox SET claimed_by = 'sender', claimed_until = $2, claimed_at = $3
          WHERE target_kind = 'dm' AND target_id = $1 AND due_at = $4",
    )
    .bind(i64::try_from(claimed).expect("small"))
    .bind(now + hold + Duration::seconds(10))
    .bind(now)
    .bind(due)
    .execute(&db.pool)
    .await
    .expect("claim");
    assert_eq!(claim.rows_affected(), 1, "the first of two DMs claimed");

    // A hold that outlived its process (it died mid-open) is taken again once it ran out.
    let later = take(&db, now + hold + Duration::seconds(1), hold, 20).await;
    let settled = [first[1], first[2]];
    let expected: Vec<u64> = (1..=10)
        .filter(|u| !settled.contains(u) && *u != claimed)
        .collect();
    assert_eq!(later, expected);
    // Once its claim ran out (its process died), the look-ahead may open it again.
    let after_claim = take(&db, now + hold + Duration::seconds(11), hold, 20).await;
    assert_eq!(after_claim, vec![claimed]);
}

#[tokio::test]
async fn a_take_meeting_another_under_way_waits_for_it_and_skips_its_users() {
    let db = TestDb::new().await;
    let due = at("2026-06-01T09:00:00Z");
    let now = due - Duration::minutes(30);
    planned_fan_out(&db, due, 30, now).await;
    let (due_before, hold_until) = (now + Duration::hours(2), now + Duration::seconds(30));

    // `a` has taken the 15 soonest and not committed yet; `b` looks at that moment, when its
    // snapshot shows no hold, so it goes for the same users and waits on `a`'s rows.
    let mut a = db.pool.begin().await.expect("begin");
    let taken_by_a = dm_channels::take_to_open(&mut *a, due_before, now, hold_until, 15)
        .await
        .expect("a takes");
    let pool = db.pool.clone();
    let b = tokio::spawn(async move {
        dm_channels::take_to_open(&pool, due_before, now, hold_until, 15).await
    });
    let waiting = tokio::time::timeout(WAIT, async {
        loop {
            let (waiting,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND wait_event_type = 'Lock'
                    AND query LIKE '%dm_channel_opening%'",
            )
            .fetch_one(&db.pool)
            .await
            .expect("pg_stat_activity");
            if waiting > 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    waiting.expect("b waits on a's holds");
    a.commit().await.expect("commit");
    let taken_by_b = b
        .await
        .expect("b ran")
        .expect("b takes, without a deadlock");

    assert_eq!(taken_by_a.len(), 15);
    assert!(
        taken_by_b.is_empty(),
        "a's users went to b too: {taken_by_b:?}"
    );
    let mut all: Vec<u64> = taken_by_a.into_iter().collect();
    all.extend(take(&db, now, Duration::seconds(30), 20).await);
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=30).collect::<Vec<_>>(),
        "the next take, the others"
    );
}

#[tokio::test]
async fn a_user_whose_channel_discord_would_not_open_is_tried_again_after_interacting() {
    let db = TestDb::new().await;
    let due = at("2026-06-01T09:00:00Z");
    let now = due - Duration::minutes(30);
    planned_fan_out(&db, due, 1, now).await;
    assert_eq!(take(&db, now, Duration::seconds(30), 5).await, vec![1]);
    dm_channels::mark_closed(&db.pool, 1, None, now)
        .await
        .expect("refused");
    assert!(take(&db, now, Duration::seconds(30), 5).await.is_empty());
    let known = dm_channels::of_users(&db.pool, &[1]).await.expect("known");
    assert_eq!(known.get(&1), Some(&dm_channels::DmChannel::Closed));

    assert!(dm_channels::reopen(&db.pool, 1).await.expect("reopen"));
    let known = dm_channels::of_users(&db.pool, &[1]).await.expect("known");
    assert!(known.is_empty(), "no channel is known: {known:?}");
    assert_eq!(take(&db, now, Duration::seconds(30), 5).await, vec![1]);
    assert!(
        !dm_channels::reopen(&db.pool, 1).await.expect("reopen"),
        "not closed any more"
    );
}
