//! Imports: applying an imported schedule to a conference in one transaction, and the
//! record of each import with its diff.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::domain::diff::{
    describe_added, mass_change, plan_settled, Added, Described, ImportDiff,
};
use crate::domain::import::Format;
use crate::domain::model::{Conference, ConferenceSlug, ImportedSchedule, ScheduleScope, TalkData};
use crate::store::conferences::{self, ConferenceUpsert};
use crate::store::programme::release_freed_memory;
use crate::store::{talks, StoreError};

mod record;

/// One import to apply.
#[derive(Debug)]
pub struct ImportRequest<'a> {
    pub slug: &'a ConferenceSlug,
    /// Where the schedule came from (path or URL), recorded with the import.
    pub source: &'a str,
    pub format: Format,
    /// Taken, so that its talks are freed once written, while the import record (its diff as
    /// JSON, encoded as it is sent) is written.
    pub schedule: ImportedSchedule,
    /// `--timezone`: wins over the zone the source states.
    pub time_zone_override: Option<Tz>,
    /// The zone of a conference created by this import when neither the flag nor the source
    /// names one.
    pub default_time_zone: Tz,
    /// Plan and report, then roll everything back.
    pub dry_run: bool,
    /// Apply even an import that cancels most of the programme or changes the conference's
    /// zone (see [`crate::domain::diff::mass_change`]); otherwise such an import is refused.
    pub allow_mass_change: bool,
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    pub conference: Conference,
    pub diff: ImportDiff,
    /// The id of the stored import record (`None` for a dry run).
    pub import_id: Option<i64>,
}

/// Applies an imported schedule: conference upsert, diff against the stored talks, bulk
/// writes and the import record, all in one transaction. Any error leaves the database as it
/// was; so does a dry run.
pub async fn apply_import(
    pool: &PgPool,
    request: ImportRequest<'_>,
) -> Result<ImportOutcome, StoreError> {
    let ImportRequest {
        slug,
        source,
        format,
        mut schedule,
        time_zone_override,
        default_time_zone,
        dry_run,
        allow_mass_change,
    } = request;
    let is_timetable = schedule.scope == ScheduleScope::Timetable;
    let mut tx = pool.begin().await?;
    let zone_before = conferences::find(&mut tx, slug)
        .await?
        .map(|c| c.conference.time_zone);
    let row = conferences::upsert_and_lock(
        &mut tx,
        &ConferenceUpsert {
            slug,
            name: schedule.name.as_deref(),
            time_zone: time_zone_override.or(schedule.time_zone),
            default_time_zone,
            // Only a timetable is "the source" of a conference; listings merely enrich it.
            source_url: is_timetable.then_some(source),
        },
    )
    .await?;
    let talks::Comparison {
        keys,
        settled,
        stored,
    } = talks::load_for_import(&mut tx, row.id, &schedule).await?;
    let plan = plan_settled(&stored, &schedule, &settled)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    if !allow_mass_change {
        let zone_after = row.conference.time_zone;
        if let Some(change) = mass_change(&keys, &schedule, &plan.changes, zone_before, zone_after)
        {
            // Nothing is written: the transaction rolls back as it is dropped.
            return Err(StoreError::MassChange(change));
        }
    }
    // Before the writes: a person whose row they change clears the digests of all their
    // talks, and that must win over a digest recorded here.
    talks::record_digests(&mut tx, &plan.unchanged_digests).await?;
    let new_ids = talks::reserve_ids(&mut tx, plan.inserts.len()).await?;
    talks::apply(&mut tx, row.id, &plan, &new_ids, &schedule).await?;
    if is_timetable && !schedule.days.is_empty() {
        conferences::replace_days(&mut tx, row.id, &schedule.days).await?;
    }
    let inserted = plan.inserts.len();
    let (mut diff, added) = plan.finish();
    let Described { entries, untouched } =
        describe_written(added, std::mem::take(&mut schedule.talks), new_ids).await?;
    diff.added = entries;
    // The rest (the talks left whole, the stored rows compared, the keys) is freed on a thread
    // of its own, which then hands the import's freed memory back to the operating system for
    // a bot that idles next (trimming after a 100,000-talk import took a fifth of a second).
    let garbage = (keys, settled, stored, schedule, untouched);
    let freeing = std::thread::Builder::new()
        .name("import-free".into())
        .spawn(move || {
            drop(garbage);
            release_freed_memory();
        });
    if let Err(error) = freeing {
        // The closure, and so the talks, were dropped here instead.
        tracing::warn!(%error, "could not start a thread to free an import's talks");
    }
    if dry_run {
        // Nothing is kept.
        tx.rollback().await?;
        return Ok(ImportOutcome {
            conference: row.conference,
            diff,
            import_id: None,
        });
    }
    let (import_id, diff) = record::record(&mut tx, row.id, source, format, diff).await?;
    tx.commit().await?;
    if inserted >= ANALYZE_AFTER_INSERTS {
        refresh_statistics(pool).await;
    }
    Ok(ImportOutcome {
        conference: row.conference,
        diff,
        import_id: Some(import_id),
    })
}

