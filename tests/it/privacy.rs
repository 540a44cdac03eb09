//! People's data in the store: what `/forget` deletes in a server and everywhere (and that
//! its preview changes nothing), and the retention sweep after a conference ends.

use chrono::{DateTime, Duration, Utc};
use confbot::domain::feeds::FeedToken;
use confbot::domain::model::TalkId;
use confbot::domain::privacy::{ForgetScope, Holdings};
use confbot::domain::reminders::LeadTime;
use confbot::jobs::retention::purge_expired;
use confbot::store::subscriptions::SubscriptionRef;
use confbot::store::{dm_channels, feeds, guilds, privacy, subscriptions};
use sqlx::PgPool;

use crate::fixtures::import_text;
use crate::harness::TestDb;

const ALICE: u64 = 11;
const BOB: u64 = 12;
const HERE: u64 = 21;
const THERE: u64 = 22;

struct Seeded {
    db: TestDb,
    conference: i64,
    last_end: DateTime<Utc>,
}

/// A conference running now; Alice subscribed in two servers, Bob in one; both chose a lead
/// time, both got a reminder by DM, Alice acted as an organiser in both servers.
async fn seeded() -> Seeded {
    let db = TestDb::new().await;
    let schedule = crate::discord::live_schedule(Utc::now(), "Opening");
    import_text(&db.pool, "nbpy", &schedule).await;
    let pool = &db.pool;
    let conference: i64 = sqlx::query_scalar("SELECT id FROM conferences WHERE slug = 'nbpy'")
        .fetch_one(pool)
        .await
        .unwrap();
    let talks: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM talks WHERE conference_id = $1 ORDER BY id")
            .bind(conference)
            .fetch_all(pool)
            .await
            .unwrap();
    let last_end = sqlx::query_scalar("SELECT max(ends_at) FROM talks WHERE conference_id = $1")
        .bind(conference)
        .fetch_one(pool)
        .await
        .unwrap();
    for (guild, user, talk) in [(HERE, ALICE, 0), (THERE, ALICE, 1), (HERE, BOB, 0)] {
        let talk = SubscriptionRef::Talk(TalkId(talks[talk]));
        subscriptions::subscribe(pool, conference, Some(guild), user, talk)
            .await
            .unwrap();
    }
    for user in [ALICE, BOB] {
        dm_channels::remember(pool, user, user + 1000, Utc::now())
            .await
            .unwrap();
        subscriptions::set_lead(pool, conference, user, LeadTime::from_minutes(5).unwrap())
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO outbox (conference_id, target_kind, target_id, talk_id, kind,
                                 schedule_version, due_at, body, status, sent_at)
             VALUES ($1, 'dm', $2, $3, 'reminder', 1, now(), '{}', 'sent', now())",
        )
        .bind(conference)
        .bind(user as i64)
        .bind(talks[0])
        .execute(pool)
        .await
        .unwrap();
    }
    // Both asked /mytalks for their calendar link here.
    for user in [ALICE, BOB] {
        let token = FeedToken::from_random([u8::try_from(user).unwrap(); FeedToken::BYTES]);
        feeds::token_of(pool, conference, user, Some(HERE), &token, Utc::now())
            .await
            .unwrap();
    }
    for guild in [HERE, THERE] {
        guilds::append(pool, guild, ALICE, "setup lead", None, None)
            .await
            .unwrap();
    }
    Seeded {
        db,
        conference,
        last_end,
    }
}

/// (subscriptions, lead times, DM rows) of `user`, and their audit entries per server.
/// Whether confbot keeps `user`'s DM channel.
async fn has_dm_channel(pool: &PgPool, user: u64) -> bool {
    !dm_channels::of_users(pool, &[user])
        .await
        .unwrap()
        .is_empty()
}

async fn held(pool: &PgPool, user: u64) -> (i64, i64, i64, Vec<i64>) {
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .bind(user as i64)
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let audit =
        sqlx::query_scalar("SELECT guild_id FROM audit_log WHERE user_id = $1 ORDER BY guild_id")
            .bind(user as i64)
            .fetch_all(pool)
            .await
            .unwrap();
    (
        count("SELECT count(*) FROM subscriptions WHERE user_id = $1").await,
        count("SELECT count(*) FROM user_settings WHERE user_id = $1").await,
        count("SELECT count(*) FROM outbox WHERE target_kind = 'dm' AND target_id = $1").await,
        audit,
    )
}

