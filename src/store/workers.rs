//! Delivery workers' heartbeats (`delivery_workers`): how many processes share Discord's
//! global rate limit at the moment.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgExecutor;

use crate::store::StoreError;

/// How long after it last counted a worker's record is deleted: a worker that left
/// gracefully deletes its own, but one that crashed (or whose name changed with its
/// restart) leaves it behind.
const FORGOTTEN_AFTER: Duration = Duration::hours(1);

/// Records that `worker` is alive at `now` and returns how many workers (itself
/// included) were seen within `alive` of `now`; records that stopped counting
/// [`FORGOTTEN_AFTER`] ago go. One statement: the count sees this worker's own heartbeat.
pub async fn heartbeat(
    db: impl PgExecutor<'_>,
    worker: &str,
    now: DateTime<Utc>,
    alive: Duration,
) -> Result<u32, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "WITH me AS (
             INSERT INTO delivery_workers (worker, seen_at) VALUES ($1, $2)
             ON CONFLICT (worker) DO UPDATE SET seen_at = EXCLUDED.seen_at
             RETURNING worker),
         forgotten AS (DELETE FROM delivery_workers WHERE seen_at < $4 AND worker <> $1)
         SELECT 1 + count(*) FROM delivery_workers
         WHERE seen_at >= $3 AND worker <> (SELECT worker FROM me)",
    )
    .bind(worker)
    .bind(now)
    .bind(now - alive)
    .bind(now - alive - FORGOTTEN_AFTER)
    .fetch_one(db)
    .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// Removes the worker's heartbeat (graceful shutdown), so the others take its share at once.
pub async fn leave(db: impl PgExecutor<'_>, worker: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM delivery_workers WHERE worker = $1")
        .bind(worker)
        .execute(db)
        .await?;
    Ok(())
}
