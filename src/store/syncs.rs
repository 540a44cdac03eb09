//! The live sync's bookkeeping (`schedule_syncs`): which sources are due, claiming one so
//! only one process fetches it, and each attempt's result, so a failure is reported once.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgExecutor, Row};

use crate::domain::model::ConferenceSlug;
use crate::store::StoreError;

/// A schedule source some server follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncTarget {
    pub conference_id: i64,
    pub slug: ConferenceSlug,
    pub url: String,
    /// The shortest refresh interval any server following it asked for.
    pub refresh: Duration,
    /// A server syncing it said its SUMMARY reads `Title - Speaker` (`/setup speakers`).
    pub summary_speakers: bool,
}

/// A source's last sync, for `/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    pub url: String,
    pub last_attempt_at: DateTime<Utc>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_result: Option<String>,
    pub last_error: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
}

/// Every source set with `/setup source` (with a refresh interval) on an imported
/// conference, whether due or not.
pub async fn targets(db: impl PgExecutor<'_>) -> Result<Vec<SyncTarget>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.id, c.slug, g.source_url, min(g.refresh_minutes) AS refresh,
                bool_or(g.summary_speakers) AS summary_speakers
         FROM guild_settings g JOIN conferences c ON c.slug = g.conference_slug
         WHERE g.source_url IS NOT NULL AND g.refresh_minutes IS NOT NULL
         GROUP BY c.id, c.slug, g.source_url ORDER BY c.id, g.source_url",
    )
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            let slug: String = row.try_get("slug")?;
            let minutes: i32 = row.try_get("refresh")?;
            Ok(SyncTarget {
                conference_id: row.try_get("id")?,
                slug: ConferenceSlug::parse(&slug)
                    .map_err(|e| StoreError::Invalid(format!("stored conference: {e}")))?,
                url: row.try_get("source_url")?,
                refresh: Duration::minutes(i64::from(minutes)),
                summary_speakers: row.try_get("summary_speakers")?,
            })
        })
        .collect()
}

/// Claims the source for a sync at `now` unless it was tried less than `refresh` ago (a
/// `/sync` passes zero). Atomic: of two processes claiming at once, one gets it.
pub async fn claim(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    url: &str,
    refresh: Duration,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let not_before = now - refresh;
    let claimed: Option<i32> = sqlx::query_scalar(
        "INSERT INTO schedule_syncs (conference_id, source_url, last_attempt_at)
         VALUES ($1, $2, $3)
         ON CONFLICT (conference_id, source_url) DO UPDATE SET last_attempt_at = $3
         WHERE schedule_syncs.last_attempt_at <= $4
         RETURNING 1",
    )
    .bind(conference_id)
    .bind(url)
    .bind(now)
    .bind(not_before)
    .fetch_optional(db)
    .await?;
    Ok(claimed.is_some())
}

/// Records a successful sync. Returns when the source had been failing since (it
/// recovered: worth telling the organisers).
pub async fn succeeded(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    url: &str,
    result: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let was_failing: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
        "UPDATE schedule_syncs s SET last_success_at = $3, last_result = $4, last_error = NULL,
                failing_since = NULL, failure_reported_at = NULL
         FROM (SELECT failing_since FROM schedule_syncs
               WHERE conference_id = $1 AND source_url = $2 FOR UPDATE) old
         WHERE s.conference_id = $1 AND s.source_url = $2
         RETURNING old.failing_since",
    )
    .bind(conference_id)
    .bind(url)
    .bind(now)
    .bind(result)
    .fetch_optional(db)
    .await?;
    Ok(was_failing.flatten())
}

/// Records a failed sync. Returns whether this failure is the first since the last
/// success (then it is reported, once; later failures only update the stored error).
pub async fn failed(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    url: &str,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let report: Option<bool> = sqlx::query_scalar(
        "UPDATE schedule_syncs SET last_error = $3, failing_since = COALESCE(failing_since, $4),
                failure_reported_at = COALESCE(failure_reported_at, $4)
         WHERE conference_id = $1 AND source_url = $2
         RETURNING failure_reported_at = $4",
    )
    .bind(conference_id)
    .bind(url)
    .bind(error.chars().take(1000).collect::<String>())
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(report.unwrap_or(false))
}

/// The conference's sources and their last sync.
pub async fn states(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Vec<SyncState>, StoreError> {
    let rows = sqlx::query(
        "SELECT source_url, last_attempt_at, last_success_at, last_result, last_error,
                failing_since
         FROM schedule_syncs WHERE conference_id = $1 ORDER BY source_url",
    )
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SyncState {
                url: row.try_get("source_url")?,
                last_attempt_at: row.try_get("last_attempt_at")?,
                last_success_at: row.try_get("last_success_at")?,
                last_result: row.try_get("last_result")?,
                last_error: row.try_get("last_error")?,
                failing_since: row.try_get("failing_since")?,
            })
        })
        .collect()
}

/// Every source's last sync at a glance, for the metrics endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncSummary {
    /// Sources synced at least once.
    pub sources: i64,
    /// Sources whose last attempt failed (`failing_since` set).
    pub failing: i64,
    /// The latest successful sync of any source.
    pub last_success_at: Option<DateTime<Utc>>,
}

/// [`SyncSummary`] over every conference: one aggregate row.
pub async fn summary(db: impl PgExecutor<'_>) -> Result<SyncSummary, StoreError> {
    let row = sqlx::query(
        "SELECT count(*) AS sources, count(failing_since) AS failing,
                max(last_success_at) AS last_success_at
         FROM schedule_syncs",
    )
    .fetch_one(db)
    .await?;
    Ok(SyncSummary {
        sources: row.try_get("sources")?,
        failing: row.try_get("failing")?,
        last_success_at: row.try_get("last_success_at")?,
    })
}
