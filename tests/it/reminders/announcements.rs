//! Announcements through the same outbox as reminders: posted at their time with exactly
//! the chosen ping, repeated by cron in the conference zone, edited and cancelled.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use confbot::domain::announcements::{AnnouncementId, Ping, Repeat};
use confbot::jobs::{Clock, OutcomeCounts};
use confbot::store::announcements::{self, NewAnnouncement};
use confbot::store::outbox::{OutboxStatus, UNPLANNED};
use serde_json::json;

use super::{ics, ids, import, outbox_of, plan_all, Scheduler, Talk};
use crate::discord::messages::{Counts, Posted};
use crate::harness::TestDb;

const GUILD: u64 = 31;
const CHANNEL: u64 = 8_000_000_000_000_001;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

/// Runs the scheduler (worker "w") against a fresh stand-in on a clock starting at `t0`,
/// `speed` times real time, until its counts reach `done`; returns what it posted.
async fn deliver_until(
    db: &TestDb,
    t0: DateTime<Utc>,
    speed: u32,
    what: &str,
    done: impl Fn(&OutcomeCounts) -> bool,
) -> (Vec<Posted>, Counts) {
    let standin = super::standin().await;
    standin.guilds().add_text(&[CHANNEL]);
    let scheduler = Scheduler::start(
        &db.url,
        &standin,
        Clock::starting_at(t0, speed),
        "w",
        |_| {},
    )
    .await;
    scheduler.wait_for(what, done).await;
    scheduler.stop().await;
    (standin.messages().posted(), standin.messages().counts())
}

/// A conference to announce in; returns its id.
async fn conference(db: &TestDb) -> i64 {
    let talk = Talk {
        uid: "t",
        title: "Anything",
        room: "Barn",
        start: at("2027-01-01T10:00:00Z"),
        cancelled: false,
    };
    import(&db.pool, &ics(&[talk])).await;
    ids(&db.pool, "t").await.0
}

async fn announce(
    db: &TestDb,
    conference_id: i64,
    text: &str,
    first: DateTime<Utc>,
    repeat: Option<&str>,
    ping: Ping,
) -> AnnouncementId {
    let repeat: Option<Repeat> = repeat.map(|r| r.parse().expect("repeat"));
    let new = NewAnnouncement {
        conference_id,
        guild_id: GUILD,
        created_by: 5,
        channel: CHANNEL,
        text,
        first,
        repeat: repeat.as_ref(),
        zone: Tz::Europe__Berlin,
        ping,
    };
    let id = announcements::create_draft(&db.pool, &new)
        .await
        .expect("draft");
    assert!(announcements::schedule(&db.pool, GUILD, id)
        .await
        .expect("confirm"));
    id
}

#[tokio::test]
async fn a_confirmed_announcement_is_posted_once_at_its_time_pinging_only_the_chosen_role() {
    let db = TestDb::new().await;
    let conference = conference(&db).await;
    let t0 = at("2026-06-01T09:00:00Z");
    announce(
        &db,
        conference,
        "Doors open @everyone",
        t0 + Duration::seconds(1),
        None,
        Ping::Role(77),
    )
    .await;

    let (posted, _) = deliver_until(&db, t0, 1, "the announcement", |c| c.sent == 1).await;
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].channel, CHANNEL);
    assert_eq!(posted[0].content, "<@&77> Doors open @everyone");
    assert_eq!(
        posted[0].body["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": ["77"]}),
        "the role is pinged, @everyone in the text is not"
    );
    let rows = outbox_of(&db.pool, conference).await;
    let sent: Vec<_> = rows
        .iter()
        .filter(|r| r.post.key.kind.as_str() == "announcement")
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, OutboxStatus::Sent);
    assert!(sent[0].sent_at.expect("sent") >= t0 + Duration::seconds(1));
}

#[tokio::test]
async fn a_repeating_announcement_posts_each_occurrence_once() {
    let db = TestDb::new().await;
    let conference = conference(&db).await;
    let t0 = at("2026-06-01T09:00:00Z");
    // Every minute; the clock runs sixty times faster, so a minute passes in a second.
    announce(
        &db,
        conference,
        "Hydrate!",
        t0 + Duration::seconds(30),
        Some("* * * * *"),
        Ping::None,
    )
    .await;

    let (posted, counts) = deliver_until(&db, t0, 60, "two occurrences", |c| c.sent >= 2).await;
    assert!(posted.len() >= 2);
    assert!(posted.iter().all(|p| p.content == "Hydrate!"));
    assert_eq!(posted[0].body["allowed_mentions"]["parse"], json!([]));
    let rows = outbox_of(&db.pool, conference).await;
    super::assert_each_sent_row_created_once(&posted, counts, &rows);
    let due: Vec<DateTime<Utc>> = rows
        .iter()
        .filter(|r| r.status == OutboxStatus::Sent)
        .map(|r| r.post.due)
        .collect();
    assert_eq!(
        due[..2],
        [at("2026-06-01T09:01:00Z"), at("2026-06-01T09:02:00Z")]
    );
}

#[tokio::test]
async fn daily_at_nine_in_berlin_is_planned_at_nine_local_on_both_sides_of_the_dst_change() {
    let db = TestDb::new().await;
    let conference = conference(&db).await;
    announce(
        &db,
        conference,
        "Good morning",
        at("2026-03-28T08:00:00Z"),
        Some("daily 09:00"),
        Ping::None,
    )
    .await;

    plan_all(&db.pool, at("2026-03-27T12:00:00Z")).await;

    let due: Vec<DateTime<Utc>> = outbox_of(&db.pool, conference)
        .await
        .iter()
        .filter(|r| r.post.key.kind.as_str() == "announcement")
        .map(|r| r.post.due)
        .collect();
    assert_eq!(
        due,
        [at("2026-03-28T08:00:00Z"), at("2026-03-29T07:00:00Z")]
    );
}

#[tokio::test]
async fn a_cancelled_announcement_is_never_posted_and_an_edited_one_posts_the_new_text() {
    let db = TestDb::new().await;
    let conference = conference(&db).await;
    let t0 = at("2026-06-01T09:00:00Z");
    let cancelled = announce(
        &db,
        conference,
        "Party at 8",
        t0 + Duration::minutes(30),
        None,
        Ping::Everyone,
    )
    .await;
    let edited = announce(
        &db,
        conference,
        "Lunch at 12",
        t0 + Duration::seconds(1),
        None,
        Ping::None,
    )
    .await;
    plan_all(&db.pool, t0 - Duration::minutes(5)).await;

    assert!(announcements::cancel(&db.pool, GUILD, cancelled)
        .await
        .expect("cancel"));
    assert!(
        !announcements::cancel(&db.pool, GUILD + 1, edited)
            .await
            .expect("cancel"),
        "another guild cannot"
    );
    assert!(
        announcements::set_text(&db.pool, GUILD, edited, "Lunch at 12:30")
            .await
            .expect("edit")
    );

    let (posted, _) = deliver_until(&db, t0, 1, "the edited announcement", |c| c.sent == 1).await;
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].content, "Lunch at 12:30");
    let rows = outbox_of(&db.pool, conference).await;
    let party = rows
        .iter()
        .find(|r| r.post.due == t0 + Duration::minutes(30))
        .expect("the cancelled one was planned");
    assert_eq!(party.status, OutboxStatus::Dropped);
    assert_eq!(party.last_error.as_deref(), Some(UNPLANNED));
}
