//! One import round as `confbot import` runs it, the check that a re-import changed nothing,
//! and the database housekeeping between rounds.

use anyhow::bail;
use confbot::domain::import::{self, Format, ImportOptions};
use confbot::domain::model::ConferenceSlug;
use confbot::store::imports::{apply_import, ImportOutcome, ImportRequest};
use sqlx::PgPool;

use super::Input;

/// Parse + store, as `confbot import` does it (minus reading the file).
pub async fn import_once(
    pool: &PgPool,
    slug: &str,
    input: &Input,
) -> anyhow::Result<ImportOutcome> {
    let slug = ConferenceSlug::parse(slug)?;
    let schedule = import::parse(&input.bytes, Some(input.format), &ImportOptions::default())?;
    let source = input.source();
    let outcome = apply_import(
        pool,
        ImportRequest {
            slug: &slug,
            source: &source,
            format: input.format,
            schedule,
            time_zone_override: None,
            default_time_zone: chrono_tz::America::Los_Angeles,
            dry_run: false,
            allow_mass_change: false,
        },
    )
    .await?;
    Ok(outcome)
}

pub fn expect_unchanged(outcome: &ImportOutcome, format: Format, what: &str) -> anyhow::Result<()> {
    let diff = &outcome.diff;
    if diff.is_empty() {
        return Ok(());
    }
    let example = diff
        .changed
        .first()
        .map(|e| format!("{:?} changed {:?}", e.title, e.fields))
        .or_else(|| diff.added.first().map(|e| format!("{:?} added", e.title)))
        .or_else(|| {
            diff.cancelled
                .first()
                .map(|e| format!("{:?} cancelled", e.title))
        })
        .unwrap_or_default();
    bail!(
        "{format} {what} of an unchanged file is not empty: {} added, {} changed, {} cancelled; \
         e.g. {example}",
        diff.added.len(),
        diff.changed.len(),
        diff.cancelled.len()
    )
}

/// Drops a benchmark conference (every table cascades from it) and vacuums, so each first
/// import meets a database in the same state. Benchmark housekeeping only: the application
/// never deletes a conference, which is why this SQL lives here and not in `store`.
/// No ANALYZE here: statistics taken of near-empty tables make PostgreSQL cache a
/// nested-loop plan for the next conference's 10,000 talks (see BENCHMARKS.md).
pub async fn forget(pool: &PgPool, slug: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM conferences WHERE slug = $1")
        .bind(slug)
        .execute(pool)
        .await?;
    sqlx::query("VACUUM").execute(pool).await?;
    Ok(())
}

/// Refreshes the planner statistics after a first import, as autovacuum does within a minute
/// of a large insert: re-imports are measured as they run in steady state.
pub async fn analyze(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}
