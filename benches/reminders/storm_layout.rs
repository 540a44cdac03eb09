//! The storm's conference: 20 rooms, each with a talk a minute whose reminders fall due
//! during the storm (their subscribers stored beforehand), then the talks people subscribe
//! to, from 40 minutes after the storm on.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use confbot::domain::model::{
    ImportedSchedule, ScheduleScope, Slot, TalkData, TalkKind, TalkStatus,
};
use sqlx::PgPool;

use super::conference::{import_fresh, set_room_channels, FIRST_USER, LEAD_MINUTES};

pub const SLUG: &str = "bench-storm";
pub const ROOMS: usize = 20;
/// Each room's channel gets a reminder a minute, the rooms staggered by 3 s.
pub const LIVE_EVERY_SECS: i64 = 60;
/// Users subscribed (beforehand) to the talks falling due during the storm, and how many
/// of them each such talk has.
pub const PRE_USERS: u64 = 500;
pub const LIVE_SUBSCRIBERS: u64 = 20;
/// The talks people subscribe to during the storm: this many per room, 30 minutes apart,
/// from 40 minutes after the storm begins.
pub const LATER_PER_ROOM: usize = 12;
/// The storm's attendees: user ids from here on.
pub const FIRST_ATTENDEE: u64 = FIRST_USER + 100_000;
/// Channel ids of the 20 rooms.
pub const FIRST_ROOM_CHANNEL: u64 = 7_200_000_000_000_000;

/// The stored conference: its id, the talks people subscribe to (title -> id), and what
/// falls due during the storm.
pub struct Stored {
    pub conference_id: i64,
    pub later: Vec<String>,
    /// Live talks' ids.
    pub live: Vec<i64>,
    /// When the last live reminder falls due.
    pub last_due: DateTime<Utc>,
}

/// 20 rooms: a talk per room every minute whose reminders fall due during the storm (each
/// with [`LIVE_SUBSCRIBERS`] of [`PRE_USERS`] subscribed), then [`LATER_PER_ROOM`] talks
/// per room to subscribe to.
pub async fn store(pool: &PgPool, start: DateTime<Utc>, seconds: i64) -> anyhow::Result<Stored> {
    let lead = chrono::Duration::minutes(LEAD_MINUTES);
    let talk = |source: String, title: String, room: usize, start: DateTime<Utc>| TalkData {
        source_id: Some(source.into()),
        title,
        room: Some(room_name(room).into()),
        slot: Some(Slot {
            start,
            end: start + chrono::Duration::minutes(25),
            all_day: false,
        }),
        status: TalkStatus::Confirmed,
        kind: TalkKind::Talk,
        ..TalkData::default()
    };
    let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
    schedule.name = Some("StormConf Bench".to_owned());
    schedule.time_zone = Some(Tz::UTC);
    let end = start + chrono::Duration::seconds(seconds);
    let mut last_due = start;
    for r in 0..ROOMS {
        for k in 0_i64.. {
            let due = start + chrono::Duration::seconds(15 + LIVE_EVERY_SECS * k + 3 * r as i64);
            if due > end - chrono::Duration::seconds(5) {
                break;
            }
            last_due = last_due.max(due);
            schedule.talks.push(talk(
                format!("live-{r}-{k}"),
                format!("{} live talk {}", room_name(r), k + 1),
                r,
                due + lead,
            ));
        }
    }
    let mut later = Vec::new();
    for k in 0..LATER_PER_ROOM {
        for r in 0..ROOMS {
            let title = format!("Storm session {:03} in {}", later.len() + 1, room_name(r));
            let starts = start + chrono::Duration::minutes(40 + 30 * k as i64);
            schedule
                .talks
                .push(talk(format!("later-{r}-{k}"), title.clone(), r, starts));
            later.push(title);
        }
    }
    import_fresh(pool, SLUG, &schedule).await?;
    let (conference_id,): (i64,) = sqlx::query_as("SELECT id FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .fetch_one(pool)
        .await?;
    let live: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM talks WHERE conference_id = $1 AND source_id LIKE 'live-%' ORDER BY id",
    )
    .bind(conference_id)
    .fetch_all(pool)
    .await?;
    // Talk i's subscribers: LIVE_SUBSCRIBERS consecutive users of the pool, wrapping.
    sqlx::query(
        "INSERT INTO subscriptions (conference_id, guild_id, user_id, talk_id)
         SELECT $1, NULL, $2 + 1 + (t.i * $4 + g) % $3, t.id
         FROM unnest($5::bigint[]) WITH ORDINALITY AS t(id, i), generate_series(0, $4 - 1) AS g",
    )
    .bind(conference_id)
    .bind(i64::try_from(FIRST_USER)?)
    .bind(i64::try_from(PRE_USERS)?)
    .bind(i64::try_from(LIVE_SUBSCRIBERS)?)
    .bind(&live)
    .execute(pool)
    .await?;
    let by_room: BTreeMap<String, u64> = (0..ROOMS)
        .map(|r| (room_name(r), FIRST_ROOM_CHANNEL + r as u64))
        .collect();
    set_room_channels(pool, conference_id, by_room).await?;
    Ok(Stored {
        conference_id,
        later,
        live,
        last_due,
    })
}

fn room_name(index: usize) -> String {
    format!("Room {}", index + 1)
}
