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
/// Channel ids: the keynote hall's, then the rooms' (`FIRST_CHANNEL + 1 + room`).
pub const FIRST_CHANNEL: u64 = 7_100_000_000_000_000;
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

/// A conference whose keynote's DMs fall due at `t0` and whose room talks' channel
/// reminders fall due from 10 s before `t0` to 30 s after `t0 + span`.
fn schedule(t0: DateTime<Utc>, span: Duration) -> ImportedSchedule {
    let lead = Duration::minutes(LEAD_MINUTES);
    let talk = |number: usize, title: String, room: String, start: DateTime<Utc>| TalkData {
        source_id: Some(format!("remind-{number}")),
        title,
        room: Some(room),
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
    schedule.talks.push(talk(
        0,
        "Keynote: ten thousand reminders".to_owned(),
        HALL.to_owned(),
        t0 + lead,
    ));
    let per_room = usize::try_from((span.num_seconds() + 40) / ROOM_GAP_SECS + 1).unwrap_or(1);
    let stagger = ROOM_GAP_SECS * 1000 / ROOMS as i64;
    for r in 0..ROOMS {
        for k in 0..per_room {
            // Rooms staggered evenly: one channel post every 2.5 s over all rooms.
            let due = t0 - Duration::seconds(10)
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
/// room; the DMs fall due at `t0`. `span` is how long the fan-out is expected to take.
pub async fn store(
    pool: &PgPool,
    slug: &str,
    t0: DateTime<Utc>,
    span: Duration,
    fanout: usize,
) -> anyhow::Result<Stored> {
    sqlx::query("DELETE FROM conferences WHERE slug = $1")
        .bind(slug)
        .execute(pool)
        .await?;
    let schedule = schedule(t0, span);
    let parsed = ConferenceSlug::parse(slug)?;
    apply_import(
        pool,
        ImportRequest {
            slug: &parsed,
            source: "benches/reminders/conference.rs",
            format: Format::Json,
            schedule: &schedule,
            time_zone_override: None,
            default_time_zone: Tz::UTC,
            dry_run: false,
            allow_mass_change: false,
        },
    )
    .await
    .context("storing the benchmark conference")?;
    let (conference_id, keynote): (i64, i64) = sqlx::query_as(
        "SELECT t.conference_id, t.id FROM talks t JOIN conferences c ON c.id = t.conference_id
         WHERE c.slug = $1 AND t.source_id = 'remind-0'",
    )
    .bind(slug)
    .fetch_one(pool)
    .await?;
    // In bulk: 10,000 calls of `subscriptions::subscribe` would measure nothing of interest.
    // The same rows the store writes (a DM-made subscription has no guild).
    let first_user = i64::try_from(FIRST_USER)?;
    sqlx::query(
        "INSERT INTO subscriptions (conference_id, guild_id, user_id, talk_id)
         SELECT $1, NULL, $2 + g, $3 FROM generate_series(1, $4::bigint) AS g",
    )
    .bind(conference_id)
    .bind(first_user)
    .bind(keynote)
    .bind(i64::try_from(fanout)?)
    .execute(pool)
    .await?;
    let mut by_room = BTreeMap::from([(HALL.to_owned(), FIRST_CHANNEL)]);
    for r in 0..ROOMS {
        by_room.insert(room(r), FIRST_CHANNEL + 1 + r as u64);
    }
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
    Ok(Stored {
        conference_id,
        t0,
        fanout,
        channel_posts: schedule.talks.len(),
    })
}
