//! Programme snapshots per conference, shared by all interactions.
//!
//! Commands answer from an in-memory [`Programme`] so that most interactions never touch the
//! database. A snapshot is trusted for [`ProgrammeCache::check_every`]; after that the next
//! interaction asks the store for the conference's version (one tiny query) and reloads the
//! snapshot only when an import changed it. Snapshots come from a
//! [`Snapshots`](store::programme::Snapshots) registry: `confbot run` shares it with the
//! reminder planner, so a version both hold is in memory once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::domain::model::ConferenceSlug;
use crate::domain::programme::Programme;
use crate::store::programme::Snapshots;
use crate::store::{self, StoreError};

/// Why no snapshot could be had.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// No conference with this slug is stored (nothing imported yet).
    #[error("conference {0} has no imported schedule")]
    NotImported(ConferenceSlug),
    /// The database failed and there is no earlier snapshot to fall back on.
    #[error("loading the programme failed")]
    Store(#[from] StoreError),
}

/// Snapshots by conference.
pub struct ProgrammeCache {
    pool: PgPool,
    check_every: Duration,
    slots: Mutex<HashMap<ConferenceSlug, Arc<Slot>>>,
    snapshots: Arc<Snapshots>,
}

/// One conference's snapshot and the lock that lets one task at a time refresh it.
#[derive(Default)]
struct Slot {
    current: RwLock<Option<Snapshot>>,
    /// Held while checking/reloading, so a burst of interactions after an import causes one
    /// reload, not one per interaction. A tokio mutex: it is held across awaits.
    refresh: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Snapshot {
    programme: Arc<Programme>,
    conference_id: i64,
    version: i64,
    checked_at: Instant,
}

impl ProgrammeCache {
    /// A cache reading from `pool`, checking a snapshot's version at most once per
    /// `check_every`, getting its snapshots from `snapshots`.
    pub fn new(pool: PgPool, check_every: Duration, snapshots: Arc<Snapshots>) -> Self {
        Self {
            pool,
            check_every,
            slots: Mutex::new(HashMap::new()),
            snapshots,
        }
    }

    /// The conference's current programme. When the database fails but an older snapshot
    /// exists, that one is returned (a slightly stale answer beats none) and the failure is
    /// logged.
    pub async fn get(&self, slug: &ConferenceSlug) -> Result<Arc<Programme>, CacheError> {
        let slot = self.slot(slug);
        if let Some(programme) = self.fresh(&slot) {
            return Ok(programme);
        }
        let _refreshing = slot.refresh.lock().await;
        // Another task may have refreshed while this one waited for the lock.
        if let Some(programme) = self.fresh(&slot) {
            return Ok(programme);
        }
        let previous = read(&slot.current);
        match self.refresh(slug, previous.as_ref()).await {
            Ok(snapshot) => {
                let programme = Arc::clone(&snapshot.programme);
                *slot.current.write().unwrap_or_else(PoisonError::into_inner) = Some(snapshot);
                Ok(programme)
            }
            Err(CacheError::Store(error)) => match previous {
                Some(snapshot) => {
                    let error = anyhow::Error::from(error);
                    tracing::warn!(conference = %slug, "serving the previous programme snapshot: {error:#}");
                    Ok(snapshot.programme)
                }
                None => Err(CacheError::Store(error)),
            },
            Err(error) => Err(error),
        }
    }

    /// Checks the version and reloads when it changed (or when there is no snapshot yet).
    async fn refresh(
        &self,
        slug: &ConferenceSlug,
        previous: Option<&Snapshot>,
    ) -> Result<Snapshot, CacheError> {
        let (conference_id, version) = store::programme::current(&self.pool, slug)
            .await?
            .ok_or_else(|| CacheError::NotImported(slug.clone()))?;
        if let Some(previous) = previous.filter(|snapshot| snapshot.version == version) {
            return Ok(Snapshot {
                checked_at: Instant::now(),
                ..previous.clone()
            });
        }
        // The registry's snapshot carries the version it was read at (newer than `version`
        // when an import landed meanwhile; the next check then finds nothing changed).
        let loaded = self
            .snapshots
            .get_or_load(&self.pool, slug, conference_id, version)
            .await?
            .ok_or_else(|| CacheError::NotImported(slug.clone()))?;
        tracing::info!(
            conference = %slug,
            version = loaded.version,
            talks = loaded.programme.talks.len(),
            "programme loaded"
        );
        Ok(Snapshot {
            programme: loaded.programme,
            conference_id: loaded.conference_id,
            version: loaded.version,
            checked_at: Instant::now(),
        })
    }

    /// The store id of the conference whose snapshot is held for `slug`, if one is.
    pub fn conference_id(&self, slug: &ConferenceSlug) -> Option<i64> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(slug)
            .map(Arc::clone)?;
        read(&slot.current).map(|snapshot| snapshot.conference_id)
    }

    fn slot(&self, slug: &ConferenceSlug) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(slug.clone()).or_default())
    }

    fn fresh(&self, slot: &Slot) -> Option<Arc<Programme>> {
        read(&slot.current)
            .filter(|snapshot| snapshot.checked_at.elapsed() < self.check_every)
            .map(|snapshot| snapshot.programme)
    }
}

/// A copy of the current snapshot (cheap: the programme is behind an `Arc`). The lock is
/// only held for the copy, never across an await. A poisoned lock still holds a whole
/// snapshot (it is replaced in one assignment), so it is used as is.
fn read(current: &RwLock<Option<Snapshot>>) -> Option<Snapshot> {
    current
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}
