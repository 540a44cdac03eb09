//! Discord Events (`guild_events`): each server's event per talk, as confbot last made it,
//! and which servers want events for a conference (`guild_settings.events`).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, Row};

use super::{id_from_db, id_to_db, StoreError};
use crate::domain::events::{EventSelection, EventSpec, StoredEvent};
use crate::domain::model::TalkId;

/// The servers with events on for the conference, with their selection.
pub async fn selections(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Vec<(u64, EventSelection)>, StoreError> {
    let rows = sqlx::query(
        "SELECT g.guild_id, g.event_rooms, g.event_tracks, g.event_types
           FROM guild_settings g JOIN conferences c ON c.slug = g.conference_slug
          WHERE c.id = $1 AND g.events
          ORDER BY g.guild_id",
    )
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                id_from_db(row.try_get("guild_id")?),
                EventSelection {
                    rooms: row.try_get("event_rooms")?,
                    tracks: row.try_get("event_tracks")?,
                    types: row.try_get("event_types")?,
                },
            ))
        })
        .collect()
}

/// Every server's recorded events of the conference's talks, by server.
pub async fn recorded(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Vec<(u64, StoredEvent)>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT guild_id, {STORED} FROM guild_events WHERE conference_id = $1
                  ORDER BY guild_id, talk_id"
    ))
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| Ok((id_from_db(row.try_get("guild_id")?), stored(row)?)))
        .collect()
}

/// A talk's event as locked for a request: what is recorded, and whether a request for it
/// is under way or a create's answer was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub stored: StoredEvent,
    pub in_flight_until: Option<DateTime<Utc>>,
    pub create_tried_at: Option<DateTime<Utc>>,
}

/// Locks the talk's event in the server until the transaction ends (recording it first
/// when it has none).
pub async fn lock(
    conn: &mut PgConnection,
    conference_id: i64,
    guild: u64,
    talk: TalkId,
) -> Result<Locked, StoreError> {
    sqlx::query(
        "INSERT INTO guild_events (conference_id, guild_id, talk_id) VALUES ($1, $2, $3)
         ON CONFLICT (guild_id, talk_id) DO NOTHING",
    )
    .bind(conference_id)
    .bind(id_to_db(guild))
    .bind(talk.0)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {STORED}, in_flight_until, create_tried_at
           FROM guild_events WHERE guild_id = $1 AND talk_id = $2 FOR UPDATE"
    ))
    .bind(id_to_db(guild))
    .bind(talk.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Locked {
        stored: stored(&row)?,
        in_flight_until: row.try_get("in_flight_until")?,
        create_tried_at: row.try_get("create_tried_at")?,
    })
}

/// Marks a request for the talk's event under way until `until` (and, for a create, that
/// one was tried, unless an earlier try is marked already).
pub async fn begin_request(
    db: impl PgExecutor<'_>,
    guild: u64,
    talk: TalkId,
    until: DateTime<Utc>,
    creating_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE guild_events SET in_flight_until = $3,
                create_tried_at = COALESCE(create_tried_at, $4)
          WHERE guild_id = $1 AND talk_id = $2",
    )
    .bind(id_to_db(guild))
    .bind(talk.0)
    .bind(until)
    .bind(creating_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Ends a request that changed nothing confbot records; `made_nothing`: Discord answered,
/// so a create it refused made no event.
pub async fn end_request(
    db: impl PgExecutor<'_>,
    guild: u64,
    talk: TalkId,
    made_nothing: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE guild_events SET in_flight_until = NULL,
                create_tried_at = CASE WHEN $3 THEN NULL ELSE create_tried_at END
          WHERE guild_id = $1 AND talk_id = $2",
    )
    .bind(id_to_db(guild))
    .bind(talk.0)
    .bind(made_nothing)
    .execute(db)
    .await?;
    Ok(())
}

/// Records that the talk's event `event` shows `spec` now, from `start` (Discord's, when it
/// kept its start).
pub async fn set_shown(
    db: impl PgExecutor<'_>,
    guild: u64,
    talk: TalkId,
    event: u64,
    spec: &EventSpec,
    start: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE guild_events SET event_id = $3, shown_version = $4, shown_start = $5,
                shown_end = $6, cancelled = false, revision = revision + 1,
                in_flight_until = NULL, create_tried_at = NULL
          WHERE guild_id = $1 AND talk_id = $2",
    )
    .bind(id_to_db(guild))
    .bind(talk.0)
    .bind(id_to_db(event))
    .bind(spec.digest())
    .bind(start)
    .bind(spec.end)
    .execute(db)
    .await?;
    Ok(())
}

/// Records that the talk's event was cancelled, ended, or found gone.
pub async fn set_cancelled(
    db: impl PgExecutor<'_>,
    guild: u64,
    talk: TalkId,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE guild_events SET cancelled = true, revision = revision + 1,
                in_flight_until = NULL, create_tried_at = NULL
          WHERE guild_id = $1 AND talk_id = $2",
    )
    .bind(id_to_db(guild))
    .bind(talk.0)
    .execute(db)
    .await?;
    Ok(())
}

/// How many of the server's events are live at `now`: Discord counts them towards its
/// limit.
pub async fn live_count(
    db: impl PgExecutor<'_>,
    guild: u64,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM guild_events
          WHERE guild_id = $1 AND event_id IS NOT NULL AND NOT cancelled AND shown_end > $2",
    )
    .bind(id_to_db(guild))
    .bind(now)
    .fetch_one(db)
    .await?)
}

/// The columns [`stored`] reads.
const STORED: &str =
    "talk_id, event_id, shown_version, shown_start, shown_end, cancelled, revision";

fn stored(row: &sqlx::postgres::PgRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        talk: TalkId(row.try_get("talk_id")?),
        event: row.try_get::<Option<i64>, _>("event_id")?.map(id_from_db),
        shown: row.try_get("shown_version")?,
        start: row.try_get("shown_start")?,
        end: row.try_get("shown_end")?,
        cancelled: row.try_get("cancelled")?,
        revision: row.try_get("revision")?,
    })
}
