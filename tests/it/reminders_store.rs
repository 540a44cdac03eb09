//! The reminder store against a real database: subscriptions, lead times, the channel plan
//! and the outbox (idempotent enqueueing, disjoint claims, leases, retries, retirement).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use confbot::domain::model::{ConferenceSlug, TalkId};
use confbot::domain::reminders::{
    plan, ChannelPlan, LeadTime, PlannedPost, PostBody, PostKey, PostKind, Subject, Subscription,
    SubscriptionTarget, Target,
};
use confbot::store::outbox::{self, OutboxStatus};
use confbot::store::{programme, subscriptions};
use sqlx::PgPool;

use crate::fixtures::SEED_ICS;
use crate::harness::TestDb;

mod claims;
mod early;
mod incremental;
mod leases;
mod plans;
mod snapshots;
mod statistics;
mod user_locks;

/// A Discord channel id above `i64::MAX`: stored as a negative bigint, read back intact.
const BARN_CHANNEL: u64 = 18_000_000_000_000_000_001;
const LOBBY_CHANNEL: u64 = 900;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339 in test")
}

/// The stored row of the conference `slug` (imported by the test).
async fn stored_row(pool: &PgPool, slug: &str) -> confbot::store::conferences::ConferenceRow {
    let slug = ConferenceSlug::parse(slug).expect("slug");
    confbot::store::conferences::find(&mut pool.acquire().await.expect("conn"), &slug)
        .await
        .expect("find")
        .expect("stored")
}

fn lead(minutes: i64) -> LeadTime {
    LeadTime::from_minutes(minutes).expect("lead in range")
}

/// Imports the seed schedule (`ics`, the seed file or an edited copy) as "nbpy-2026" and
/// returns the conference id and its one talk.
async fn import_seed(pool: &PgPool, ics: &str) -> (i64, TalkId) {
    crate::fixtures::import_text(pool, "nbpy-2026", ics).await;
    let ids: (i64, i64) = sqlx::query_as("SELECT conference_id, id FROM talks")
        .fetch_one(pool)
        .await
        .expect("one talk");
    (ids.0, TalkId(ids.1))
}

/// A post for `talk` to `target` due at `due`, expiring an hour later.
fn post(target: Target, talk: TalkId, version: i32, due: DateTime<Utc>) -> PlannedPost {
    PlannedPost {
        key: PostKey {
            target,
            subject: Subject::Talk(talk),
            kind: PostKind::Reminder,
            schedule_version: version,
        },
        due,
        expires: Some(due + Duration::hours(1)),
        body: PostBody::Notice {
            content: format!("post to {target:?}"),
        },
    }
}

/// `count` DM posts to users 1..=count, all due at `due`.
fn fan_out(talk: TalkId, count: u64, due: DateTime<Utc>) -> Vec<PlannedPost> {
    (1..=count)
        .map(|user| post(Target::Dm(user), talk, 1, due))
        .collect()
}

/// The plan for the seed conference from what the store holds: programme, subscriptions,
/// lead times (default 10 minutes) and the stored channel plan (none: no channel posts).
async fn plan_from_store(pool: &PgPool, conference: i64) -> Vec<PlannedPost> {
    let slug = ConferenceSlug::parse("nbpy-2026").expect("slug");
    let programme = programme::load(pool, &slug).await.expect("load");
    let channels = subscriptions::channel_plan(pool, conference).await;
    let subs = subscriptions::of_conference(pool, conference).await;
    let leads = subscriptions::leads(pool, conference).await;
    let no_channels = ChannelPlan {
        by_room: BTreeMap::new(),
        default: None,
        lead: lead(10),
        names: BTreeMap::new(),
    };
    plan(
        &programme.expect("conference exists"),
        &subs.expect("subscriptions"),
        &leads.expect("leads"),
        lead(10),
        &channels.expect("query").unwrap_or(no_channels),
    )
}

/// The seed schedule imported (see [`import_seed`]) with [`barn_plan`] as its channel plan.
async fn seed_with_barn_plan(pool: &PgPool) -> (i64, TalkId) {
    let (conference, talk) = import_seed(pool, SEED_ICS).await;
    let mut conn = pool.acquire().await.expect("connection");
    subscriptions::set_channel_plan(&mut conn, conference, &barn_plan())
        .await
        .expect("channel plan");
    (conference, talk)
}

