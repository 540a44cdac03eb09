//! Schedule changes while the scheduler runs: a re-import moves or cancels a talk, the
//! subscribers hear of it once, and the reminders follow the new schedule.

use chrono::{DateTime, Duration, Utc};
use confbot::jobs::{Clock, PlanSettings, Planner};
use confbot::store::outbox::OutboxStatus;

use super::{ics, ids, import, outbox_of, plan_settings, subscribe, Scheduler, Talk, BARN, LOBBY};
use crate::harness::TestDb;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

const T0: &str = "2026-06-01T09:00:00Z";

fn schedule(start: DateTime<Utc>, room: &str, cancelled: bool) -> String {
    ics(&[Talk {
        uid: "move-me",
        title: "Moving Target",
        room,
        start,
        cancelled,
    }])
}

/// Plans once outside the scheduler, so the outbox holds the first schedule's reminders
/// before anything changes.
async fn plan_now(pool: &sqlx::PgPool, now: DateTime<Utc>) {
    let settings: PlanSettings = plan_settings();
    Planner::new(pool.clone(), settings)
        .replan_all(now)
        .await
        .expect("plan");
}

#[tokio::test]
async fn a_moved_talk_notifies_its_subscriber_and_is_reminded_at_its_new_time_and_room() {
    let db = TestDb::new().await;
    let t0 = at(T0);
    import(&db.pool, &schedule(t0 + Duration::hours(2), "Barn", false)).await;
    let (conference, talk) = ids(&db.pool, "move-me").await;
    subscribe(&db.pool, conference, 42, talk).await;
    plan_now(&db.pool, t0).await;
    let before = outbox_of(&db.pool, conference).await;
    let standin = super::standin().await;
    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "w1", |_| {}).await;

    // Moved to ten minutes and one second from now, in the Loft.
    let new_start = t0 + Duration::minutes(10) + Duration::seconds(1);
    import(&db.pool, &schedule(new_start, "Loft", false)).await;
    scheduler
        .wait_for("the notice and both reminders", |c| c.sent == 3)
        .await;
    scheduler.stop().await;

    let posted = standin.messages().posted();
    let dms: Vec<&str> = posted
        .iter()
        .filter(|p| p.dm_user == Some(42))
        .map(|p| p.content.as_str())
        .collect();
    assert_eq!(dms.len(), 2, "{dms:?}");
    assert!(
        dms[0].starts_with(&format!(
            "Moved: **Moving Target** now <t:{}:F> in Loft (was <t:{}:F> in Barn)",
            new_start.timestamp(),
            (t0 + Duration::hours(2)).timestamp()
        )),
        "{dms:?}"
    );
    assert!(dms[1].contains("starting in 10 minutes in Loft"), "{dms:?}");
    let channels: Vec<u64> = posted
        .iter()
        .filter(|p| p.dm_user.is_none())
        .map(|p| p.channel)
        .collect();
    assert_eq!(
        channels,
        [LOBBY],
        "the Loft has no channel of its own; Barn's old reminder is gone"
    );
    assert_eq!(before.len(), 2);
    let after = outbox_of(&db.pool, conference).await;
    for old in &before {
        let row = after.iter().find(|r| r.id == old.id).expect("old row kept");
        assert_eq!(
            row.status,
            OutboxStatus::Dropped,
            "the old version is retired"
        );
    }
    assert!(standin
        .messages()
        .posted()
        .iter()
        .all(|p| p.channel != BARN));
}

