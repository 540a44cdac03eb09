//! Keeping the outbox in step with the plan. The pure planner (`domain::reminders`) plans a
//! conference, or part of it, from the programme, subscriptions, lead times and channel
//! plan; the store makes the outbox match: new posts added, changed ones re-planned, posts
//! no longer planned (a moved or cancelled talk's, an ended subscription's) retired, and
//! each new import's change notices queued once.
//!
//! Each change costs what it touches ([`scoped`]):
//! - a subscription or lead change replans its user's DMs: in the command's own
//!   transaction ([`UserPlanning`], [`user`]), else on the change's `<conference>:user:<user>`
//!   notification ([`Planner::replan_users`]);
//! - an import replans the talks its diff names, with its change notices, under the
//!   conference's lock ([`Planner::replan_id`]);
//! - the channel plan or a server's default lead replans everything
//!   ([`Planner::replan_full_id`]).
//!
//! The whole plan is reconciled at start, after a lost notification listener, and every
//! [`FULL_EVERY`] by the minute sweep: the channel posts, then the subscribers a page at a
//! time, each page in its own short transaction, so the plan is never held in memory whole
//! and commands wait for one page at most. That reconciliation repairs what no change
//! shows (a row whose re-plan was skipped because it was being sent at that moment, an
//! outbox changed by hand); the full plan of `domain::reminders::plan` stays the reference
//! the tests hold every partial plan to.
//!
//! The planner keeps each conference's programme snapshot until its version changes; it
//! gets them from a [`Snapshots`] registry, which `confbot run` shares with the Discord
//! command cache so that both hold the same snapshot.

mod changes;
mod inputs;
mod scoped;
mod user;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::domain::programme::Programme;
use crate::store::conferences::{self, ConferenceRow};
use crate::store::programme::Snapshots;
use crate::store::{self, outbox, subscriptions, StoreError};

pub use inputs::{PlanInputs, PlanSettings, Replanned};
pub use user::{UserChange, UserPlanned, UserPlanning};

/// Plans for every conference, keeping each programme snapshot until its version changes.
pub struct Planner {
    pool: PgPool,
    settings: PlanSettings,
    /// Conference id -> (programme version, snapshot). Holding the snapshot here is what
    /// keeps it alive in `snapshots`.
    programmes: HashMap<i64, (i64, Arc<Programme>)>,
    snapshots: Arc<Snapshots>,
    /// Conference id -> when this process last reconciled its whole plan.
    reconciled: HashMap<i64, DateTime<Utc>>,
    users_per_page: usize,
}

/// How often the sweep reconciles a conference's whole plan with the outbox.
pub const FULL_EVERY: TimeDelta = TimeDelta::minutes(10);

/// Subscribers planned per transaction of a full reconciliation (about 20,000 posts at 20
/// subscriptions each): what bounds its memory, and how long a command may wait for it.
const USERS_PER_PAGE: usize = 1_000;

/// How often a replan retries when an import lands while it loads the programme.
const ATTEMPTS: usize = 3;

/// A transaction adding at least this many outbox rows refreshes the outbox's statistics
/// (`outbox::analyze`) once it has committed.
const ANALYZE_AFTER: usize = 1_000;

/// A replan of at least this many posts leaves megabytes of freed temporaries (posts, JSON
/// bodies, bind buffers) that glibc would keep resident: they are handed back after it.
const LARGE_PLAN: usize = 10_000;

impl Planner {
    /// A planner with a registry of its own.
    pub fn new(pool: PgPool, settings: PlanSettings) -> Self {
        Self::sharing(pool, settings, Arc::default())
    }

    /// A planner getting its snapshots from `snapshots`, shared with other holders.
    pub fn sharing(pool: PgPool, settings: PlanSettings, snapshots: Arc<Snapshots>) -> Self {
        Self {
            pool,
            settings,
            programmes: HashMap::new(),
            reconciled: HashMap::new(),
            snapshots,
            users_per_page: USERS_PER_PAGE,
        }
    }

    /// Plans `users_per_page` users per transaction (at least one) where it pages.
    pub fn paging(mut self, users_per_page: usize) -> Self {
        self.users_per_page = users_per_page.max(1);
        self
    }

    /// Reconciles every stored conference's whole plan.
    pub async fn replan_all(&mut self, now: DateTime<Utc>) -> Result<Replanned, StoreError> {
        self.replan_every(now, true).await
    }

    /// The periodic sweep: every conference's new imports, notices and announcement
    /// occurrences (their window moves with `now`), and the whole plan where this process
    /// last reconciled it [`FULL_EVERY`] ago or more.
    pub async fn sweep(&mut self, now: DateTime<Utc>) -> Result<Replanned, StoreError> {
        self.replan_every(now, false).await
    }

