//! Reading the outbox without changing it: for `/status overview`, `simulate`, the metrics
//! page and tests.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Row};

use super::{row_to_entry, OutboxEntry, COLUMNS};
use crate::domain::reminders::{PlannedPost, PostKind};
use crate::store::{id_to_db, StoreError};

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
    since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<(OutboxEntry, DateTime<Utc>)>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, failed_at FROM outbox
         WHERE conference_id = $1 AND status = 'failed' AND failed_at >= $2
         ORDER BY failed_at DESC, id DESC LIMIT $3"
    ))
    .bind(conference_id)
    .bind(since)
    .bind(i64::from(limit))
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
