//! Schedule updates in public (`/setup updates`): each applied import's changes that matter
//! to attendees are posted once to the updates channel of every server following the
//! conference, through the real planner, outbox and sender, against the stand-in.

use chrono::{DateTime, Duration, Utc};
use confbot::jobs::Clock;
use confbot::store::outbox::OutboxStatus;

use super::{ics, import, outbox_of, Scheduler, Talk, SLUG};
use crate::harness::TestDb;

const T0: &str = "2026-06-01T09:00:00Z";
/// The updates channels of two servers following the conference, and of one following
/// another conference.
const UPDATES: u64 = 7_100_000_000_000_001;
const OTHER_SERVER_UPDATES: u64 = 7_100_000_000_000_002;
const OTHER_CONFERENCE_UPDATES: u64 = 7_100_000_000_000_003;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

/// A server's stored settings: following `slug`, posting updates to `channel`.
async fn follow(pool: &sqlx::PgPool, guild: i64, slug: &str, channel: Option<u64>) {
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, updates_channel, updated_by)
         VALUES ($1, $2, $3, 1)",
    )
    .bind(guild)
    .bind(slug)
    .bind(channel.map(|c| i64::try_from(c).expect("small id")))
    .execute(pool)
    .await
    .expect("settings");
}

/// The contents posted to `channel`, in order.
fn posted_to(standin: &crate::discord::standin::StandIn, channel: u64) -> Vec<String> {
    standin
        .messages()
        .posted()
        .into_iter()
        .filter(|p| p.channel == channel)
        .map(|p| p.content)
        .collect()
}

#[tokio::test]
async fn each_import_is_posted_once_to_every_following_servers_updates_channel() {
    let db = TestDb::new().await;
    let t0 = at(T0);
    let hours = |h| t0 + Duration::hours(h);
    let talk = |uid, title, room, h| Talk::new(uid, title, room, hours(h));
    let first = [
        talk("a", "Async Rust", "Barn", 2),
        talk("b", "Borrowing", "Loft", 3),
        talk("c", "Cancel Me", "Barn", 4),
    ];
    // The first timetable publishes the programme: no update for it.
    import(&db.pool, &ics(&first)).await;
    follow(&db.pool, 5, SLUG, Some(UPDATES)).await;
    follow(&db.pool, 6, SLUG, Some(OTHER_SERVER_UPDATES)).await;
    follow(&db.pool, 7, "othercon", Some(OTHER_CONFERENCE_UPDATES)).await;
    follow(&db.pool, 8, SLUG, None).await;
    let standin = super::standin().await;
    standin
        .guilds()
        .add_text(&[UPDATES, OTHER_SERVER_UPDATES, OTHER_CONFERENCE_UPDATES]);
    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "w1", |_| {}).await;

    // A moved, C gone, B's title fixed (not posted), and a new talk whose title tries a ping.
    let (a, b) = (
        talk("a", "Async Rust", "Barn", 5),
        talk("b", "Borrowing Well", "Loft", 3),
    );
    let (c, d) = (
        talk("c", "Cancel Me", "Barn", 7),
        talk("d", "Drop @everyone", "Loft", 6),
    );
    let second = [a, b, d];
    import(&db.pool, &ics(&second)).await;
    scheduler
        .wait_for("the update in both servers", |c| c.sent == 2)
        .await;
    // The same schedule again changes nothing and posts nothing; C back does.
    import(&db.pool, &ics(&second)).await;
    let third = [a, b, d, c];
    import(&db.pool, &ics(&third)).await;
    scheduler
        .wait_for("the second update in both servers", |c| c.sent == 4)
        .await;
    scheduler.stop().await;

    // A restarted scheduler plans the next import and nothing of the earlier ones again.
    let scheduler =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "w2", |_| {}).await;
    let fourth = [a, d, c];
    import(&db.pool, &ics(&fourth)).await;
    scheduler
        .wait_for("the third update in both servers", |c| c.sent == 2)
        .await;
    scheduler.stop().await;

    let ts = |h| hours(h).timestamp();
    let expected = [
        format!(
            "📅 **Schedule update**\n\
             Cancelled: **Cancel Me** (was <t:{}:F> in Barn)\n\
             Moved: **Async Rust** now <t:{}:F> in Barn (was <t:{}:F> in Barn)\n\
             New: **Drop @\u{200b}everyone** <t:{}:F> in Loft",
            ts(4),
            ts(5),
            ts(2),
            ts(6)
        ),
        format!(
            "📅 **Schedule update**\nBack on the schedule: **Cancel Me** <t:{}:F> in Barn",
            ts(7)
        ),
        format!(
            "📅 **Schedule update**\nCancelled: **Borrowing Well** (was <t:{}:F> in Loft)",
            ts(3)
        ),
    ];
    assert_eq!(posted_to(&standin, UPDATES), expected);
    assert_eq!(posted_to(&standin, OTHER_SERVER_UPDATES), expected);
    assert!(posted_to(&standin, OTHER_CONFERENCE_UPDATES).is_empty());
    let posted = standin.messages().posted();
    assert_eq!(posted.len(), 6, "nothing but the updates was posted");
    for post in &posted {
        assert_eq!(
            post.body["allowed_mentions"]["parse"],
            serde_json::json!([]),
            "no ping from schedule text: {}",
            post.body
        );
    }
    let (conference,): (i64,) = sqlx::query_as("SELECT id FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .fetch_one(&db.pool)
        .await
        .expect("conference");
    let updates: Vec<_> = outbox_of(&db.pool, conference)
        .await
        .into_iter()
        .filter(|row| row.post.key.kind.as_str() == "schedule_update")
        .collect();
    assert_eq!(updates.len(), 6);
    assert!(updates.iter().all(|row| row.status == OutboxStatus::Sent));
    super::assert_each_sent_row_created_once(&posted, standin.messages().counts(), &updates);
    // Each sent row keeps the id of its message.
    let mut kept: Vec<i64> = sqlx::query_scalar(
        "SELECT message_id FROM outbox WHERE kind = 'schedule_update' AND message_id IS NOT NULL",
    )
    .fetch_all(&db.pool)
    .await
    .expect("message ids");
    let mut created: Vec<i64> = posted
        .iter()
        .map(|p| i64::try_from(p.id).expect("snowflake"))
        .collect();
    kept.sort_unstable();
    created.sort_unstable();
    assert_eq!(kept, created);
}
