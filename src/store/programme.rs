//! Loading a conference's whole programme as one snapshot for the attendee commands.

use sqlx::PgPool;

use crate::domain::model::ConferenceSlug;
use crate::domain::programme::Programme;
use crate::store::{conferences, talks, StoreError};

/// The conference's programme, or `None` when no such conference exists. Read in one
/// repeatable-read transaction so talks and days come from the same moment.
pub async fn load(pool: &PgPool, slug: &ConferenceSlug) -> Result<Option<Programme>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let Some(row) = conferences::find(&mut tx, slug).await? else {
        return Ok(None);
    };
    let days = conferences::days(&mut tx, row.id).await?;
    let talks = talks::load(&mut tx, row.id).await?;
    tx.commit().await?;
    // Building the lookups and the search index takes about a second for 10,000 talks: off the
    // async workers, so a Discord handler waiting on it can still defer before its deadline.
    let programme = tokio::task::spawn_blocking(move || {
        let programme = Programme::new(row.conference, days, talks);
        release_freed_memory();
        programme
    })
    .await
    .map_err(|e| StoreError::Invalid(format!("building the programme failed: {e}")))?;
    Ok(Some(programme))
}

/// Hands a burst's temporaries (the index build's, a large replan's) back to the operating
/// system: glibc keeps freed memory of a burst resident otherwise, and a bot idles most of
/// the time.
pub(crate) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own arenas; it has no
    // preconditions and does not touch live allocations.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A number that changes whenever the conference's programme may have changed (the latest
/// import's id, 0 before the first): a cached snapshot is fresh while this stays the same.
pub async fn version(pool: &PgPool, slug: &ConferenceSlug) -> Result<i64, StoreError> {
    let version: Option<i64> = sqlx::query_scalar(
        "SELECT max(i.id) FROM imports i JOIN conferences c ON c.id = i.conference_id
         WHERE c.slug = $1",
    )
    .bind(slug.as_str())
    .fetch_one(pool)
    .await?;
    Ok(version.unwrap_or(0))
}
