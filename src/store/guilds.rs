//! Per-server settings (`guild_settings`) and the organisers' audit log (`audit_log`).
//!
//! A server has a settings row once an organiser changed something; until then the caller
//! uses the configuration's values ([`GuildSettings::seeded`]), which also become the
//! row's first values in [`change`]. Every query takes the guild id: nothing here reads
//! or writes another server's settings or audit entries.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{Acquire, PgConnection, PgExecutor, Row};

use super::{id_from_db, id_to_db, StoreError};

mod following;
use crate::domain::board::{Board, BoardLayout};
use crate::domain::events::EventSelection;
use crate::domain::guild_settings::{AuditEntry, GuildSettings, SetupChange};
use crate::domain::model::ConferenceSlug;
use crate::domain::privacy::RetentionDays;
use crate::domain::questions::QuestionSettings;
use crate::domain::reminders::LeadTime;
use crate::domain::threads::ThreadSettings;
pub(crate) use following::DEFAULT_LEAD;
pub use following::{default_lead, organiser_log_channel, threads_of, updates_channels};

const COLUMNS: &str = "conference_slug, time_zone, source_url, refresh_minutes, \
     announcement_channel, organiser_log_channel, organiser_role, default_lead_minutes, \
     retention_days, summary_speakers, updates_channel, board_channel, board_layout, threads, \
     thread_rooms, thread_tracks, thread_grace_minutes, thread_lock, questions_anonymous, \
     questions_chair_role, events, event_rooms, event_tracks, event_types, web_public";

/// The stored settings of a server; `None` when no organiser has changed any yet.
pub async fn get(
    db: impl PgExecutor<'_>,
    guild_id: u64,
) -> Result<Option<GuildSettings>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM guild_settings WHERE guild_id = $1"
    ))
    .bind(id_to_db(guild_id))
    .fetch_optional(db)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Makes one `/setup` change for `user` and records it in the audit log, in one
