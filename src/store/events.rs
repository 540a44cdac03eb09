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
    let rows = sqlx::query(
        "SELECT guild_id, talk_id, event_id, shown_version, shown_start, shown_end, cancelled
           FROM guild_events WHERE conference_id = $1 ORDER BY guild_id, talk_id",
    )
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| Ok((id_from_db(row.try_get("guild_id")?), stored(row)?)))
        .collect()
}

/// Locks the talk's event in the server until the transaction ends (recording it first
/// when it has none), so that two workers never make two events for one talk.
pub async fn lock(
    conn: &mut PgConnection,
    conference_id: i64,
    guild: u64,
    talk: TalkId,
) -> Result<StoredEvent, StoreError> {
    sqlx::query(
        "INSERT INTO guild_events (conference_id, guild_id, talk_id) VALUES ($1, $2, $3)
         ON CONFLICT (guild_id, talk_id) DO NOTHING",
    )
    .bind(conference_id)
    .bind(id_to_db(guild))
    .bind(talk.0)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(
        "SELECT talk_id, event_id, shown_version, shown_start, shown_end, cancelled
           FROM guild_events WHERE guild_id = $1 AND talk_id = $2 FOR UPDATE",
    )
    .bind(id_to_db(guild))
    .bind(talk.0)
    .fetch_one(&mut *conn)
    .await?;
    stored(&row)
}

/// Records that the talk's event `event` shows `spec` now.
pub async fn set_shown(
    db: impl PgExecutor<'_>,
    guild: u64,
    talk: TalkId,
    event: u64,
    spec: &EventSpec,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE guild_events SET event_id = $3, shown_version = $4, shown_start = $5,
                shown_end = $6, cancelled = false
          WHERE guild_id = $1 AND talk_id = $2",
    )
    .bind(id_to_db(guild))
    .bind(talk.0)
    .bind(id_to_db(event))
    .bind(spec.digest())
    .bind(spec.start)
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
    sqlx::query("UPDATE guild_events SET cancelled = true WHERE guild_id = $1 AND talk_id = $2")
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

fn stored(row: &sqlx::postgres::PgRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        talk: TalkId(row.try_get("talk_id")?),
        event: row.try_get::<Option<i64>, _>("event_id")?.map(id_from_db),
        shown: row.try_get("shown_version")?,
        start: row.try_get("shown_start")?,
        end: row.try_get("shown_end")?,
        cancelled: row.try_get("cancelled")?,
    })
}