#[tokio::test]
async fn a_cancelled_talk_is_announced_once_never_reminded_and_comes_back_when_uncancelled() {
    let db = TestDb::new().await;
    let t0 = at(T0);
    // An hour away: only the notice can be sent until the talk comes back.
    let start = t0 + Duration::hours(1);
    import(&db.pool, &schedule(start, "Barn", false)).await;
    let (conference, talk) = ids(&db.pool, "move-me").await;
    subscribe(&db.pool, conference, 42, talk).await;
    plan_now(&db.pool, t0).await;
    let standin = super::standin().await;
    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "w1", |_| {}).await;

    import(&db.pool, &schedule(start, "Barn", true)).await;
    scheduler
        .wait_for("the cancellation notice", |c| c.sent == 1)
        .await;
    // Importing the cancelled schedule again changes nothing and tells nobody again.
    import(&db.pool, &schedule(start, "Barn", true)).await;
    let cancelled_rows = outbox_of(&db.pool, conference).await;
    // Back, and soon: reminded again (in two seconds, by channel and DM).
    let back = t0 + Duration::minutes(10) + Duration::seconds(2);
    import(&db.pool, &schedule(back, "Barn", false)).await;
    scheduler.wait_for("both reminders", |c| c.sent == 3).await;
    scheduler.stop().await;

    let posted = standin.messages().posted();
    let contents: Vec<&str> = posted.iter().map(|p| p.content.as_str()).collect();
    assert!(
        contents[0].starts_with("Cancelled: **Moving Target** (was <t:"),
        "{contents:?}"
    );
    assert_eq!(
        contents
            .iter()
            .filter(|c| c.starts_with("Cancelled"))
            .count(),
        1
    );
    assert_eq!(
        contents
            .iter()
            .filter(|c| c.contains("starting in 10 minutes in Barn"))
            .count(),
        2
    );
    let pending_while_cancelled = cancelled_rows
        .iter()
        .filter(|r| r.status == OutboxStatus::Pending && r.post.key.kind.as_str() == "reminder")
        .count();
    assert_eq!(
        pending_while_cancelled,
        0,
        "no reminder waits for a cancelled talk: {:?}",
        cancelled_rows
            .iter()
            .map(|r| (r.post.key, r.status, r.last_error.clone()))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_servers_setup_lead_is_the_default_for_subscribers_who_chose_none() {
    let db = TestDb::new().await;
    let t0 = at(T0);
    let start = t0 + Duration::hours(2);
    import(&db.pool, &schedule(start, "Barn", false)).await;
    let (conference, talk) = ids(&db.pool, "move-me").await;
    subscribe(&db.pool, conference, 42, talk).await;
    subscribe(&db.pool, conference, 43, talk).await;
    confbot::store::subscriptions::set_lead(&db.pool, conference, 43, super::ten())
        .await
        .expect("lead");
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, default_lead_minutes, updated_by)
         VALUES (5, $1, 25, 1)",
    )
    .bind(super::SLUG)
    .execute(&db.pool)
    .await
    .expect("settings");

    plan_now(&db.pool, t0).await;

    use confbot::domain::reminders::Target;
    let rows = outbox_of(&db.pool, conference).await;
    let due = |target: Target| {
        rows.iter()
            .find(|r| r.post.key.target == target)
            .map(|r| r.post.due)
    };
    assert_eq!(
        due(Target::Dm(42)),
        Some(start - Duration::minutes(25)),
        "the server's default"
    );
    assert_eq!(
        due(Target::Dm(43)),
        Some(start - Duration::minutes(10)),
        "their own choice"
    );
    assert_eq!(
        due(Target::Channel(BARN)),
        Some(start - Duration::minutes(10)),
        "channels keep theirs"
    );
}

/// The pending reminders' due instants, oldest row first.
async fn pending_due(pool: &sqlx::PgPool, conference: i64) -> Vec<DateTime<Utc>> {
    sqlx::query_scalar(
        "SELECT due_at FROM outbox WHERE conference_id = $1 AND status = 'pending' ORDER BY id",
    )
    .bind(conference)
    .fetch_all(pool)
    .await
    .expect("pending rows")
}