#[tokio::test]
async fn forgetting_in_a_server_deletes_what_was_done_there_and_keeps_exactly_once_intact() {
    let seeded = seeded().await;
    let pool = &seeded.db.pool;
    let here = ForgetScope::Server {
        guild: HERE,
        conference: Some(seeded.conference),
    };

    let previewed = privacy::holdings(pool, ALICE, here, Utc::now())
        .await
        .unwrap();
    let before = held(pool, ALICE).await;
    let deleted = privacy::forget(pool, ALICE, here, Utc::now())
        .await
        .unwrap();

    let expected = Holdings {
        subscriptions: 1,
        lead_times: 1,
        // Alice is still subscribed through the other server: her sent reminders must stay,
        // or the planner would send them again.
        direct_messages: 0,
        organiser_records: 1,
        questions: 0,
        calendar_links: 1,
    };
    assert_eq!(previewed, expected);
    assert_eq!(deleted, expected);
    assert_eq!(before, (2, 1, 1, vec![HERE as i64, THERE as i64]));
    assert_eq!(held(pool, ALICE).await, (1, 0, 1, vec![THERE as i64]));
    assert_eq!(held(pool, BOB).await, (1, 1, 1, vec![]));
    assert!(
        has_dm_channel(pool, ALICE).await,
        "still subscribed elsewhere: still reached by DM"
    );
}

#[tokio::test]
async fn forgetting_everywhere_deletes_every_trace_of_one_person_only() {
    let seeded = seeded().await;
    let pool = &seeded.db.pool;

    let deleted = privacy::forget(pool, ALICE, ForgetScope::Everywhere, Utc::now())
        .await
        .unwrap();

    assert_eq!(
        deleted,
        Holdings {
            subscriptions: 2,
            lead_times: 1,
            direct_messages: 1,
            organiser_records: 2,
            questions: 0,
            calendar_links: 1,
        }
    );
    assert_eq!(held(pool, ALICE).await, (0, 0, 0, vec![]));
    let anonymous: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE user_id = 0")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(anonymous, 2, "the organiser actions stay, without her id");
    assert_eq!(held(pool, BOB).await, (1, 1, 1, vec![]));
    let links: Vec<i64> = sqlx::query_scalar("SELECT user_id FROM calendar_feeds")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(links, [BOB as i64], "only Bob's link is left");
    assert!(!has_dm_channel(pool, ALICE).await);
    assert!(has_dm_channel(pool, BOB).await);
}

#[tokio::test]
async fn a_finished_conference_s_personal_data_goes_when_its_retention_has_passed() {
    let seeded = seeded().await;
    let pool = &seeded.db.pool;

    let on_day_29 = purge_expired(pool, seeded.last_end + Duration::days(29))
        .await
        .unwrap();
    let kept = held(pool, BOB).await;
    let on_day_30 = purge_expired(pool, seeded.last_end + Duration::days(30))
        .await
        .unwrap();
    let again = purge_expired(pool, seeded.last_end + Duration::days(31))
        .await
        .unwrap();

    assert!(on_day_29.is_empty());
    assert_eq!(kept, (1, 1, 1, vec![]));
    for user in [ALICE, BOB] {
        assert!(!has_dm_channel(pool, user).await, "no subscription left");
    }
    assert_eq!(on_day_30.len(), 1);
    assert_eq!(on_day_30[0].0, "nbpy");
    assert_eq!(on_day_30[0].1.subscriptions, 3);
    assert_eq!(on_day_30[0].1.calendar_links, 2);
    assert_eq!(held(pool, ALICE).await.0, 0);
    assert_eq!(held(pool, BOB).await, (0, 0, 0, vec![]));
    assert!(again.is_empty(), "nothing is left to delete");
}

#[tokio::test]
async fn the_shortest_retention_of_the_servers_following_a_conference_wins() {
    let seeded = seeded().await;
    let pool = &seeded.db.pool;
    for (guild, days) in [(HERE, 7), (THERE, 90)] {
        sqlx::query(
            "INSERT INTO guild_settings (guild_id, conference_slug, retention_days, updated_by)
             VALUES ($1, 'nbpy', $2, 0)",
        )
        .bind(guild as i64)
        .bind(days)
        .execute(pool)
        .await
        .unwrap();
    }

    let on_day_6 = purge_expired(pool, seeded.last_end + Duration::days(6))
        .await
        .unwrap();
    let on_day_7 = purge_expired(pool, seeded.last_end + Duration::days(7))
        .await
        .unwrap();

    assert!(on_day_6.is_empty());
    assert_eq!(on_day_7.len(), 1);
    assert_eq!(held(pool, BOB).await, (0, 0, 0, vec![]));
}
