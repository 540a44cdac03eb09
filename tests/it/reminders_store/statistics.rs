//! Commands keep the outbox's statistics current: once the reminders they planned add up
//! to the planner's threshold, the outbox is analysed, as after a planner pass. (Without
//! autovacuum nothing else would, and PostgreSQL would go on planning one user's lookups
//! as scans of every pending DM.)

use std::sync::Arc;

use chrono::Duration;
use confbot::jobs::planner::UserPlanning;
use confbot::store::conferences::ConferenceRow;
use confbot::store::subscriptions::{self, SubscriptionRef};
use sqlx::PgPool;

use super::{at, lead, stored_row};
use crate::harness::TestDb;

const SLUG: &str = "stats-con";
/// Talks in the one room: each room subscription plans this many DMs.
const TALKS: usize = 40;

fn ics() -> String {
    let t0 = at("2026-06-01T09:00:00Z");
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//confbot tests//EN\r\nX-WR-CALNAME:Stats Con\r\n",
    );
    for n in 0..TALKS {
        let start = t0 + Duration::minutes(30 * n as i64);
        let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:stats-{n}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Talk {n}\r\nLOCATION:Barn\r\nEND:VEVENT\r\n",
            stamp(start),
            stamp(start + Duration::minutes(25)),
        ));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// How often the outbox was analysed by a statement (not by autovacuum).
async fn analyses(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'outbox'")
        .fetch_one(pool)
        .await
        .expect("statistics of the outbox")
}

/// `user` subscribes to the room, planned in the change's transaction as `/subscribe`
/// does; returns the refresh of the outbox's statistics its commit started.
async fn subscribe(
    planning: &UserPlanning,
    row: &ConferenceRow,
    room: i64,
    user: u64,
) -> Option<tokio::task::JoinHandle<()>> {
    let now = at("2026-06-01T08:00:00Z");
    let mut change = planning
        .begin(row.id, &row.conference.slug, user)
        .await
        .expect("begin");
    let added = subscriptions::subscribe(
        change.conn(),
        row.id,
        None,
        user,
        SubscriptionRef::Room(room),
    )
    .await
    .expect("subscribe");
    assert!(added, "user {user} subscribes once");
    let planned = change
        .plan(now)
        .await
        .expect("plan the user")
        .expect("nothing else changes the programme meanwhile");
    assert_eq!(
        planned.replanned.added, TALKS,
        "one DM per talk of the room"
    );
    change.commit().await.expect("commit")
}

#[tokio::test]
async fn commands_analyse_the_outbox_once_they_added_a_thousand_rows() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    crate::fixtures::import_text_confirmed(pool, SLUG, &ics()).await;
    let row = stored_row(pool, SLUG).await;
    let room: i64 = sqlx::query_scalar("SELECT id FROM rooms WHERE conference_id = $1")
        .bind(row.id)
        .fetch_one(pool)
        .await
        .expect("the room");
    let planning = UserPlanning::new(pool.clone(), Arc::default(), lead(10));
    let before = analyses(pool).await;

    // 25 users add 1,000 rows: the 25th command's commit starts the analysis, none before.
    let threshold_user = 1_000 / TALKS as u64;
    for user in 1..threshold_user {
        let started = subscribe(&planning, &row, room, user).await;
        assert!(
            started.is_none(),
            "user {user}: analysed at {} rows",
            user * TALKS as u64
        );
    }
    assert_eq!(
        analyses(pool).await,
        before,
        "nothing analysed below 1,000 rows"
    );
    let started = subscribe(&planning, &row, room, threshold_user).await;
    started
        .expect("analysed at 1,000 rows")
        .await
        .expect("the analysis ran");
    assert_eq!(analyses(pool).await, before + 1);

    // The count starts again: the next commands do not analyse until another 1,000 rows.
    // A clone (another command's router) shares the count.
    let clone = planning.clone();
    for user in threshold_user + 1..2 * threshold_user {
        let started = subscribe(&clone, &row, room, user).await;
        assert!(started.is_none(), "user {user}: analysed again too soon");
    }
    let started = subscribe(&planning, &row, room, 2 * threshold_user).await;
    started
        .expect("analysed at 2,000 rows")
        .await
        .expect("the analysis ran");
    assert_eq!(analyses(pool).await, before + 2);
}
