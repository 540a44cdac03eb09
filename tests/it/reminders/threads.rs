//! A Q&A thread for every talk through the real planner, outbox and sender against the
//! stand-in: started on the talk's channel reminder with its card, linked from a later DM
//! reminder, archived and locked after the talk, never for a cancelled talk, on the new
//! reminder of a moved one, and once whatever restarts do.

use chrono::{DateTime, Duration, Utc};
use confbot::domain::reminders::LeadTime;
use confbot::jobs::Clock;

use super::{ics, ids, import, subscribe, Scheduler, Talk, BARN, SLUG};
use crate::harness::TestDb;

const T0: &str = "2026-06-01T09:00:00Z";
const GUILD: i64 = 5;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

fn schedule(t0: DateTime<Utc>, moved_to: Duration) -> String {
    let soon = t0 + Duration::minutes(10) + Duration::seconds(1);
    let mut cancelled = Talk::new("c", "Cancelled Talk", "Barn", soon);
    cancelled.cancelled = true;
    ics(&[
        Talk::new("a", "Async Rust", "Barn", soon),
        Talk::new("m", "Moving Target", "Barn", t0 + moved_to),
        cancelled,
    ])
}

#[tokio::test]
async fn each_talk_gets_one_thread_on_its_reminder_linked_from_dms_and_archived_after_it() {
    let db = TestDb::new().await;
    let t0 = at(T0);
    import(&db.pool, &schedule(t0, Duration::minutes(40))).await;
    let (conference, a) = ids(&db.pool, "a").await;
    subscribe(&db.pool, conference, 42, a).await;
    let five = LeadTime::from_minutes(5).expect("lead");
    confbot::store::subscriptions::set_lead(&db.pool, conference, 42, five)
        .await
        .expect("lead");
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, threads, thread_grace_minutes,
                                     thread_lock, updated_by)
         VALUES ($1, $2, true, 0, true, 1)",
    )
    .bind(GUILD)
    .bind(SLUG)
    .execute(&db.pool)
    .await
    .expect("settings");
    let standin = super::standin().await;
    // Five demo minutes a second: Async Rust ends 35 minutes in, 7 s from now.
    let clock = Clock::starting_at(t0, 300);
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;
    // The moving talk moves from 40 to 11 minutes from now: its reminder is due at once.
    import(&db.pool, &schedule(t0, Duration::minutes(11))).await;
    // Two channel reminders, two threads opened: then a restart.
    scheduler
        .wait_for("the reminders and their threads", |c| c.sent >= 4)
        .await;
    let outcomes = std::sync::Arc::clone(&scheduler.outcomes);
    scheduler.stop().await;
    // A moderator archives the moving talk's thread before its end: confbot's archive finds
    // it archived and leaves it so.
    let moving = standin
        .messages()
        .threads()
        .into_iter()
        .find(|t| t.name == "Q&A · Moving Target")
        .expect("the moving talk's thread");
    standin.messages().archive_thread(moving.id);
    let before = outcomes.counts().sent;
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w2", |_| {}).await;
    // Seven in all: two reminders, two threads, the DM (five minutes before Async Rust)
    // and two archives.
    scheduler
        .wait_for("the rest", |c| before + c.sent >= 7)
        .await;
    scheduler.stop().await;

    let messages = standin.messages();
    let posted = messages.posted();
    let reminders: Vec<_> = posted.iter().filter(|p| p.channel == BARN).collect();
    assert_eq!(reminders.len(), 2, "{posted:?}");
    let mut threads = messages.threads();
    threads.sort_by_key(|t| t.name.clone());
    let names: Vec<&str> = threads.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["Q&A · Async Rust", "Q&A · Moving Target"],
        "none for the cancelled talk, one for the moved talk"
    );
    for thread in &threads {
        assert_eq!(thread.parent, BARN);
        assert!(
            reminders.iter().any(|r| r.id == thread.id),
            "started on its reminder's message"
        );
        let cards: Vec<&str> = posted
            .iter()
            .filter(|p| p.channel == thread.id)
            .map(|p| p.content.as_str())
            .collect();
        assert_eq!(cards.len(), 1, "one card per thread: {cards:?}");
        assert!(cards[0].starts_with("🎤 **"), "{cards:?}");
        assert!(thread.archived, "{thread:?}");
    }
    assert!(threads[0].locked, "archived and locked by confbot");
    assert!(
        !threads[1].locked,
        "archived by a moderator first, left as it was"
    );
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'failed'")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(failed, 0);
    let rust = &threads[0];
    let dm = posted
        .iter()
        .find(|p| p.dm_user == Some(42))
        .expect("the DM reminder");
    assert!(
        dm.content.ends_with(&format!(
            "\n💬 Questions: https://discord.com/channels/{GUILD}/{}",
            rust.id
        )),
        "{}",
        dm.content
    );
    for post in &posted {
        assert_eq!(
            post.body["allowed_mentions"]["parse"],
            serde_json::json!([])
        );
    }
}
