//! The conference each scenario delivers: one keynote with N DM subscribers (the fan-out)
//! and several rooms with their own reminder channels, whose talks fall due one after the
//! other while the fan-out runs, so channel lateness is measured under load.
//!
//! Times are built around the real clock (`confbot run` uses the wall clock): the keynote's
//! DM reminders all fall due at `t0`, a few seconds after the processes start.

use std::collections::BTreeMap;

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use confbot::domain::import::Format;
use confbot::domain::model::{
    ConferenceSlug, ImportedSchedule, ScheduleScope, Slot, TalkData, TalkKind, TalkStatus,
};
use confbot::domain::reminders::{ChannelPlan, LeadTime};
use confbot::store::imports::{apply_import, ImportRequest};
use sqlx::PgPool;

/// Reminder lead of DMs and channels, in minutes: the configured default (10) everywhere.
pub const LEAD_MINUTES: i64 = 10;
/// Rooms with their own channel, besides the keynote's hall.
pub const ROOMS: usize = 8;
/// Time between two talks of one room: one channel post every 20 s per channel keeps each
/// channel far under Discord's 5 per 5 s, so lateness shows the scheduler, not the bucket.
const ROOM_GAP_SECS: i64 = 20;
/// Channel ids: the keynote hall's, then the rooms' (`FIRST_CHANNEL + 1 + room`), then
/// the other halls' ([`hall_channel`]).
pub const FIRST_CHANNEL: u64 = 7_100_000_000_000_000;

/// Every reminder channel of a layout with `keynotes` halls, for the stand-in to make.
pub fn channels(keynotes: usize) -> Vec<u64> {
    (0..=ROOMS as u64)
        .map(|r| FIRST_CHANNEL + r)
        .chain((1..keynotes).map(hall_channel))
        .collect()
}

/// The channel of keynote hall `index`.
pub fn hall_channel(index: usize) -> u64 {
    match index {
        0 => FIRST_CHANNEL,
        _ => FIRST_CHANNEL + ROOMS as u64 + index as u64,
    }
}
/// User ids of the fan-out's subscribers: `FIRST_USER + 1 ..= FIRST_USER + n`.
pub const FIRST_USER: u64 = 800_000_000_000_000_000;
const HALL: &str = "Main Hall";

/// What was stored: the conference id and the instants the benchmark checks against.
pub struct Stored {
    pub conference_id: i64,
    /// When the keynote's DM reminders fall due.
    pub t0: DateTime<Utc>,
    /// Subscribers of the keynote.
    pub fanout: usize,
    /// Channel reminders planned (rooms and the keynote's hall).
    pub channel_posts: usize,
}

fn room(index: usize) -> String {
    format!("Room {}", index + 1)
}

/// Where the talks go: `keynotes` talks whose DMs fall due at `t0` (each in a hall of its
/// own), and room talks whose channel reminders fall due every 2.5 s from `rooms_from` to
/// `rooms_until`.
pub struct Layout {
    pub t0: DateTime<Utc>,
    pub keynotes: usize,
    pub subscribers: usize,
    pub rooms_from: DateTime<Utc>,
    pub rooms_until: DateTime<Utc>,
}

fn hall(index: usize) -> String {
    if index == 0 {
        HALL.to_owned()
    } else {
        format!("{HALL} {}", index + 1)
    }
}

/// A conference laid out as `layout` says.
fn schedule(layout: &Layout) -> ImportedSchedule {
    let t0 = layout.t0;
    let lead = Duration::minutes(LEAD_MINUTES);
    let talk = |number: usize, title: String, room: String, start: DateTime<Utc>| TalkData {
        source_id: Some(format!("remind-{number}").into()),
        title,
        room: Some(room.into()),
        slot: Some(Slot {
            start,
            end: start + Duration::seconds(ROOM_GAP_SECS - 5),
            all_day: false,
        }),
        status: TalkStatus::Confirmed,
        kind: TalkKind::Talk,
        ..TalkData::default()
    };
    let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
    schedule.name = Some("RemindConf Bench".to_owned());
    schedule.time_zone = Some(Tz::UTC);
    for k in 0..layout.keynotes {
        schedule.talks.push(talk(
            k,
            format!("Keynote {}: thousands of reminders", k + 1),
            hall(k),
            t0 + lead,
        ));
    }
    let rooms_span = (layout.rooms_until - layout.rooms_from)
        .num_seconds()
        .max(0);
    let per_room = usize::try_from(rooms_span / ROOM_GAP_SECS + 1).unwrap_or(1);
    let stagger = ROOM_GAP_SECS * 1000 / ROOMS as i64;
    for r in 0..ROOMS {
        for k in 0..per_room {
            // Rooms staggered evenly: one channel post every 2.5 s over all rooms.
            let due = layout.rooms_from
                + Duration::seconds(ROOM_GAP_SECS * k as i64)
                + Duration::milliseconds(stagger * r as i64);
            let number = schedule.talks.len();
            let title = format!("{} talk {}", room(r), k + 1);
            schedule
                .talks
                .push(talk(number, title, room(r), due + lead));
        }
    }
    schedule
}

