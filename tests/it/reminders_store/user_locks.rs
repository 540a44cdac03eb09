//! A command's change waits for whoever holds the conference (an import, a planner pass)
//! before it changes anything: it takes the conference's lock first, so it never holds a
//! subscription's row while an import that deletes talks waits for it (a deadlock), and it
//! plans from the programme as that holder left it.

use std::sync::Arc;

use confbot::jobs::planner::UserPlanning;
use confbot::store::subscriptions::{self, SubscriptionRef};
use sqlx::PgPool;

use super::{at, lead, stored_row};
use crate::fixtures::SEED_ICS;
use crate::harness::TestDb;

const SLUG: &str = "locks-con";
const USER: u64 = 7;

/// The locks the command's backend waits for, and the tables it holds locks on.
async fn command_locks(pool: &PgPool, pid: i32) -> (Vec<String>, Vec<String>) {
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT coalesce(c.relname, l.locktype), l.granted FROM pg_locks l
         LEFT JOIN pg_class c ON c.oid = l.relation
         WHERE l.pid = $1 AND l.locktype IN ('relation', 'tuple', 'transactionid')",
    )
    .bind(pid)
    .fetch_all(pool)
    .await
    .expect("pg_locks");
    let waiting = rows.iter().filter(|r| !r.1).map(|r| r.0.clone()).collect();
    let held = rows.into_iter().filter(|r| r.1).map(|r| r.0).collect();
    (waiting, held)
}

#[tokio::test]
async fn a_command_waits_for_the_conference_before_changing_anything_then_plans() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    crate::fixtures::import_text_confirmed(pool, SLUG, SEED_ICS).await;
    let row = stored_row(pool, SLUG).await;
    let talk: i64 = sqlx::query_scalar("SELECT min(id) FROM talks WHERE conference_id = $1")
        .bind(row.id)
        .fetch_one(pool)
        .await
        .expect("a talk");

    // What an import or a planner pass holds while it changes the programme.
    let mut holder = pool.begin().await.expect("begin");
    sqlx::query("SELECT 1 FROM conferences WHERE id = $1 FOR UPDATE")
        .bind(row.id)
        .execute(&mut *holder)
        .await
        .expect("lock the conference");

    let planning = UserPlanning::new(pool.clone(), Arc::default(), lead(10));
    let command = {
        let row = row.clone();
        tokio::spawn(async move {
            let now = at("2026-01-01T00:00:00Z");
            let mut change = planning
                .begin(row.id, &row.conference.slug, USER)
                .await
                .expect("begin");
            let target = SubscriptionRef::Talk(confbot::domain::model::TalkId(talk));
            let added = subscriptions::subscribe(change.conn(), row.id, None, USER, target)
                .await
                .expect("subscribe");
            let planned = change.plan(now).await.expect("plan");
            change.commit().await.expect("commit");
            (added, planned.map(|p| p.replanned.added))
        })
    };

    // Wait (on the database's own view, not a timer) until the command is blocked.
    let (waiting, held) = loop {
        let blocked: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND pid <> pg_backend_pid()",
        )
        .fetch_optional(pool)
        .await
        .expect("pg_stat_activity");
        if let Some(pid) = blocked {
            break command_locks(pool, pid).await;
        }
        assert!(
            !command.is_finished(),
            "the command went past the holder's lock"
        );
        tokio::task::yield_now().await;
    };
    assert!(
        waiting
            .iter()
            .any(|w| w == "tuple" || w == "transactionid" || w == "conferences"),
        "it waits for the conference's row: {waiting:?}"
    );
    assert!(
        !held
            .iter()
            .any(|table| table == "subscriptions" || table == "outbox"),
        "it changed nothing before it had the conference: it holds {held:?}"
    );

    holder.commit().await.expect("release the conference");
    let (added, planned) = command.await.expect("the command ran");
    assert!(added);
    assert_eq!(
        planned,
        Some(1),
        "the seed talk's DM, planned once the holder let go"
    );
}
