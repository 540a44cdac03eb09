//! The delivery side of the outbox: when work is next due, claiming it under a lease, and
//! recording each row's outcome (see the protocol in [`super`]).

use chrono::{DateTime, Duration, Utc};
use sqlx::PgExecutor;

use sqlx::Row;

use super::{clip, row_to_entry, OutboxEntry};
use crate::domain::reminders::EarlyStart;
use crate::store::StoreError;

/// The earliest instant at which [`claim_due`] can return something: the first unclaimed
/// pending row's due time, or a claimed row's lease end. May lie in the past (work is
/// waiting: claim at once); `None` when nothing is pending. The delivery loop sleeps until
/// then or until it is told the plan changed.
pub async fn next_due(db: impl PgExecutor<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
    // LEAST ignores NULLs. Each half is served by one of the partial indexes.
    let next = sqlx::query_scalar(
        "SELECT LEAST(
             (SELECT due_at FROM outbox WHERE status = 'pending' AND claimed_until IS NULL
              ORDER BY due_at LIMIT 1),
             (SELECT min(GREATEST(due_at, claimed_until)) FROM outbox
              WHERE status = 'pending' AND claimed_until IS NOT NULL))",
    )
    .fetch_one(db)
    .await?;
    Ok(next)
}

/// Claims up to `limit` rows due at `now` (pending, and unclaimed or with an expired lease)
/// for `worker` until `now + lease`: every due channel post before any DM (a fan-out of
/// thousands of DMs must not hold back a room's reminder), then earliest first.
/// One statement: the rows are locked with `FOR UPDATE SKIP LOCKED` (a row another worker
/// is claiming right now is skipped, not waited for) and the claim is written before the
/// locks are released, so two workers never get the same row.
pub async fn claim_due(
    db: impl PgExecutor<'_>,
    worker: &str,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u32,
) -> Result<Vec<OutboxEntry>, StoreError> {
    claim_due_early(db, worker, now, None, lease, limit).await
}

/// [`claim_due`], with DMs due up to `dms_until` (see [`send_early`]) claimable as well.
pub async fn claim_due_early(
    db: impl PgExecutor<'_>,
    worker: &str,
    now: DateTime<Utc>,
    dms_until: Option<DateTime<Utc>>,
    lease: Duration,
    limit: u32,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let until = now
        .checked_add_signed(lease)
        .ok_or_else(|| StoreError::Invalid(format!("a lease of {lease} is out of range")))?;
    // A CTE rather than `WHERE id IN (subquery)`: it runs exactly once, so the LIMIT and the
    // locks apply to one set of rows.
    // A row whose earlier claim ran out unrecorded (its worker died) may have been sent
    // from the moment that claim was taken: the SET reads the old values.
    let rows = sqlx::query(
        "WITH due AS (
             SELECT id FROM outbox
             WHERE status = 'pending'
               AND (due_at <= $2 OR (target_kind = 'dm' AND due_at <= $5))
               AND (claimed_until IS NULL OR claimed_until <= $2)
             ORDER BY target_kind, due_at, id
             LIMIT $4
             FOR UPDATE SKIP LOCKED)
         UPDATE outbox o SET claimed_by = $1, claimed_until = $3, claimed_at = $2,
             maybe_sent_since = COALESCE(o.maybe_sent_since,
                 CASE WHEN o.claimed_until IS NOT NULL
                      THEN COALESCE(o.claimed_at, o.claimed_until - interval '1 hour') END)
         FROM due WHERE o.id = due.id
         RETURNING o.*",
    )
    .bind(worker)
    .bind(now)
    .bind(until)
    .bind(i64::from(limit))
    .bind(dms_until)
    .fetch_all(db)
    .await?;
    let mut claimed = rows
        .iter()
        .map(row_to_entry)
        .collect::<Result<Vec<_>, _>>()?;
    // RETURNING has no order of its own.
    claimed.sort_by_key(|e| (is_dm(e), e.post.due, e.id));
    Ok(claimed)
}

/// [`crate::domain::reminders::early_start`] over the outbox's pending rows due within
/// `horizon` of `now`, each costing `per_request` (clock time): which DMs may go early so
/// that a fan-out ends by its due instant, and when the next may. In SQL, so a fan-out of
/// thousands of rows is never read into memory; served by the pending rows' due-time index.
pub async fn send_early(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    per_request: Duration,
    horizon: Duration,
) -> Result<EarlyStart, StoreError> {
    let seconds = per_request.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
    let row = sqlx::query(
        "WITH ranked AS (
             SELECT due_at,
                    due_at - make_interval(secs => $2 * row_number() OVER (ORDER BY due_at, id))
                        AS latest_start
             FROM outbox
             WHERE status = 'pending' AND due_at <= $1 + $3),
         critical AS (SELECT max(due_at) AS until FROM ranked WHERE latest_start <= $1)
         SELECT (SELECT until FROM critical) AS send_until,
                (SELECT min(latest_start) FROM ranked
                  WHERE due_at > COALESCE((SELECT until FROM critical), '-infinity')) AS next",
    )
    .bind(now)
    .bind(seconds)
    .bind(horizon)
    .fetch_one(db)
    .await?;
    Ok(EarlyStart {
        send_until: row.try_get("send_until")?,
        next: row.try_get("next")?,
    })
}