fn barn_plan() -> ChannelPlan {
    ChannelPlan {
        by_room: BTreeMap::from([("Barn".to_owned(), BARN_CHANNEL)]),
        default: Some(LOBBY_CHANNEL),
        lead: lead(10),
        names: BTreeMap::from([(BARN_CHANNEL, "barn-talks".to_owned())]),
    }
}

#[tokio::test]
async fn subscribing_twice_is_one_row_and_unsubscribing_removes_it() {
    let db = TestDb::new().await;
    let (conference, talk) = import_seed(&db.pool, SEED_ICS).await;
    let target = subscriptions::SubscriptionRef::Talk(talk);

    let first = subscriptions::subscribe(&db.pool, conference, Some(7), 42, target).await;
    let second = subscriptions::subscribe(&db.pool, conference, Some(7), 42, target).await;

    assert!(first.expect("subscribe"), "the first subscription is new");
    assert!(!second.expect("subscribe"), "the second changes nothing");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM subscriptions")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(rows, 1);
    let gone = subscriptions::unsubscribe(&db.pool, conference, 42, target).await;
    let again = subscriptions::unsubscribe(&db.pool, conference, 42, target).await;
    assert_eq!(
        (gone.expect("first"), again.expect("second")),
        (true, false)
    );
    let left = subscriptions::of_user(&db.pool, conference, 42).await;
    assert_eq!(left.expect("list"), []);
}

#[tokio::test]
async fn discord_ids_above_i64_max_round_trip_through_every_table() {
    let db = TestDb::new().await;
    let (conference, talk) = import_seed(&db.pool, SEED_ICS).await;
    let user = u64::MAX;
    let guild = (1 << 63) + 5;
    let room = subscriptions::room_id(&db.pool, conference, "barn")
        .await
        .expect("query")
        .expect("Barn exists");

    for target in [
        subscriptions::SubscriptionRef::Talk(talk),
        subscriptions::SubscriptionRef::Room(room),
    ] {
        subscriptions::subscribe(&db.pool, conference, Some(guild), user, target)
            .await
            .expect("subscribe");
    }
    subscriptions::set_lead(&db.pool, conference, user, lead(120))
        .await
        .expect("set lead");
    let mut conn = db.pool.acquire().await.expect("connection");
    let unknown = subscriptions::set_channel_plan(&mut conn, conference, &barn_plan()).await;
    outbox::enqueue(
        &mut conn,
        conference,
        &[post(Target::Dm(user), talk, 1, at("2026-04-25T20:45:00Z"))],
        at("2026-04-25T12:00:00Z"),
    )
    .await
    .expect("enqueue");

    assert_eq!(unknown.expect("stored"), Vec::<String>::new());
    let mine = subscriptions::of_user(&db.pool, conference, user)
        .await
        .expect("list");
    assert_eq!(
        mine.iter()
            .map(|s| (s.reference, s.guild_id))
            .collect::<Vec<_>>(),
        [
            (subscriptions::SubscriptionRef::Talk(talk), Some(guild)),
            (subscriptions::SubscriptionRef::Room(room), Some(guild)),
        ]
    );
    let all = subscriptions::of_conference(&db.pool, conference)
        .await
        .expect("all");
    assert!(all.iter().all(|s| s.user == u64::MAX), "{all:?}");
    let leads = subscriptions::leads(&db.pool, conference).await;
    assert_eq!(leads.expect("leads"), HashMap::from([(user, lead(120))]));
    let stored_plan = subscriptions::channel_plan(&db.pool, conference).await;
    assert_eq!(stored_plan.expect("plan"), Some(barn_plan()));
    let rows = outbox::of_conference(&db.pool, conference).await;
    assert_eq!(rows.expect("rows")[0].post.key.target, Target::Dm(u64::MAX));
    let raw: i64 = sqlx::query_scalar("SELECT user_id FROM user_settings")
        .fetch_one(&db.pool)
        .await
        .expect("raw");
    assert_eq!(raw, -1, "u64::MAX is stored as the same 64 bits");
}

