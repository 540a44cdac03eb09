//! Reading the outbox without changing it: for `/status overview`, `simulate`, the metrics
//! page and tests.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Row};

use super::{row_to_entry, subject_column, subject_id, target_to_db, OutboxEntry, COLUMNS};
use crate::domain::reminders::{PlannedPost, PostKey, PostKind};
use crate::store::{id_from_db, id_to_db, StoreError};

/// How many rows are pending (claimed or not).
pub async fn pending_count(db: impl PgExecutor<'_>) -> Result<i64, StoreError> {
    let count = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")
        .fetch_one(db)
        .await?;
    Ok(count)
}

/// One row by id.
pub async fn entry(db: impl PgExecutor<'_>, id: i64) -> Result<Option<OutboxEntry>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(row_to_entry).transpose()
}

/// Every row of the conference, by due time then id (for `simulate`, operations, tests).
pub async fn of_conference(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE conference_id = $1 ORDER BY due_at, id"
    ))
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_entry).collect()
}

/// The conference's next pending posts of `kind`, earliest first (for `/status overview`).
pub async fn upcoming(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    kind: PostKind,
    limit: u32,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM outbox
         WHERE conference_id = $1 AND status = 'pending' AND kind = $2
         ORDER BY due_at, id LIMIT $3"
    ))
    .bind(conference_id)
    .bind(kind.as_str())
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_entry).collect()
}

/// The conference's posts given up since `since`, newest first, with when.
pub async fn failures_since(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    guild: u64,
    since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<(OutboxEntry, DateTime<Utc>)>, StoreError> {
    // A server's own events only: another server following the conference keeps its own.
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, failed_at FROM outbox
         WHERE conference_id = $1 AND status = 'failed' AND failed_at >= $2
           AND (target_kind <> 'guild' OR target_id = $4)
         ORDER BY failed_at DESC, id DESC LIMIT $3"
    ))
    .bind(conference_id)
    .bind(since)
    .bind(i64::from(limit))
    .bind(id_to_db(guild))
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| Ok((row_to_entry(row)?, row.try_get("failed_at")?)))
        .collect()
}

/// The pending DM reminders of `users` in the conference, as planned: a replan of those
/// users writes only what differs (`domain::reminders::plan_delta`).
pub async fn pending_dm_reminders(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    users: &[u64],
) -> Result<Vec<PlannedPost>, StoreError> {
    let users: Vec<i64> = users.iter().map(|user| id_to_db(*user)).collect();
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM outbox
         WHERE target_kind = 'dm' AND target_id = ANY($2) AND kind = 'reminder'
           AND conference_id = $1 AND status = 'pending'"
    ))
    .bind(conference_id)
    .bind(users)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| row_to_entry(row).map(|entry| entry.post))
        .collect()
}

/// What became of the post with `key`: sent (with its message, when known), still
/// pending, or not made (never planned, dropped, failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    Sent(Option<u64>),
    Pending,
    Not,
}

/// Looks up the post with `key` of the conference (a talk's thread reads its reminder's).
pub async fn posted(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    key: &PostKey,
) -> Result<Posted, StoreError> {
    let (target_kind, target_id) = target_to_db(key.target);
    let (column, _) = subject_column(key.subject);
    let row: Option<(String, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT status, message_id FROM outbox
         WHERE conference_id = $1 AND target_kind = $2 AND target_id = $3 AND {column} = $4
           AND kind = $5 AND schedule_version = $6"
    ))
    .bind(conference_id)
    .bind(target_kind)
    .bind(target_id)
    .bind(subject_id(key.subject))
    .bind(key.kind.as_str())
    .bind(key.schedule_version)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        Some((status, message)) if status == "sent" => Posted::Sent(message.map(id_from_db)),
        Some((status, _)) if status == "pending" => Posted::Pending,
        _ => Posted::Not,
    })
}

/// "The thread `t` (a sent `thread` row) is not archived yet": no sent `thread_close` of
/// the same reminder.
pub(crate) const NOT_ARCHIVED: &str = "NOT EXISTS (
        SELECT 1 FROM outbox c
        WHERE c.talk_id = t.talk_id AND c.kind = 'thread_close' AND c.status = 'sent'
          AND c.target_kind = t.target_kind AND c.target_id = t.target_id
          AND c.schedule_version = t.schedule_version)";

/// The open thread of a talk at a schedule version (a moved talk's old thread is not its
/// thread any more), if one was started and not archived yet: the server and the thread's
/// id (the message it was started on).
pub async fn thread_of(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    talk: i64,
    schedule_version: i32,
) -> Result<Option<(u64, u64)>, StoreError> {
    let row: Option<(Option<i64>, Option<String>)> = sqlx::query_as(&format!(
        "SELECT t.message_id, t.body->>'guild' FROM outbox t
         WHERE t.talk_id = $1 AND t.kind = 'thread' AND t.status = 'sent'
           AND t.conference_id = $2 AND t.schedule_version = $3 AND {NOT_ARCHIVED}
         ORDER BY t.sent_at DESC LIMIT 1"
    ))
    .bind(talk)
    .bind(conference_id)
    .bind(schedule_version)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|(thread, guild)| Some((guild?.parse().ok()?, id_from_db(thread?)))))
}