fn is_dm(entry: &OutboxEntry) -> bool {
    matches!(
        entry.post.key.target,
        crate::domain::reminders::Target::Dm(_)
    )
}

/// Extends `worker`'s claim on the rows `ids` to `until`, at `now`. Returns the rows renewed:
/// a row missing from the answer is no longer this worker's (its lease ran out, or it was
/// recorded or released), and must not be sent by it.
pub async fn renew(
    db: impl PgExecutor<'_>,
    worker: &str,
    ids: &[i64],
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let renewed = sqlx::query_scalar(
        "UPDATE outbox SET claimed_until = $4
         WHERE id = ANY($1) AND claimed_by = $2 AND status = 'pending' AND claimed_until > $3
         RETURNING id",
    )
    .bind(ids)
    .bind(worker)
    .bind(now)
    .bind(until)
    .fetch_all(db)
    .await?;
    Ok(renewed)
}

/// Records that row `id` was sent at `now`. Refused (returns `false`) unless the row is
/// pending and still claimed by `worker`: after a lease expired and another worker took the
/// row, that worker's outcome stands. A late worker whose row nobody took yet may still
/// record its send, which is the truth and prevents a resend.
pub async fn mark_sent(
    db: impl PgExecutor<'_>,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    mark_sent_as(db, id, worker, now, None).await
}

/// [`mark_sent`], keeping the id of the message that shows the post when it is known (a
/// talk's thread is started on its channel reminder's message).
pub async fn mark_sent_as(
    db: impl PgExecutor<'_>,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
    message: Option<u64>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = $3, claimed_by = NULL, claimed_until = NULL,
                           message_id = coalesce($4, message_id)
         WHERE id = $1 AND status = 'pending' AND claimed_by = $2",
    )
    .bind(id)
    .bind(worker)
    .bind(now)
    .bind(message.map(crate::store::id_to_db))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that `worker` decided not to send row `id` (e.g. the talk already started),
/// with the reason. Refused like [`mark_sent`] unless the row is still this worker's.
pub async fn mark_dropped(
    db: impl PgExecutor<'_>,
    id: i64,
    worker: &str,
    reason: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'dropped', last_error = $3,
                           claimed_by = NULL, claimed_until = NULL
         WHERE id = $1 AND status = 'pending' AND claimed_by = $2",
    )
    .bind(id)
    .bind(worker)
    .bind(clip(reason))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt of `worker` on row `id`: with `retry_at` the row is pending
/// again, due then (backoff, `retry_after`), else it is given up as failed (e.g. a closed
/// DM) at `now`. Either way `attempts` grows by one and the error is kept. `maybe_sent_at`:
/// the attempt's request left but its outcome is unknown (a timeout), so the message may
/// exist from then on. Refused like [`mark_sent`] unless the row is still this worker's.
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    id: i64,
    worker: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    maybe_sent_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $3,
                           status = CASE WHEN $4::timestamptz IS NULL THEN 'failed'
                                         ELSE 'pending' END,
                           due_at = COALESCE($4, due_at),
                           failed_at = CASE WHEN $4::timestamptz IS NULL THEN $5 END,
                           maybe_sent_since = COALESCE(maybe_sent_since, $6),
                           claimed_by = NULL, claimed_until = NULL
         WHERE id = $1 AND status = 'pending' AND claimed_by = $2",
    )
    .bind(id)
    .bind(worker)
    .bind(clip(error))
    .bind(retry_at)
    .bind(now)
    .bind(maybe_sent_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that no message of row `id` exists (looked for after Discord forgot its
/// nonce): it is sent afresh. Refused like [`mark_sent`] unless the row is still this
/// worker's.
pub async fn mark_not_sent(
    db: impl PgExecutor<'_>,
    id: i64,
    worker: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET maybe_sent_since = NULL
         WHERE id = $1 AND status = 'pending' AND claimed_by = $2",
    )
    .bind(id)
    .bind(worker)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts row `id` back to pending, due at `until`, without counting a failed attempt: for
/// waits that are no fault of the post (a rate limit's `retry_after`). The reason is kept.
/// Refused like [`mark_sent`] unless the row is still this worker's.
pub async fn postpone(
    db: impl PgExecutor<'_>,
    id: i64,
    worker: &str,
    until: DateTime<Utc>,
    reason: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET due_at = $3, last_error = $4, claimed_by = NULL, claimed_until = NULL
         WHERE id = $1 AND status = 'pending' AND claimed_by = $2",
    )
    .bind(id)
    .bind(worker)
    .bind(until)
    .bind(clip(reason))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives back every claim of `worker` (graceful shutdown), so other workers or the next
/// start need not wait for the leases to run out. Returns how many rows were released.
pub async fn release(db: impl PgExecutor<'_>, worker: &str) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL
         WHERE status = 'pending' AND claimed_until IS NOT NULL AND claimed_by = $1",
    )
    .bind(worker)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