#[tokio::test]
async fn room_and_track_subscriptions_reach_the_planner_by_name() {
    let db = TestDb::new().await;
    let (conference, talk) = import_seed(&db.pool, SEED_ICS).await;
    let track: i64 = sqlx::query_scalar(
        "INSERT INTO tracks (conference_id, name) VALUES ($1, 'Performance') RETURNING id",
    )
    .bind(conference)
    .fetch_one(&db.pool)
    .await
    .expect("track");
    let room = subscriptions::room_id(&db.pool, conference, "Barn").await;
    let room = room.expect("query").expect("Barn exists");
    let found = subscriptions::track_id(&db.pool, conference, "performance").await;
    assert_eq!(found.expect("query"), Some(track));

    for (user, target) in [
        (1, subscriptions::SubscriptionRef::Room(room)),
        (2, subscriptions::SubscriptionRef::Track(track)),
        (3, subscriptions::SubscriptionRef::Talk(talk)),
    ] {
        subscriptions::subscribe(&db.pool, conference, None, user, target)
            .await
            .expect("subscribe");
    }
    let elsewhere = subscriptions::subscribe(
        &db.pool,
        conference,
        None,
        4,
        subscriptions::SubscriptionRef::Room(room + 1000),
    )
    .await;

    let all = subscriptions::of_conference(&db.pool, conference).await;
    assert_eq!(
        all.expect("all"),
        [
            Subscription {
                user: 1,
                target: SubscriptionTarget::Room("Barn".to_owned()),
            },
            Subscription {
                user: 2,
                target: SubscriptionTarget::Track("Performance".to_owned()),
            },
            Subscription {
                user: 3,
                target: SubscriptionTarget::Talk(talk),
            },
        ]
    );
    let error = elsewhere.expect_err("a room of no conference is refused");
    assert_eq!(
        error.to_string(),
        format!("conference {conference} has no room {}", room + 1000)
    );
}

#[tokio::test]
async fn a_lead_time_is_kept_per_user_and_replaced_when_set_again() {
    let db = TestDb::new().await;
    let (conference, _) = import_seed(&db.pool, SEED_ICS).await;

    let before = subscriptions::lead(&db.pool, conference, 42).await;
    subscriptions::set_lead(&db.pool, conference, 42, lead(10))
        .await
        .expect("set");
    subscriptions::set_lead(&db.pool, conference, 42, lead(0))
        .await
        .expect("set again");

    assert_eq!(before.expect("query"), None);
    let after = subscriptions::lead(&db.pool, conference, 42).await;
    assert_eq!(after.expect("query"), Some(lead(0)));
    let other = subscriptions::lead(&db.pool, conference, 43).await;
    assert_eq!(other.expect("query"), None);
}

#[tokio::test]
async fn a_channel_plan_naming_an_unknown_room_is_refused_and_nothing_is_stored() {
    let db = TestDb::new().await;
    let (conference, _) = import_seed(&db.pool, SEED_ICS).await;
    let mut conn = db.pool.acquire().await.expect("connection");
    let mut typo = barn_plan();
    typo.by_room.insert("Bran".to_owned(), 5);

    let unknown = subscriptions::set_channel_plan(&mut conn, conference, &typo).await;

    assert_eq!(unknown.expect("no database error"), ["Bran"]);
    let stored = subscriptions::channel_plan(&db.pool, conference).await;
    assert_eq!(stored.expect("query"), None);
}

#[tokio::test]
async fn the_seed_talk_is_enqueued_for_the_barn_channel_at_2235_utc() {
    let db = TestDb::new().await;
    let (conference, talk) = seed_with_barn_plan(&db.pool).await;
    subscriptions::subscribe(
        &db.pool,
        conference,
        None,
        42,
        subscriptions::SubscriptionRef::Talk(talk),
    )
    .await
    .expect("subscribe");
    subscriptions::set_lead(&db.pool, conference, 42, lead(5))
        .await
        .expect("lead");

    let planned = plan_from_store(&db.pool, conference).await;
    let enqueued = outbox::enqueue(
        &mut db.pool.acquire().await.expect("connection"),
        conference,
        &planned,
        at("2026-04-25T12:00:00Z"),
    )
    .await
    .expect("enqueue");

    assert_eq!(enqueued.added, 2);
    let rows = outbox::of_conference(&db.pool, conference)
        .await
        .expect("rows");
    let summary: Vec<_> = rows
        .iter()
        .map(|r| (r.post.due, r.post.key.target, r.status))
        .collect();
    assert_eq!(
        summary,
        [
            (
                at("2026-04-25T22:35:00Z"),
                Target::Channel(BARN_CHANNEL),
                OutboxStatus::Pending
            ),
            (
                at("2026-04-25T22:40:00Z"),
                Target::Dm(42),
                OutboxStatus::Pending
            ),
        ]
    );
    assert_eq!(
        rows[0].post, planned[0],
        "the row gives back the planned post"
    );
    assert!(
        rows[0].nonce.len() <= 25 && rows[0].nonce != rows[1].nonce,
        "{} {}",
        rows[0].nonce,
        rows[1].nonce
    );
}
