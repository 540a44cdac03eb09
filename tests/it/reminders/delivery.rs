//! Delivery: on time, in the room's channel and by DM, with the true remaining time after
//! downtime, and Discord's failures handled (closed DMs, deleted channels, 429s, 5xx).

use std::time::Duration;

use chrono::{DateTime, Utc};
use confbot::domain::reminders::{Subject, Target};
use confbot::jobs::{Clock, MAX_MARGIN};
use confbot::store::outbox::OutboxStatus;
use serde_json::json;

use super::{ics, ids, import, outbox_of, subscribe, Scheduler, Talk, BARN, LOBBY};
use crate::fixtures::SEED_ICS;
use crate::harness::TestDb;

const SEED_TEXT: &str = "⏰ **Python as Orchestrator: When to Glue, When to Compute** — \
    Freya Bhushan Mehta — starting in 10 minutes in Barn (<t:1777157100:R>)\n\
    <https://pretalx.northbaypython.org/nbpy-2026/talk/ERUJ9T/>";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

#[tokio::test]
async fn the_seed_talk_is_reminded_at_22_35_in_the_barn_channel_and_to_its_subscriber() {
    let db = TestDb::new().await;
    import(&db.pool, SEED_ICS).await;
    let (conference, talk) = ids(
        &db.pool,
        "pretalx-nbpy-2026-ERUJ9T@pretalx.northbaypython.org",
    )
    .await;
    subscribe(&db.pool, conference, 42, talk).await;
    let standin = super::standin().await;
    // Three seconds before the reminder is due: time for the scheduler to start.
    let clock = Clock::starting_at(at("2026-04-25T22:34:57Z"), 1);

    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;
    scheduler
        .wait_for("two sent reminders", |c| c.sent == 2)
        .await;
    scheduler.stop().await;
    let posted = standin.messages().posted();

    let channel = posted
        .iter()
        .find(|p| p.channel == BARN)
        .expect("a post in Barn");
    let dm = posted
        .iter()
        .find(|p| p.dm_user == Some(42))
        .expect("a DM to 42");
    assert_eq!(channel.content, SEED_TEXT);
    assert_eq!(dm.content, SEED_TEXT);
    assert_eq!(posted.len(), 2, "nothing else was posted");
    for post in [channel, dm] {
        assert_eq!(post.body["allowed_mentions"]["parse"], json!([]));
        assert_eq!(post.body["enforce_nonce"], json!(true));
    }
    assert_eq!(
        channel.body["components"][0]["components"][0]["custom_id"],
        json!(format!("remind:{}", talk.0))
    );
    assert_eq!(
        dm.body["components"],
        json!([]),
        "a DM has no Remind me button"
    );
    let rows = outbox_of(&db.pool, conference).await;
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.status, OutboxStatus::Sent);
        assert_eq!(row.post.due, at("2026-04-25T22:35:00Z"));
        let sent = row.sent_at.expect("sent at");
        // A DM leaves ahead of its due instant by Discord's recent latency (at most
        // `MAX_MARGIN`), so that it is there by then: the DM channel opened ahead gives the
        // sender a latency of a few milliseconds on a busy machine. A channel post never
        // leaves early.
        let ahead = match row.post.key.target {
            Target::Dm(_) => chrono::Duration::from_std(MAX_MARGIN).expect("2 s"),
            _ => chrono::Duration::zero(),
        };
        let due = at("2026-04-25T22:35:00Z");
        assert!(
            sent >= due - ahead && sent < at("2026-04-25T22:35:01Z"),
            "sent within a second of its due time, at {sent}"
        );
        assert_eq!(
            Some(row.nonce.as_str()),
            posted
                .iter()
                .find(|p| p.nonce.as_deref() == Some(row.nonce.as_str()))
                .and_then(|p| p.nonce.as_deref())
        );
    }
}

