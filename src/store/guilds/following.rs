//! What the servers following a conference set for it: the organiser log channel, the
//! default reminder lead, the schedule updates channels and the talk threads. Several
//! servers may follow one conference; each reader says whose setting wins.

use sqlx::{PgExecutor, Row};

use super::thread_settings;
use crate::domain::reminders::LeadTime;
use crate::domain::threads::ThreadSettings;
use crate::store::{id_from_db, StoreError};

/// The organiser log channel of a server following the conference (by the settings stored
/// with `/setup`), for posting sync results and delivery failures. When several servers
/// follow it and set one, the most recently changed server's; `None` when none set one.
pub async fn organiser_log_channel(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Option<u64>, StoreError> {
    let channel: Option<i64> = sqlx::query_scalar(
        "SELECT g.organiser_log_channel FROM guild_settings g
         JOIN conferences c ON c.slug = g.conference_slug
         WHERE c.id = $1 AND g.organiser_log_channel IS NOT NULL
         ORDER BY g.updated_at DESC, g.guild_id LIMIT 1",
    )
    .bind(conference_id)
    .fetch_optional(db)
    .await?;
    Ok(channel.map(id_from_db))
}

/// The schedule updates channels of every server following the conference
/// (`/setup updates`), each once.
pub async fn updates_channels(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Vec<u64>, StoreError> {
    let channels: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT g.updates_channel FROM guild_settings g
         JOIN conferences c ON c.slug = g.conference_slug
         WHERE c.id = $1 AND g.updates_channel IS NOT NULL
         ORDER BY 1",
    )
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    Ok(channels.into_iter().map(id_from_db).collect())
}

/// The thread settings that apply to a conference's talks: those of the server that
/// manages its reminder channels (`/channel`), whose messages the threads start on. With
/// configured channels (no server manages them), those of the server following the
/// conference when it is the only one: with several, no server may start, archive or lock
/// threads in channels that may be another's. `None`: no threads. With the server's id: the
/// threads (and the DM links to them) are in its channels.
pub async fn threads_of(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Option<(u64, ThreadSettings)>, StoreError> {
    let row = sqlx::query(
        "SELECT g.guild_id, g.threads, g.thread_rooms, g.thread_tracks, g.thread_grace_minutes, g.thread_lock
         FROM guild_settings g
         JOIN conferences c ON c.slug = g.conference_slug
         LEFT JOIN channel_plan_owners o ON o.conference_id = c.id
         WHERE c.id = $1
           AND (o.guild_id = g.guild_id
                OR (o.guild_id IS NULL
                    AND (SELECT count(*) FROM guild_settings f
                          WHERE f.conference_slug = g.conference_slug) = 1))
         LIMIT 1",
    )
    .bind(conference_id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let guild = id_from_db(row.try_get("guild_id")?);
    Ok(thread_settings(&row)?.map(|threads| (guild, threads)))
}

/// The conference's default lead time in minutes (`$1`: its id): the latest `/setup lead`
/// of the servers linked to it. Shared with `subscriptions::lead_and_default`.
pub(crate) const DEFAULT_LEAD: &str = "SELECT g.default_lead_minutes FROM guild_settings g
     JOIN conferences c ON c.slug = g.conference_slug
     WHERE c.id = $1 AND g.default_lead_minutes IS NOT NULL
     ORDER BY g.updated_at DESC, g.guild_id LIMIT 1";

/// The default reminder lead an organiser set with `/setup lead` for a conference (the most
/// recently changed server following it that set one); `None`: `defaults.lead_minutes`.
pub async fn default_lead(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Option<LeadTime>, StoreError> {
    let minutes: Option<i32> = sqlx::query_scalar(DEFAULT_LEAD)
        .bind(conference_id)
        .fetch_optional(db)
        .await?;
    minutes
        .map(|m| {
            LeadTime::from_minutes(i64::from(m))
                .map_err(|e| StoreError::Invalid(format!("stored default lead: {e}")))
        })
        .transpose()
}