#[tokio::test]
async fn a_sweep_leaves_the_reminder_rows_alone_until_a_reconciliation_is_due() {
    let db = TestDb::new().await;
    let t0 = at(T0);
    import(&db.pool, &schedule(t0 + Duration::hours(2), "Barn", false)).await;
    let (conference, talk) = ids(&db.pool, "move-me").await;
    subscribe(&db.pool, conference, 42, talk).await;
    let mut planner = Planner::new(db.pool.clone(), plan_settings());
    planner.replan_all(t0).await.expect("plan");
    let planned = pending_due(&db.pool, conference).await;
    assert!(!planned.is_empty());
    // The outbox drifts behind the planner's back (as a row re-planned while it was being
    // sent would): every pending reminder a minute late.
    let drift = |pool: sqlx::PgPool| async move {
        sqlx::query(
            "UPDATE outbox SET due_at = due_at + interval '1 minute' WHERE conference_id = $1",
        )
        .bind(conference)
        .execute(&pool)
        .await
        .expect("drift");
    };
    drift(db.pool.clone()).await;

    let swept = planner
        .sweep(t0 + Duration::minutes(1))
        .await
        .expect("sweep");
    let after_sweep = pending_due(&db.pool, conference).await;
    let forced = planner
        .replan_all(t0 + Duration::minutes(2))
        .await
        .expect("replan");
    let after_change = pending_due(&db.pool, conference).await;
    drift(db.pool.clone()).await;
    let due = t0 + Duration::minutes(2) + confbot::jobs::planner::FULL_EVERY;
    let early = planner
        .sweep(due - Duration::seconds(1))
        .await
        .expect("sweep");
    let late = planner.sweep(due).await.expect("sweep");
    let after_full = pending_due(&db.pool, conference).await;
    // A new subscription's notification has the planner replan that user alone.
    subscribe(&db.pool, conference, 43, talk).await;
    let changed = planner
        .replan_users(conference, &[43], due + Duration::minutes(1))
        .await
        .expect("replan the user");

    assert_eq!(
        (swept.planned, swept.replanned),
        (0, 0),
        "the reminder rows were left alone"
    );
    assert!(after_sweep
        .iter()
        .zip(&planned)
        .all(|(a, p)| *a == *p + Duration::minutes(1)));
    assert_eq!(
        forced.replanned,
        planned.len(),
        "a change applies the plan in full"
    );
    assert_eq!(after_change, planned);
    assert_eq!(early.replanned, 0);
    assert_eq!(
        late.replanned,
        planned.len(),
        "every FULL_EVERY a sweep applies it"
    );
    assert_eq!(after_full, planned);
    assert_eq!(
        (changed.planned, changed.added),
        (1, 1),
        "the new subscriber's reminder, and nobody else's"
    );
}

#[tokio::test]
async fn on_a_fast_clock_the_sweep_runs_every_minute_of_its_time_and_catches_a_missed_change() {
    let db = TestDb::new().await;
    let t0 = at(T0);
    import(&db.pool, &schedule(t0 + Duration::hours(2), "Barn", false)).await;
    let (conference, talk) = ids(&db.pool, "move-me").await;
    let standin = super::standin().await;
    // A minute of the scheduler's time every second.
    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 60), "w", |_| {}).await;
    let planned = tokio::time::timeout(super::WAIT, async {
        while outbox_of(&db.pool, conference).await.is_empty() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(planned.is_ok(), "the start plans the channel post");
    // A subscription whose notification is lost (as while a listener reconnects): only a
    // sweep can find it, and on the wall clock's minute it would come up to a minute later.
    sqlx::query("ALTER TABLE subscriptions DISABLE TRIGGER subscriptions_notify_plan")
        .execute(&db.pool)
        .await
        .expect("no notifications");
    subscribe(&db.pool, conference, 42, talk).await;

    let swept = tokio::time::timeout(super::WAIT, async {
        loop {
            let rows = outbox_of(&db.pool, conference).await;
            if rows
                .iter()
                .any(|r| r.post.key.target == confbot::domain::reminders::Target::Dm(42))
            {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    scheduler.stop().await;

    assert!(
        swept.is_ok(),
        "a sweep within seconds planned the missed subscriber's reminder"
    );
}