#[tokio::test]
async fn after_downtime_a_reminder_states_the_true_time_left_and_one_for_a_started_talk_is_dropped()
{
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    import(
        &db.pool,
        &ics(&[
            Talk::new(
                "late",
                "Caught Up",
                "Barn",
                t0 + chrono::Duration::minutes(3),
            ),
            Talk::new(
                "gone",
                "Already Running",
                "Loft",
                t0 - chrono::Duration::minutes(2),
            ),
        ]),
    )
    .await;
    // Planned at 08:45, then the bot was down until 09:00: both reminders are overdue.
    super::plan_all(&db.pool, t0 - chrono::Duration::minutes(15)).await;
    let standin = super::standin().await;
    let clock = Clock::starting_at(t0, 1);

    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;
    scheduler
        .wait_for("one sent, one dropped", |c| c.sent == 1 && c.dropped == 1)
        .await;
    let posted = standin.messages().posted();
    scheduler.stop().await;
    let (conference, gone) = ids(&db.pool, "gone").await;
    let dropped = error_of(&db.pool, conference, gone, OutboxStatus::Dropped).await;

    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].channel, BARN);
    assert!(
        posted[0]
            .content
            .contains("Caught Up** — starting in 3 minutes in Barn"),
        "{}",
        posted[0].content
    );
    assert!(
        dropped.contains("the talk started at 2026-06-01T08:58:00Z"),
        "{dropped}"
    );
    assert!(standin
        .messages()
        .posted()
        .iter()
        .all(|p| p.channel != LOBBY));
}

/// The last_error of the talk's outbox row in `status` (there must be one).
async fn error_of(
    pool: &sqlx::PgPool,
    conference: i64,
    talk: confbot::domain::model::TalkId,
    status: OutboxStatus,
) -> String {
    let rows = outbox_of(pool, conference).await;
    let row = rows
        .iter()
        .find(|r| r.post.key.subject == Subject::Talk(talk) && r.status == status)
        .unwrap_or_else(|| panic!("no {status:?} row for {talk:?}: {rows:?}"));
    row.last_error.clone().unwrap_or_default()
}

#[tokio::test]
async fn a_closed_dm_is_recorded_and_not_retried_and_the_channel_post_still_goes_out() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    import(
        &db.pool,
        &ics(&[Talk::new(
            "t",
            "Open Talk",
            "Barn",
            t0 + chrono::Duration::minutes(10),
        )]),
    )
    .await;
    let (conference, t) = ids(&db.pool, "t").await;
    subscribe(&db.pool, conference, 7, t).await;
    subscribe(&db.pool, conference, 8, t).await;
    let standin = super::standin().await;
    standin.messages().close_dms(7);

    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "w1", |_| {}).await;
    scheduler
        .wait_for("two sent, one failed", |c| c.sent == 2 && c.failed == 1)
        .await;
    let posted = standin.messages().posted();
    scheduler.stop().await;
    let error = error_of(&db.pool, conference, t, OutboxStatus::Failed).await;

    let targets: Vec<(u64, Option<u64>)> = posted.iter().map(|p| (p.channel, p.dm_user)).collect();
    assert!(targets.contains(&(BARN, None)), "{targets:?}");
    assert!(
        targets.iter().any(|(_, user)| *user == Some(8)),
        "{targets:?}"
    );
    assert!(error.contains("50007"), "{error}");
    let failed: Vec<_> = outbox_of(&db.pool, conference)
        .await
        .into_iter()
        .filter(|r| r.status == OutboxStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 1, "a closed DM is tried once");
    assert_eq!(standin.messages().counts().attempts, 3);
}

#[tokio::test]
async fn a_deleted_channel_fails_its_post_without_retrying() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    import(
        &db.pool,
        &ics(&[Talk::new(
            "t",
            "Lost Room",
            "Barn",
            t0 + chrono::Duration::minutes(10),
        )]),
    )
    .await;
    let (conference, t) = ids(&db.pool, "t").await;
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, organiser_log_channel, updated_by)
         VALUES (9, $1, 4444, 1)",
    )
    .bind(super::SLUG)
    .execute(&db.pool)
    .await
    .expect("an organiser log");
    let standin = super::standin().await;
    standin.guilds().add_text(&[4444]);
    standin.messages().delete_channel(BARN);

    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "w1", |_| {}).await;
    scheduler
        .wait_for("a failed channel post", |c| c.failed == 1)
        .await;
    scheduler.stop().await;
    let error = error_of(&db.pool, conference, t, OutboxStatus::Failed).await;

    assert!(error.contains("10003"), "{error}");
    let posted = standin.messages().posted();
    assert_eq!(posted.len(), 1, "only the organisers' warning");
    assert_eq!(posted[0].channel, 4444);
    assert!(
        posted[0]
            .content
            .starts_with(&format!("⚠️ Reminders cannot be posted in <#{BARN}>")),
        "{}",
        posted[0].content
    );
    assert_eq!(
        standin.messages().counts().attempts,
        2,
        "the failed post and the warning"
    );
}