    async fn replan_every(
        &mut self,
        now: DateTime<Utc>,
        full: bool,
    ) -> Result<Replanned, StoreError> {
        let rows = conferences::all(&mut *self.pool.acquire().await?).await?;
        let mut total = Replanned::default();
        for row in &rows {
            let reconciled_recently = self
                .reconciled
                .get(&row.id)
                .is_some_and(|at| now - *at < FULL_EVERY);
            total.add(if full || !reconciled_recently {
                self.reconcile(row, now).await?
            } else {
                self.changes(row, now).await?
            });
        }
        // Conferences deleted meanwhile need no snapshot.
        self.programmes
            .retain(|id, _| rows.iter().any(|row| row.id == *id));
        self.reconciled
            .retain(|id, _| rows.iter().any(|row| row.id == *id));
        Ok(total)
    }

    /// After a notification naming the conference with this id (an import, an announcement
    /// change): the talks new imports changed, their change notices, the announcements.
    /// Nothing when the conference does not exist.
    pub async fn replan_id(
        &mut self,
        conference_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Replanned, StoreError> {
        match self.row(conference_id).await? {
            Some(row) => self.changes(&row, now).await,
            None => Ok(Replanned::default()),
        }
    }

    /// Reconciles the whole plan of the conference with this id (its channel plan or
    /// default lead changed); nothing when it does not exist.
    pub async fn replan_full_id(
        &mut self,
        conference_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Replanned, StoreError> {
        match self.row(conference_id).await? {
            Some(row) => self.reconcile(&row, now).await,
            None => Ok(Replanned::default()),
        }
    }

    /// Replans these users' DMs in the conference with this id (their subscriptions or lead
    /// times changed where nothing planned them).
    pub async fn replan_users(
        &mut self,
        conference_id: i64,
        users: &[u64],
        now: DateTime<Utc>,
    ) -> Result<Replanned, StoreError> {
        let Some(row) = self.row(conference_id).await? else {
            return Ok(Replanned::default());
        };
        let mut total = Replanned::default();
        for page in users.chunks(self.users_per_page) {
            let Some((mut tx, programme)) = self.begin_locked(&row).await? else {
                break;
            };
            let lead = scoped::default_lead(&mut tx, row.id, self.settings.default_lead).await?;
            let done = scoped::apply_users(&mut tx, row.id, &programme, page, lead, now).await?;
            tx.commit().await?;
            self.analyze_if_filled(done.added).await;
            total.add(done);
        }
        log_done(&row, &total);
        Ok(total)
    }

    /// Reconciles the conference's whole plan with the outbox at `now`.
    #[tracing::instrument(skip_all, fields(conference = %row.conference.slug), err)]
    pub async fn replan(
        &mut self,
        row: &ConferenceRow,
        now: DateTime<Utc>,
    ) -> Result<Replanned, StoreError> {
        self.reconcile(row, now).await
    }

    /// Keeps the outbox's statistics current after `added` rows came in.
    async fn analyze_if_filled(&self, added: usize) {
        if added >= ANALYZE_AFTER {
            outbox::analyze(&self.pool).await;
        }
    }

    async fn row(&self, conference_id: i64) -> Result<Option<ConferenceRow>, StoreError> {
        let rows = conferences::all(&mut *self.pool.acquire().await?).await?;
        Ok(rows.into_iter().find(|row| row.id == conference_id))
    }

    /// The whole plan: new imports and notices, the channel posts and the DMs of users who
    /// have no subscription left, then the subscribers a page per transaction.
    async fn reconcile(
        &mut self,
        row: &ConferenceRow,
        now: DateTime<Utc>,
    ) -> Result<Replanned, StoreError> {
        let Some((mut tx, programme)) = self.begin_locked(row).await? else {
            return Ok(Replanned::default());
        };
        let mut total =
            changes::apply_changes(&self.settings, &mut tx, row, &programme, now).await?;
        let channels = changes::channels(&self.settings, &mut tx, row).await?;
        total.add(scoped::apply_channels(&mut tx, row.id, &programme, &channels, now).await?);
        tx.commit().await?;
        self.analyze_if_filled(total.added).await;
        drop(programme);
        let mut after = None;
        loop {
            let Some((mut tx, programme)) = self.begin_locked(row).await? else {
                break;
            };
            let users =
                subscriptions::subscribers_page(&mut *tx, row.id, after, self.users_per_page)
                    .await?;
            let Some(last) = users.last().copied() else {
                break;
            };
            let lead = scoped::default_lead(&mut tx, row.id, self.settings.default_lead).await?;
            let page = scoped::apply_users(&mut tx, row.id, &programme, &users, lead, now).await?;
            // A page's posts and keys went out in bind messages of megabytes: give the
            // pooled connection's grown buffers back, or each connection of the pool keeps
            // one.
            sqlx::Connection::shrink_buffers(&mut *tx);
            tx.commit().await?;
            self.analyze_if_filled(page.added).await;
            total.add(page);
            after = Some(last);
        }
        self.reconciled.insert(row.id, now);
        if total.planned >= LARGE_PLAN {
            store::programme::release_freed_memory();
        }
        log_done(row, &total);
        Ok(total)
    }

    /// New imports' talks and notices, and the announcements, in one transaction.
    async fn changes(
        &mut self,
        row: &ConferenceRow,
        now: DateTime<Utc>,
    ) -> Result<Replanned, StoreError> {
        let Some((mut tx, programme)) = self.begin_locked(row).await? else {
            return Ok(Replanned::default());
        };
        let done = changes::apply_changes(&self.settings, &mut tx, row, &programme, now).await?;
        tx.commit().await?;
        self.analyze_if_filled(done.added).await;
        log_done(row, &done);
        Ok(done)
    }

    /// A transaction holding the conference's lock, and the programme snapshot of the
    /// version it locked; `None` when the conference is gone.
    async fn begin_locked(
        &mut self,
        row: &ConferenceRow,
    ) -> Result<Option<(Transaction<'static, Postgres>, Arc<Programme>)>, StoreError> {
        for _ in 0..ATTEMPTS {
            let (version, programme) = self.programme(row).await?;
            let mut tx = self.pool.begin().await?;
            match scoped::lock_conference(&mut tx, row.id).await? {
                None => return Ok(None),
                Some(locked) if locked != version => {
                    // An import landed after the snapshot was loaded: load it again.
                    tx.rollback().await?;
                    self.programmes.remove(&row.id);
                }
                Some(_) => return Ok(Some((tx, programme))),
            }
        }
        Err(StoreError::Invalid(format!(
            "the programme of {} kept changing while it was planned; the next sweep retries",
            row.conference.slug
        )))
    }

    /// The plan inputs of a conference as they are now (for `confbot simulate`).
    pub async fn inputs(&mut self, row: &ConferenceRow) -> Result<PlanInputs, StoreError> {
        let (_, programme) = self.programme(row).await?;
        let mut conn = self.pool.acquire().await?;
        self.inputs_in(&mut conn, row, programme).await
    }

    async fn inputs_in(
        &self,
        conn: &mut PgConnection,
        row: &ConferenceRow,
        programme: Arc<Programme>,
    ) -> Result<PlanInputs, StoreError> {
        let subscriptions = subscriptions::of_conference(&mut *conn, row.id).await?;
        let leads = subscriptions::leads(&mut *conn, row.id).await?;
        let channels = changes::channels(&self.settings, &mut *conn, row).await?;
        Ok(PlanInputs {
            programme,
            subscriptions,
            leads,
            // A server's `/setup lead` wins over the configured default.
            default_lead: store::guilds::default_lead(&mut *conn, row.id)
                .await?
                .unwrap_or(self.settings.default_lead),
            channels,
        })
    }

    /// The conference's snapshot and its version, loaded again only when it changed.
    async fn programme(
        &mut self,
        row: &ConferenceRow,
    ) -> Result<(i64, Arc<Programme>), StoreError> {
        let slug = &row.conference.slug;
        let version = store::programme::version(&self.pool, slug).await?;
        if let Some((cached, programme)) = self.programmes.get(&row.id) {
            if *cached == version {
                return Ok((version, Arc::clone(programme)));
            }
        }
        let snapshot = self
            .snapshots
            .get_or_load(&self.pool, slug, row.id, version)
            .await?
            .filter(|snapshot| snapshot.conference_id == row.id)
            .ok_or_else(|| StoreError::Invalid(format!("conference {slug} disappeared")))?;
        // The version the snapshot was read at (newer than `version` when an import landed
        // meanwhile): the one `replan` checks under the conference's lock.
        let (version, programme) = (snapshot.version, snapshot.programme);
        self.programmes
            .insert(row.id, (version, Arc::clone(&programme)));
        Ok((version, programme))
    }
}

fn log_done(row: &ConferenceRow, done: &Replanned) {
    if done.retired > 0 || done.touched_outbox() {
        tracing::info!(
            conference = %row.conference.slug,
            planned = done.planned,
            added = done.added,
            replanned = done.replanned,
            retired = done.retired,
            notices = done.notices,
            updates = done.updates,
            "outbox updated"
        );
    }
}