/// The report's entries for the talks an import added, made only once they are written: a
/// first import's added talks take their ids, titles and rooms out of the talks as these are
/// freed, instead of copies held through the writes (33 MB at the peak of a 100,000-talk
/// first import). Off the async workers: that frees every talk (a tenth of a second or so for
/// 100,000).
async fn describe_written(
    added: Vec<Added>,
    talks: Vec<TalkData>,
    new_ids: talks::NewIds,
) -> Result<Described, StoreError> {
    let count = added.len();
    let described =
        tokio::task::spawn_blocking(move || describe_added(added, talks, new_ids.as_slice())).await;
    match described {
        Ok(described) if described.entries.len() == count => Ok(described),
        Ok(described) => {
            let entries = described.entries.len();
            tracing::error!(
                entries,
                count,
                "an import's added talks were not all described"
            );
            Err(StoreError::Invalid(
                "the import's report could not be made".into(),
            ))
        }
        Err(error) => {
            tracing::error!(%error, "describing an import's added talks stopped");
            Err(StoreError::Invalid(
                "the import's report could not be made".into(),
            ))
        }
    }
}

/// An import adding at least this many talks refreshes the planner statistics right away.
const ANALYZE_AFTER_INSERTS: usize = 500;

/// Statistics gathered while the tables were (nearly) empty make Postgres switch the
/// prepared statements that load a programme to a generic plan of nested sequential scans:
/// seconds instead of milliseconds until autovacuum's next ANALYZE. After a large import we
/// analyze at once. Best effort: the import has already committed.
async fn refresh_statistics(pool: &PgPool) {
    if let Err(error) = analyze_keys(pool).await {
        tracing::warn!(%error, "ANALYZE after a large import failed");
    }
}

/// Only the columns queries filter and join on, from a small sample: what the hazard needs
/// (row counts and key distributions that are no longer those of an empty table) at 15 ms
/// instead of 200-400 ms for every column of a 10,000-talk programme. Autovacuum's own
/// ANALYZE later refreshes everything at the server's usual sample size.
async fn analyze_keys(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL default_statistics_target = 10")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "ANALYZE talks (id, conference_id, starts_at, room_id, track_id, source_id),
                 talk_speakers, speakers (id, conference_id, name_key), rooms, tracks",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The stored diff of an import.
pub async fn diff_of(pool: &PgPool, import_id: i64) -> Result<Option<ImportDiff>, StoreError> {
    let row = sqlx::query("SELECT diff::text AS diff FROM imports WHERE id = $1")
        .bind(import_id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| stored_diff(&r)).transpose()
}

/// Decodes the `diff` column (selected as text) straight into the diff, with no `Value`
/// between.
fn stored_diff(row: &PgRow) -> Result<ImportDiff, StoreError> {
    let text: &str = row.try_get("diff")?;
    serde_json::from_str(text).map_err(|e| StoreError::Invalid(format!("stored diff: {e}")))
}

/// The source fingerprint of the conference's latest import, if it recorded one.
pub async fn latest_fingerprint(
    pool: &PgPool,
    slug: &ConferenceSlug,
) -> Result<Option<String>, StoreError> {
    let fingerprint: Option<Option<String>> = sqlx::query_scalar(
        "SELECT i.fingerprint FROM imports i JOIN conferences c ON c.id = i.conference_id
         WHERE c.slug = $1 ORDER BY i.id DESC LIMIT 1",
    )
    .bind(slug.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(fingerprint.flatten())
}

/// Records what the source of an import was, byte for byte (see `latest_fingerprint`).
pub async fn set_fingerprint(
    pool: &PgPool,
    import_id: i64,
    fingerprint: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE imports SET fingerprint = $2 WHERE id = $1")
        .bind(import_id)
        .bind(fingerprint)
        .execute(pool)
        .await?;
    Ok(())
}

/// The conference's imports whose change notices are not planned yet, oldest first, with
/// their diffs. The rows stay locked (`FOR UPDATE SKIP LOCKED`) until the transaction ends,
/// so two planners never plan one import's notices twice: the other one skips them.
pub async fn unplanned_notices(
    conn: &mut PgConnection,
    conference_id: i64,
) -> Result<Vec<(i64, ImportDiff)>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, diff::text AS diff FROM imports WHERE conference_id = $1 AND notices_planned_at IS NULL
         ORDER BY id FOR UPDATE SKIP LOCKED",
    )
    .bind(conference_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, stored_diff(row)?)))
        .collect()
}

/// Records that the change notices of these imports are planned (in the transaction that
/// put them in the outbox).
pub async fn mark_notices_planned(
    conn: &mut PgConnection,
    import_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE imports SET notices_planned_at = $2 WHERE id = ANY($1)")
        .bind(import_ids)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
