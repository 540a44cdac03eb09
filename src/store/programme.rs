//! Loading a conference's whole programme as one snapshot for the attendee commands and
//! the reminder planner, and [`Snapshots`], which lets both share one snapshot per
//! programme version.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use sqlx::{PgConnection, PgPool};

use crate::domain::model::ConferenceSlug;
use crate::domain::programme::Programme;
use crate::store::{conferences, talks, StoreError};

/// The conference's programme, or `None` when no such conference exists. Read in one
/// repeatable-read transaction so talks and days come from the same moment.
pub async fn load(pool: &PgPool, slug: &ConferenceSlug) -> Result<Option<Programme>, StoreError> {
    Ok(load_versioned(pool, slug)
        .await?
        .map(|(_, _, programme)| programme))
}

/// [`load`], with the conference's id and the programme's [`version`] read in the same
/// transaction as the talks: exactly the version of the returned programme.
async fn load_versioned(
    pool: &PgPool,
    slug: &ConferenceSlug,
) -> Result<Option<(i64, i64, Programme)>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let Some(row) = conferences::find(&mut tx, slug).await? else {
        return Ok(None);
    };
    let conference_id = row.id;
    let version = latest_import(&mut tx, conference_id).await?;
    let days = conferences::days(&mut tx, conference_id).await?;
    let talks = talks::load(&mut tx, conference_id).await?;
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
    Ok(Some((conference_id, version, programme)))
}

/// The conference's [`version`] by id, in the caller's transaction.
async fn latest_import(conn: &mut PgConnection, conference_id: i64) -> Result<i64, StoreError> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT max(id) FROM imports WHERE conference_id = $1")
            .bind(conference_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(version.unwrap_or(0))
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

/// The conference's id and [`version`], or `None` when no such conference exists: what a
/// cache needs to ask [`Snapshots`] for the current snapshot.
pub async fn current(
    pool: &PgPool,
    slug: &ConferenceSlug,
) -> Result<Option<(i64, i64)>, StoreError> {
    let row: Option<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT c.id, (SELECT max(i.id) FROM imports i WHERE i.conference_id = c.id)
         FROM conferences c WHERE c.slug = $1",
    )
    .bind(slug.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, version)| (id, version.unwrap_or(0))))
}

/// One programme snapshot and exactly the version it was read at.
#[derive(Clone)]
pub struct Snapshot {
    pub conference_id: i64,
    pub version: i64,
    pub programme: Arc<Programme>,
}

/// The process's live programme snapshots, so that the planner and the command cache hold
/// one copy per (conference, version) instead of one each (about 17 MB for 10,000 talks).
///
/// Only weak references are kept: a snapshot lives while some cache holds it, and each
/// cache decides on its own when to let go. Two concurrent loads of one version may both
/// read the database; the first one recorded is the one everybody gets.
#[derive(Default)]
pub struct Snapshots {
    live: Mutex<HashMap<(i64, i64), Weak<Programme>>>,
}

impl Snapshots {
    /// The snapshot of the conference's programme at `version` if one is alive; otherwise
    /// the programme as stored now, recorded under the version it was actually read at
    /// (newer than `version` when an import landed meanwhile: callers use
    /// [`Snapshot::version`], never their own). `None` when the conference does not exist.
    pub async fn get_or_load(
        &self,
        pool: &PgPool,
        slug: &ConferenceSlug,
        conference_id: i64,
        version: i64,
    ) -> Result<Option<Snapshot>, StoreError> {
        if let Some(programme) = self.live(conference_id, version) {
            return Ok(Some(Snapshot {
                conference_id,
                version,
                programme,
            }));
        }
        let Some((conference_id, version, programme)) = load_versioned(pool, slug).await? else {
            return Ok(None);
        };
        let loaded = Arc::new(programme);
        let programme = self.record(conference_id, version, loaded);
        Ok(Some(Snapshot {
            conference_id,
            version,
            programme,
        }))
    }

    /// The live snapshot of exactly this version, if any.
    fn live(&self, conference_id: i64, version: i64) -> Option<Arc<Programme>> {
        self.lock()
            .get(&(conference_id, version))
            .and_then(Weak::upgrade)
    }

    /// Records a loaded snapshot, unless another load of the same version got there first:
    /// then that one is returned and this one dropped (outside the lock).
    fn record(&self, conference_id: i64, version: i64, loaded: Arc<Programme>) -> Arc<Programme> {
        let mut live = self.lock();
        if let Some(earlier) = live.get(&(conference_id, version)).and_then(Weak::upgrade) {
            drop(live);
            return earlier;
        }
        live.retain(|_, snapshot| snapshot.strong_count() > 0);
        live.insert((conference_id, version), Arc::downgrade(&loaded));
        loaded
    }

    /// How many snapshots are alive (for tests and diagnostics).
    pub fn alive(&self) -> usize {
        self.lock()
            .values()
            .filter(|snapshot| snapshot.strong_count() > 0)
            .count()
    }

    /// The map is only ever left whole (single inserts and retains), so a poisoned lock is
    /// used as is.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, i64), Weak<Programme>>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