#[tokio::test]
async fn a_429_storm_and_server_errors_delay_posts_but_lose_and_double_none() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    import(
        &db.pool,
        &ics(&[Talk::new(
            "t",
            "Stormy",
            "Barn",
            t0 + chrono::Duration::minutes(10),
        )]),
    )
    .await;
    let (conference, t) = ids(&db.pool, "t").await;
    for user in 1..=30 {
        subscribe(&db.pool, conference, user, t).await;
    }
    let standin = super::standin().await;
    standin.messages().storm(40, Duration::from_millis(50));

    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "w1", |_| {}).await;
    scheduler.wait_for("31 sent", |c| c.sent == 31).await;
    scheduler.stop().await;
    let posted = standin.messages().posted();

    let counts = standin.messages().counts();
    assert_eq!(
        counts.created, 31,
        "one channel post and 30 DMs: {counts:?}"
    );
    assert!(counts.rate_limited >= 40, "{counts:?}");
    let rows = outbox_of(&db.pool, conference).await;
    super::assert_each_sent_row_created_once(&posted, counts, &rows);
    assert!(
        rows.iter().all(|r| r.status == OutboxStatus::Sent),
        "{rows:?}"
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_the_claim_gives_the_rows_back_due_when_it_ends() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    import(
        &db.pool,
        &ics(&[Talk::new(
            "t",
            "Held up",
            "Barn",
            t0 + chrono::Duration::minutes(10),
        )]),
    )
    .await;
    let (conference, t) = ids(&db.pool, "t").await;
    subscribe(&db.pool, conference, 1, t).await;
    let standin = super::standin().await;
    // Ten minutes: far longer than the one-minute lease. Two 429s: the channel post and the
    // DM may both be on their way before the first 429 comes back, and each must draw one.
    standin.messages().storm(2, Duration::from_secs(600));

    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "w1", |_| {}).await;
    let counts = scheduler
        .wait_for("both rows given back", |c| c.postponed == 2)
        .await;
    let rows = outbox_of(&db.pool, conference).await;
    scheduler.stop().await;

    assert_eq!((counts.sent, counts.failed), (0, 0), "{counts:?}");
    let requests = standin.messages().counts();
    assert!(
        (1..=2).contains(&requests.attempts),
        "no more requests than rows: {requests:?}"
    );
    assert_eq!(
        requests.rate_limited, requests.attempts,
        "every request drew a 429; none was sent: {requests:?}"
    );
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.status, OutboxStatus::Pending, "{row:?}");
        assert_eq!(row.claimed_by, None, "given back, not slept on: {row:?}");
        assert!(
            row.post.due >= t0 + chrono::Duration::seconds(599),
            "due when the wait ends: {row:?}"
        );
        assert_eq!(row.attempts, 0, "a rate limit is no failed attempt");
    }
}

#[tokio::test]
async fn a_server_error_is_retried_with_backoff_and_then_sent() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    import(
        &db.pool,
        &ics(&[Talk::new(
            "t",
            "Flaky",
            "Barn",
            t0 + chrono::Duration::minutes(10),
        )]),
    )
    .await;
    let (conference, _) = ids(&db.pool, "t").await;
    let standin = super::standin().await;
    standin.messages().fail_next(1);

    // Ten times faster: the two-second backoff passes in 0.2 s.
    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 10), "w1", |_| {}).await;
    let counts = scheduler.wait_for("one sent", |c| c.sent == 1).await;
    scheduler.stop().await;
    let posted = standin.messages().posted();

    assert_eq!(posted.len(), 1);
    assert_eq!(counts.retried, 1);
    assert_eq!(standin.messages().counts().attempts, 2);
    let rows = outbox_of(&db.pool, conference).await;
    assert_eq!((rows[0].status, rows[0].attempts), (OutboxStatus::Sent, 1));
}