/// transaction. `seed` is the server's configured first values, used when it has no row
/// yet. Returns the settings before and after.
///
/// The row is created from the seed first (`ON CONFLICT DO NOTHING`) and then locked, so two
/// organisers changing different fields at once both keep their change: the second reads
/// the first's result instead of overwriting it with values read before.
pub async fn change(
    conn: &mut PgConnection,
    guild_id: u64,
    seed: &GuildSettings,
    user: u64,
    change: &SetupChange,
) -> Result<(GuildSettings, GuildSettings), StoreError> {
    let mut tx = conn.begin().await?;
    write(&mut tx, guild_id, seed, user, true).await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM guild_settings WHERE guild_id = $1 FOR UPDATE"
    ))
    .bind(id_to_db(guild_id))
    .fetch_one(&mut *tx)
    .await?;
    let before = from_row(&row)?;
    let after = change.apply(&before);
    write(&mut tx, guild_id, &after, user, false).await?;
    append(
        &mut *tx,
        guild_id,
        user,
        change.action(),
        Some(&change.audit_fields(&before)),
        Some(&change.audit_fields(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok((before, after))
}

/// Inserts the settings row, or (unless `only_new`) replaces its values.
async fn write(
    conn: &mut PgConnection,
    guild_id: u64,
    settings: &GuildSettings,
    user: u64,
    only_new: bool,
) -> Result<(), StoreError> {
    let on_conflict = if only_new {
        "DO NOTHING"
    } else {
        "DO UPDATE SET conference_slug = EXCLUDED.conference_slug, \
         time_zone = EXCLUDED.time_zone, source_url = EXCLUDED.source_url, \
         refresh_minutes = EXCLUDED.refresh_minutes, \
         announcement_channel = EXCLUDED.announcement_channel, \
         organiser_log_channel = EXCLUDED.organiser_log_channel, \
         organiser_role = EXCLUDED.organiser_role, \
         default_lead_minutes = EXCLUDED.default_lead_minutes, \
         retention_days = EXCLUDED.retention_days, \
         summary_speakers = EXCLUDED.summary_speakers, \
         updates_channel = EXCLUDED.updates_channel, \
         board_channel = EXCLUDED.board_channel, board_layout = EXCLUDED.board_layout, \
         threads = EXCLUDED.threads, thread_rooms = EXCLUDED.thread_rooms, \
         thread_tracks = EXCLUDED.thread_tracks, \
         thread_grace_minutes = EXCLUDED.thread_grace_minutes, \
         thread_lock = EXCLUDED.thread_lock, \
         questions_anonymous = EXCLUDED.questions_anonymous, \
         questions_chair_role = EXCLUDED.questions_chair_role, \
         events = EXCLUDED.events, event_rooms = EXCLUDED.event_rooms, \
         event_tracks = EXCLUDED.event_tracks, event_types = EXCLUDED.event_types, \
         web_public = EXCLUDED.web_public, updated_at = now(), updated_by = EXCLUDED.updated_by"
    };
    // Kept while threads are off, so turning them on again starts from the same choices.
    let threads = settings.threads.clone().unwrap_or_default();
    let events = settings.events.clone().unwrap_or_default();
    let refresh = settings
        .refresh_minutes
        .map(|m| i32::try_from(m).map_err(|_| StoreError::Invalid(format!("refresh {m}"))))
        .transpose()?;
    sqlx::query(&format!(
        "INSERT INTO guild_settings (guild_id, {COLUMNS}, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
         ON CONFLICT (guild_id) {on_conflict}"
    ))
    .bind(id_to_db(guild_id))
    .bind(settings.conference.as_ref().map(ConferenceSlug::as_str))
    .bind(settings.time_zone.map(|zone| zone.name()))
    .bind(settings.source_url.as_deref())
    .bind(refresh)
    .bind(settings.announcement_channel.map(id_to_db))
    .bind(settings.organiser_log_channel.map(id_to_db))
    .bind(settings.organiser_role.map(id_to_db))
    .bind(settings.default_lead.map(|lead| i32::from(lead.minutes())))
    .bind(
        settings
            .retention
            .map(|days| i32::try_from(days.days()).unwrap_or(i32::MAX)),
    )
    .bind(settings.summary_speakers)
    .bind(settings.updates_channel.map(id_to_db))
    .bind(settings.board.map(|board| id_to_db(board.channel)))
    .bind(
        settings
            .board
            .map_or(BoardLayout::default(), |board| board.layout)
            .as_str(),
    )
    .bind(settings.threads.is_some())
    .bind(threads.rooms)
    .bind(threads.tracks)
    .bind(i32::try_from(threads.grace_minutes).unwrap_or(i32::MAX))
    .bind(threads.lock)
    .bind(settings.questions.anonymous)
    .bind(settings.questions.chair_role.map(id_to_db))
    .bind(settings.events.is_some())
    .bind(&events.rooms)
    .bind(&events.tracks)
    .bind(&events.types)
    .bind(settings.web_public)
    .bind(id_to_db(user))
    .execute(conn)
    .await?;
    Ok(())
}

fn from_row(row: &PgRow) -> Result<GuildSettings, StoreError> {
    let invalid = |what: &str, value: &str| StoreError::Invalid(format!("stored {what} {value:?}"));
    let conference = row
        .try_get::<Option<String>, _>("conference_slug")?
        .map(|slug| ConferenceSlug::parse(&slug).map_err(|_| invalid("slug", &slug)))
        .transpose()?;
    let time_zone = row
        .try_get::<Option<String>, _>("time_zone")?
        .map(|zone| Tz::from_str(&zone).map_err(|_| invalid("zone", &zone)))
        .transpose()?;
    let refresh_minutes = row
        .try_get::<Option<i32>, _>("refresh_minutes")?
        .map(|m| u32::try_from(m).map_err(|_| invalid("refresh", &m.to_string())))
        .transpose()?;
    let default_lead = row
        .try_get::<Option<i32>, _>("default_lead_minutes")?
        .map(|m| LeadTime::from_minutes(m.into()).map_err(|_| invalid("lead", &m.to_string())))
        .transpose()?;
    let retention = row
        .try_get::<Option<i32>, _>("retention_days")?
        .map(|d| {
            u32::try_from(d)
                .ok()
                .and_then(RetentionDays::new)
                .ok_or_else(|| invalid("retention", &d.to_string()))
        })
        .transpose()?;
    let id = |column: &str| -> Result<Option<u64>, StoreError> {
        Ok(row.try_get::<Option<i64>, _>(column)?.map(id_from_db))
    };
    let layout: String = row.try_get("board_layout")?;
    let layout = BoardLayout::parse(&layout).ok_or_else(|| invalid("board layout", &layout))?;
    let board = id("board_channel")?.map(|channel| Board { channel, layout });
    Ok(GuildSettings {
        conference,
        time_zone,
        source_url: row.try_get("source_url")?,
        refresh_minutes,
        announcement_channel: id("announcement_channel")?,
        organiser_log_channel: id("organiser_log_channel")?,
        organiser_role: id("organiser_role")?,
        default_lead,
        retention,
        summary_speakers: row.try_get("summary_speakers")?,
        updates_channel: id("updates_channel")?,
        board,
        threads: thread_settings(row)?,
        questions: QuestionSettings {
            anonymous: row.try_get("questions_anonymous")?,
            chair_role: id("questions_chair_role")?,
        },
        events: row
            .try_get::<bool, _>("events")?
            .then(|| -> Result<EventSelection, StoreError> {
                Ok(EventSelection {
                    rooms: row.try_get("event_rooms")?,
                    tracks: row.try_get("event_tracks")?,
                    types: row.try_get("event_types")?,
                })
            })
            .transpose()?,
        web_public: row.try_get("web_public")?,
    })
}

/// The thread settings of a settings row (`None` when threads are off).
pub(super) fn thread_settings(row: &PgRow) -> Result<Option<ThreadSettings>, StoreError> {
    if !row.try_get::<bool, _>("threads")? {
        return Ok(None);
    }
    let grace: i32 = row.try_get("thread_grace_minutes")?;
    Ok(Some(ThreadSettings {
        rooms: row.try_get("thread_rooms")?,
        tracks: row.try_get("thread_tracks")?,
        grace_minutes: u32::try_from(grace)
            .map_err(|_| StoreError::Invalid(format!("stored thread grace {grace}")))?,
        lock: row.try_get("thread_lock")?,
    }))
}

/// Appends an audit entry: `action` by `user` in the server, with the touched fields
/// before and after (`None` for a refused attempt).
pub async fn append(
    db: impl PgExecutor<'_>,
    guild_id: u64,
    user: u64,
    action: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (guild_id, user_id, action, before, after)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_to_db(guild_id))
    .bind(id_to_db(user))
    .bind(action)
    .bind(before)
    .bind(after)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a refused attempt (`action`, e.g. "refused /setup timezone") unless the same
/// user's same refusal in this server is already recorded within the last minute: anyone
/// can trigger refusals, and repeating one must not grow the log without bound. (Two
/// attempts racing may both be recorded; that is harmless.) Returns whether it was recorded.
pub async fn append_refusal(
    db: impl PgExecutor<'_>,
    guild_id: u64,
    user: u64,
    action: &str,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO audit_log (guild_id, user_id, action)
         SELECT $1, $2, $3
         WHERE NOT EXISTS (
             SELECT 1 FROM audit_log
             WHERE guild_id = $1 AND user_id = $2 AND action = $3
               AND at > now() - interval '1 minute')",
    )
    .bind(id_to_db(guild_id))
    .bind(id_to_db(user))
    .bind(action)
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// user, action, before, after, at.
type AuditRow = (i64, String, Option<Value>, Option<Value>, DateTime<Utc>);

/// The server's most recent audit entries, newest first, at most `limit`.
pub async fn recent_audit(
    db: impl PgExecutor<'_>,
    guild_id: u64,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT user_id, action, before, after, at FROM audit_log
         WHERE guild_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(id_to_db(guild_id))
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user, action, before, after, at)| AuditEntry {
            user: id_from_db(user),
            action,
            before: before.unwrap_or(Value::Null),
            after: after.unwrap_or(Value::Null),
            at,
        })
        .collect())
}

/// Claims the conference's reminder channel map for `guild_id` unless another server
/// manages it already (see the `channel_plan_owners` table). Returns the managing server
/// when it is another one (then the caller must not change the map). Call it in the
/// transaction that changes the map: the claim is undone with it.
pub async fn claim_channel_plan(
    conn: &mut PgConnection,
    conference_id: i64,
    guild_id: u64,
) -> Result<Option<u64>, StoreError> {
    // Insert-or-read in one statement would need a no-op update; two statements under the
    // primary key are race free: a concurrent first claim makes ours DO NOTHING.
    sqlx::query(
        "INSERT INTO channel_plan_owners (conference_id, guild_id) VALUES ($1, $2)
         ON CONFLICT (conference_id) DO NOTHING",
    )
    .bind(conference_id)
    .bind(id_to_db(guild_id))
    .execute(&mut *conn)
    .await?;
    let owner: i64 =
        sqlx::query_scalar("SELECT guild_id FROM channel_plan_owners WHERE conference_id = $1")
            .bind(conference_id)
            .fetch_one(&mut *conn)
            .await?;
    let owner = id_from_db(owner);
    Ok((owner != guild_id).then_some(owner))
}
