//! `store::guilds` against PostgreSQL: changes seeded from the configuration, concurrent
//! changes of one server without lost updates, servers kept apart, and the organiser log
//! channel of a conference.

use confbot::domain::guild_settings::{ChannelKind, GuildSettings, SetupChange};
use confbot::domain::model::ConferenceSlug;
use confbot::store::guilds;

use crate::harness::TestDb;

/// Above `i64::MAX`: stored bit-cast.
const GUILD_A: u64 = 18_000_000_000_000_000_001;
const GUILD_B: u64 = 2;
const ALICE: u64 = 18_000_000_000_000_000_011;

fn seed(slug: &str) -> GuildSettings {
    GuildSettings::seeded(ConferenceSlug::parse(slug).ok(), Some(77))
}

async fn change(db: &TestDb, guild: u64, change: SetupChange, seed_slug: &str) {
    let mut conn = db.pool.acquire().await.expect("connection");
    guilds::change(&mut conn, guild, &seed(seed_slug), ALICE, &change)
        .await
        .expect("change");
}

#[tokio::test]
async fn the_first_change_starts_from_the_seed_and_only_touches_its_field() {
    let db = TestDb::new().await;
    let mut conn = db.pool.acquire().await.expect("connection");
    let zone = SetupChange::TimeZone(chrono_tz::Asia::Tokyo);

    let nothing = guilds::get(&db.pool, GUILD_A).await.expect("get");
    let (before, after) = guilds::change(&mut conn, GUILD_A, &seed("livecon"), ALICE, &zone)
        .await
        .expect("change");

    assert_eq!(nothing, None);
    assert_eq!(before, seed("livecon"));
    assert_eq!(after.time_zone, Some(chrono_tz::Asia::Tokyo));
    assert_eq!(after.organiser_role, Some(77), "seeded");
    assert_eq!(
        guilds::get(&db.pool, GUILD_A).await.expect("get"),
        Some(after)
    );
    let audit = guilds::recent_audit(&db.pool, GUILD_A, 20)
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].user, ALICE);
    assert_eq!(audit[0].before, serde_json::json!({"time_zone": null}));
    assert_eq!(
        audit[0].after,
        serde_json::json!({"time_zone": "Asia/Tokyo"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_concurrent_changes_of_one_server_keep_all_three() {
    let db = TestDb::new().await;
    let week = confbot::domain::privacy::RetentionDays::new(7).expect("days");
    change(&db, GUILD_A, SetupChange::Retention(week), "livecon").await;
    // The test holds the server's row: the three changes below are then provably in flight
    // at once (each waits for the lock), and each must still see the others' results.
    let mut holder = db.pool.begin().await.expect("begin");
    sqlx::query("SELECT 1 FROM guild_settings WHERE guild_id = $1 FOR UPDATE")
        .bind(i64::from_ne_bytes(GUILD_A.to_ne_bytes()))
        .fetch_one(&mut *holder)
        .await
        .expect("lock the row");
    let changes = [
        SetupChange::TimeZone(chrono_tz::Asia::Tokyo),
        SetupChange::Channel {
            kind: ChannelKind::Announcements,
            channel: 5,
        },
        SetupChange::Lead(confbot::domain::reminders::LeadTime::from_minutes(3).expect("lead")),
    ];
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(changes.len()));
    let tasks: Vec<_> = changes
        .into_iter()
        .map(|setup| {
            let (pool, start) = (db.pool.clone(), std::sync::Arc::clone(&start));
            tokio::spawn(async move {
                let mut conn = pool.acquire().await.expect("connection");
                start.wait().await;
                guilds::change(&mut conn, GUILD_A, &seed("livecon"), ALICE, &setup)
                    .await
                    .expect("change")
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&db.pool)
        .await
        .expect("activity");
        if waiting == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{waiting} of 3 changes waiting"
        );
        tokio::task::yield_now().await;
    }
    holder.commit().await.expect("release");
    for task in tasks {
        task.await.expect("joined");
    }

    let stored = guilds::get(&db.pool, GUILD_A)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(stored.time_zone, Some(chrono_tz::Asia::Tokyo));
    assert_eq!(stored.announcement_channel, Some(5));
    assert_eq!(stored.default_lead.map(|l| l.minutes()), Some(3));
    assert_eq!(stored.retention, Some(week));
    assert_eq!(
        guilds::recent_audit(&db.pool, GUILD_A, 20)
            .await
            .expect("audit")
            .len(),
        4
    );
}

#[tokio::test]
async fn servers_are_apart_and_the_log_channel_follows_the_conference() {
    let db = TestDb::new().await;
    crate::fixtures::import_text(
        &db.pool,
        "livecon",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-TIMEZONE:UTC\r\nBEGIN:VEVENT\r\nUID:a@x\r\n\
         DTSTART:20260601T090000Z\r\nDTEND:20260601T093000Z\r\nSUMMARY:A talk\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .await;
    let conference: i64 = sqlx::query_scalar("SELECT id FROM conferences WHERE slug = 'livecon'")
        .fetch_one(&db.pool)
        .await
        .expect("conference");
    let log = |channel| SetupChange::Channel {
        kind: ChannelKind::OrganiserLog,
        channel,
    };

    let none = guilds::organiser_log_channel(&db.pool, conference)
        .await
        .expect("query");
    change(&db, GUILD_B, log(9), "othercon").await;
    let other_conference = guilds::organiser_log_channel(&db.pool, conference)
        .await
        .expect("query");
    change(&db, GUILD_A, log(18_000_000_000_000_000_123), "livecon").await;

    assert_eq!(none, None);
    assert_eq!(other_conference, None, "B follows another conference");
    assert_eq!(
        guilds::organiser_log_channel(&db.pool, conference)
            .await
            .expect("query"),
        Some(18_000_000_000_000_000_123)
    );
    let b = guilds::get(&db.pool, GUILD_B)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(b.organiser_log_channel, Some(9), "A's change left B alone");
    assert_eq!(
        guilds::recent_audit(&db.pool, GUILD_B, 20)
            .await
            .expect("audit")
            .len(),
        1
    );
    assert!(
        guilds::append_refusal(&db.pool, GUILD_A, ALICE, "refused /setup")
            .await
            .expect("a")
    );
    assert!(
        !guilds::append_refusal(&db.pool, GUILD_A, ALICE, "refused /setup")
            .await
            .expect("b")
    );
    assert!(
        guilds::append_refusal(&db.pool, GUILD_B, ALICE, "refused /setup")
            .await
            .expect("c")
    );
}

#[tokio::test]
async fn a_retention_period_is_stored_and_audited_in_days() {
    use confbot::domain::privacy::RetentionDays;
    let db = TestDb::new().await;
    let week = RetentionDays::new(7).expect("in range");

    change(&db, GUILD_A, SetupChange::Retention(week), "livecon").await;

    let stored = guilds::get(&db.pool, GUILD_A).await.expect("get");
    assert_eq!(stored.and_then(|s| s.retention), Some(week));
    let audit = guilds::recent_audit(&db.pool, GUILD_A, 20)
        .await
        .expect("audit");
    assert_eq!(audit[0].action, "setup retention");
    assert_eq!(audit[0].before, serde_json::json!({"retention_days": null}));
    assert_eq!(audit[0].after, serde_json::json!({"retention_days": 7}));
}

#[tokio::test]
async fn a_server_that_reads_speakers_from_the_summary_has_its_source_synced_that_way() {
    use confbot::store::syncs;
    let db = TestDb::new().await;
    crate::fixtures::import_text(&db.pool, "livecon", crate::fixtures::SEED_ICS).await;
    let source = SetupChange::Source {
        url: "https://pretalx.example.org/livecon/schedule.ics".into(),
        refresh_minutes: 15,
    };
    change(&db, GUILD_A, source, "livecon").await;
    let before = syncs::targets(&db.pool).await.expect("targets");

    change(&db, GUILD_A, SetupChange::SummarySpeakers(true), "livecon").await;

    let after = syncs::targets(&db.pool).await.expect("targets");
    assert_eq!(before.len(), 1);
    assert!(!before[0].summary_speakers);
    assert!(after[0].summary_speakers);
    let audit = guilds::recent_audit(&db.pool, GUILD_A, 1)
        .await
        .expect("audit");
    assert_eq!(audit[0].action, "setup speakers");
    assert_eq!(
        audit[0].after,
        serde_json::json!({"summary_speakers": true})
    );
}

#[tokio::test]
async fn threads_follow_the_server_that_manages_the_reminder_channels_and_no_other() {
    use confbot::domain::threads::ThreadSettings;
    let db = TestDb::new().await;
    crate::fixtures::import_text(&db.pool, "livecon", crate::fixtures::SEED_ICS).await;
    let conference: i64 = sqlx::query_scalar("SELECT id FROM conferences WHERE slug = 'livecon'")
        .fetch_one(&db.pool)
        .await
        .expect("conference");
    let threads = |rooms: &[&str]| {
        SetupChange::Threads(Some(ThreadSettings {
            rooms: rooms.iter().map(|r| (*r).to_owned()).collect(),
            ..ThreadSettings::default()
        }))
    };
    let applying = || async {
        guilds::threads_of(&db.pool, conference)
            .await
            .expect("read")
    };

    change(&db, GUILD_A, threads(&["Barn"]), "livecon").await;
    let alone = applying().await;
    // A second server following the conference, threads on: with configured channels
    // neither may decide for channels that may be the other's.
    change(&db, GUILD_B, threads(&["Loft"]), "livecon").await;
    let two = applying().await;
    // B manages the reminder channels (`/channel`): B's settings apply, A's do not.
    let mut conn = db.pool.acquire().await.expect("connection");
    let other = guilds::claim_channel_plan(&mut conn, conference, GUILD_B)
        .await
        .expect("claim");
    let owned = applying().await;
    change(&db, GUILD_B, SetupChange::Threads(None), "livecon").await;
    let owner_off = applying().await;

    assert_eq!(
        alone.map(|(g, t)| (g, t.rooms)),
        Some((GUILD_A, vec!["Barn".to_owned()]))
    );
    assert_eq!(two, None);
    assert_eq!(other, None, "B claimed the map");
    assert_eq!(
        owned.map(|(g, t)| (g, t.rooms)),
        Some((GUILD_B, vec!["Loft".to_owned()]))
    );
    assert_eq!(owner_off, None, "A's threads do not apply in B's channels");
}