/// Stores a fresh conference `slug` with `fanout` keynote subscribers and a channel per
/// room; the DMs fall due at `t0`. `span` is how long the fan-out is expected to take: the
/// rooms' channel reminders fall due from 10 s before `t0` to 30 s after `t0 + span`.
pub async fn store(
    pool: &PgPool,
    slug: &str,
    t0: DateTime<Utc>,
    span: Duration,
    fanout: usize,
) -> anyhow::Result<Stored> {
    let layout = Layout {
        t0,
        keynotes: 1,
        subscribers: fanout,
        rooms_from: t0 - Duration::seconds(10),
        rooms_until: t0 + span + Duration::seconds(30),
    };
    store_layout(pool, slug, &layout).await
}

/// Stores a fresh conference `slug` laid out as `layout` says, each keynote with its own
/// subscribers, and a channel per room and hall.
pub async fn store_layout(pool: &PgPool, slug: &str, layout: &Layout) -> anyhow::Result<Stored> {
    let t0 = layout.t0;
    let schedule = schedule(layout);
    import_fresh(pool, slug, &schedule).await?;
    let fanout = layout.keynotes * layout.subscribers;
    let mut conference_id = 0;
    for k in 0..layout.keynotes {
        let (conference, keynote): (i64, i64) = sqlx::query_as(
            "SELECT t.conference_id, t.id FROM talks t JOIN conferences c ON c.id = t.conference_id
             WHERE c.slug = $1 AND t.source_id = $2",
        )
        .bind(slug)
        .bind(format!("remind-{k}"))
        .fetch_one(pool)
        .await?;
        conference_id = conference;
        // In bulk: thousands of calls of `subscriptions::subscribe` would measure nothing of
        // interest. The same rows the store writes (a DM-made subscription has no guild).
        let first_user = i64::try_from(FIRST_USER)? + i64::try_from(k * layout.subscribers)?;
        sqlx::query(
            "INSERT INTO subscriptions (conference_id, guild_id, user_id, talk_id)
             SELECT $1, NULL, $2 + g, $3 FROM generate_series(1, $4::bigint) AS g",
        )
        .bind(conference_id)
        .bind(first_user)
        .bind(keynote)
        .bind(i64::try_from(layout.subscribers)?)
        .execute(pool)
        .await?;
    }
    let mut by_room = BTreeMap::new();
    for k in 0..layout.keynotes {
        by_room.insert(hall(k), hall_channel(k));
    }
    for r in 0..ROOMS {
        by_room.insert(room(r), FIRST_CHANNEL + 1 + r as u64);
    }
    set_room_channels(pool, conference_id, by_room).await?;
    Ok(Stored {
        conference_id,
        t0,
        fanout,
        channel_posts: schedule.talks.len(),
    })
}

/// Imports `schedule` as a fresh conference `slug`, after removing the last run's, and
/// forgets every benchmark user's DM channel: each scenario starts as a first conference
/// would (a new stand-in knows none of the last scenario's channels).
pub async fn import_fresh(
    pool: &PgPool,
    slug: &str,
    schedule: &ImportedSchedule,
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM conferences WHERE slug = $1")
        .bind(slug)
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM dm_channels WHERE user_id > $1")
        .bind(i64::try_from(FIRST_USER)?)
        .execute(pool)
        .await?;
    let parsed = ConferenceSlug::parse(slug)?;
    apply_import(
        pool,
        ImportRequest {
            slug: &parsed,
            source: "benches/reminders",
            format: Format::Json,
            schedule: schedule.clone(),
            time_zone_override: None,
            default_time_zone: Tz::UTC,
            dry_run: false,
            allow_mass_change: false,
        },
    )
    .await
    .with_context(|| format!("storing the benchmark conference {slug}"))?;
    Ok(())
}

/// Sends each room's channel reminders to its channel, at the benchmark's lead time.
pub async fn set_room_channels(
    pool: &PgPool,
    conference_id: i64,
    by_room: BTreeMap<String, u64>,
) -> anyhow::Result<()> {
    let plan = ChannelPlan {
        by_room,
        default: None,
        lead: LeadTime::from_minutes(LEAD_MINUTES)?,
        names: BTreeMap::new(),
    };
    let mut conn = pool.acquire().await?;
    let unknown =
        confbot::store::subscriptions::set_channel_plan(&mut conn, conference_id, &plan).await?;
    anyhow::ensure!(unknown.is_empty(), "rooms not stored: {unknown:?}");
    Ok(())
}
