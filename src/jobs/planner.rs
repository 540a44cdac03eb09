//! Keeping the outbox in step with the plan: for a conference, the pure planner
//! (`domain::reminders::plan`) runs on the current programme, subscriptions, lead times and
//! channel plan, and the store makes the outbox match it: new posts added, changed ones
//! re-planned, posts no longer planned (a moved or cancelled talk's, an ended
//! subscription's) retired, and each new import's change notices queued once.
//!
//! Replanning is idempotent, so it runs whenever anything may have changed (a
//! `confbot_plan` notification, a subscription made in this process, the periodic sweep)
//! without bookkeeping of what changed. It is not free for a large plan (100,000
//! subscriptions: seconds of comparing rows in PostgreSQL), so a sweep whose reminder plan
//! is the one this process applied last ([`Planner::sweep`]) leaves the reminder rows alone;
//! every [`FULL_EVERY`] a sweep applies the plan anyway, and any change applies it at once.
//!
//! The planner keeps each conference's programme snapshot until its version changes; it
//! gets them from a [`Snapshots`] registry, which `confbot run` shares with the Discord
//! command cache so that both hold the same snapshot.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{PgConnection, PgPool};

use crate::config::Settings;
use crate::domain::model::ConferenceSlug;
use crate::domain::programme::Programme;
use crate::domain::reminders::{
    change_notices, plan, ChannelPlan, LeadTime, PlannedPost, Subscription,
};
use crate::store::conferences::{self, ConferenceRow};
use crate::store::programme::Snapshots;
use crate::store::{self, outbox, subscriptions, StoreError};

/// What planning needs from the settings.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// A subscriber's lead time until they choose their own.
    pub default_lead: LeadTime,
    /// The channel lead of conferences without a channel plan.
    pub channel_lead: LeadTime,
    /// Configured channel plans (a plan stored by `/channel` wins).
    pub channels: Vec<(ConferenceSlug, ChannelPlan)>,
}

impl PlanSettings {
    pub fn from_settings(settings: &Settings) -> Self {
        let minutes = settings.defaults.lead_time.num_minutes();
        Self {
            // Validated to 0..=120 when the settings were loaded.
            default_lead: LeadTime::from_minutes(minutes)
                .unwrap_or(settings.reminders.channel_lead),
            channel_lead: settings.reminders.channel_lead,
            channels: settings.reminders.channels.clone(),
        }
    }

    fn configured_channels(&self, slug: &ConferenceSlug) -> ChannelPlan {
        self.channels
            .iter()
            .find(|(conference, _)| conference == slug)
            .map(|(_, plan)| plan.clone())
            .unwrap_or_else(|| ChannelPlan {
                by_room: Default::default(),
                default: None,
                lead: self.channel_lead,
                names: Default::default(),
            })
    }
}

/// Everything the pure planner takes for one conference.
pub struct PlanInputs {
    pub programme: Arc<Programme>,
    pub subscriptions: Vec<Subscription>,
    pub leads: HashMap<u64, LeadTime>,
    pub default_lead: LeadTime,
    pub channels: ChannelPlan,
}

impl PlanInputs {
    /// Every reminder these inputs call for.
    pub fn plan(&self) -> Vec<PlannedPost> {
        plan(
            &self.programme,
            &self.subscriptions,
            &self.leads,
            self.default_lead,
            &self.channels,
        )
    }
}

/// What one replan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replanned {
    /// Reminders the plan calls for.
    pub planned: usize,
    /// Outbox rows added (reminders and notices).
    pub added: usize,
    /// Pending rows whose time or text changed, or retired rows brought back.
    pub replanned: usize,
    /// Pending reminders dropped because the plan no longer calls for them.
    pub retired: u64,
    /// Change notices queued from new imports.
    pub notices: usize,
}

impl Replanned {
    /// Whether the outbox may now hold work due earlier than before.
    pub fn touched_outbox(&self) -> bool {
        self.added > 0 || self.replanned > 0
    }

    fn add(&mut self, other: Replanned) {
        self.planned += other.planned;
        self.added += other.added;
        self.replanned += other.replanned;
        self.retired += other.retired;
        self.notices += other.notices;
    }
}

/// Plans for every conference, keeping each programme snapshot until its version changes.
pub struct Planner {
    pool: PgPool,
    settings: PlanSettings,
    /// Conference id -> (programme version, snapshot). Holding the snapshot here is what
    /// keeps it alive in `snapshots`.
    programmes: HashMap<i64, (i64, Arc<Programme>)>,
    snapshots: Arc<Snapshots>,
    /// Conference id -> the reminder plan this process last applied in full.
    applied: HashMap<i64, Applied>,
}

/// A reminder plan applied to the outbox: its digest and when.
#[derive(Debug, Clone, Copy)]
struct Applied {
    digest: u64,
    at: DateTime<Utc>,
}

/// How long a sweep may leave an unchanged reminder plan unapplied. Applying it repairs
/// what no plan change shows: a row whose re-plan was skipped because it was being sent at
/// that moment, or an outbox changed by hand.
pub const FULL_EVERY: TimeDelta = TimeDelta::minutes(10);

/// Why a conference is replanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// Something changed (or may have): apply the whole plan.
    Change,
    /// The periodic sweep: the reminder plan may be skipped when it is unchanged.
    Sweep,
}

/// How often a replan retries when an import lands while it loads the programme.
const ATTEMPTS: usize = 3;

/// A plan at least this large leaves tens of megabytes of freed temporaries (posts, JSON
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
            applied: HashMap::new(),
            snapshots,
        }
    }

    /// Replans every stored conference, applying every plan in full.
    pub async fn replan_all(&mut self, now: DateTime<Utc>) -> Result<Replanned, StoreError> {
        self.replan_every(now, Trigger::Change).await
    }

    /// The periodic sweep: replans every stored conference, but leaves the reminder rows
    /// alone where the reminder plan is the one this process applied last, less than
    /// [`FULL_EVERY`] ago (announcements and change notices are always applied: their
    /// window moves with `now`).
    pub async fn sweep(&mut self, now: DateTime<Utc>) -> Result<Replanned, StoreError> {
        self.replan_every(now, Trigger::Sweep).await
    }

    async fn replan_every(
        &mut self,
        now: DateTime<Utc>,
        trigger: Trigger,
    ) -> Result<Replanned, StoreError> {
        let rows = conferences::all(&mut *self.pool.acquire().await?).await?;
        let mut total = Replanned::default();
        for row in &rows {
            total.add(self.replan_for(row, now, trigger).await?);
        }
        // Conferences deleted meanwhile need no snapshot.
        self.programmes
            .retain(|id, _| rows.iter().any(|row| row.id == *id));
        self.applied
            .retain(|id, _| rows.iter().any(|row| row.id == *id));
        Ok(total)
    }

    /// Replans the conference with this id (a `confbot_plan` notification's payload);
    /// nothing when it does not exist.
    pub async fn replan_id(
        &mut self,
        conference_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Replanned, StoreError> {
        let rows = conferences::all(&mut *self.pool.acquire().await?).await?;
        match rows.iter().find(|row| row.id == conference_id) {
            Some(row) => self.replan(row, now).await,
            None => Ok(Replanned::default()),
        }
    }

    /// Makes the conference's outbox match its plan at `now`, in one transaction under the
    /// conference's lock (so no import changes the programme meanwhile).
    #[tracing::instrument(skip_all, fields(conference = %row.conference.slug), err)]
    pub async fn replan(
        &mut self,
        row: &ConferenceRow,
        now: DateTime<Utc>,
    ) -> Result<Replanned, StoreError> {
        self.replan_for(row, now, Trigger::Change).await
    }

    async fn replan_for(
        &mut self,
        row: &ConferenceRow,
        now: DateTime<Utc>,
        trigger: Trigger,
    ) -> Result<Replanned, StoreError> {
        let unchanged_if = self
            .applied
            .get(&row.id)
            .filter(|applied| trigger == Trigger::Sweep && now - applied.at < FULL_EVERY)
            .map(|applied| applied.digest);
        for _ in 0..ATTEMPTS {
            let (version, programme) = self.programme(row).await?;
            let mut tx = self.pool.begin().await?;
            match conferences::lock_and_version(&mut tx, row.id).await? {
                None => return Ok(Replanned::default()),
                Some(locked) if locked != version => {
                    // An import landed after the snapshot was loaded: load it again.
                    tx.rollback().await?;
                    self.programmes.remove(&row.id);
                    continue;
                }
                Some(_) => {}
            }
            let inputs = self.inputs_in(&mut tx, row, programme).await?;
            let (done, digest) = apply_plan(&mut tx, row.id, &inputs, now, unchanged_if).await?;
            drop(inputs);
            if done.planned >= LARGE_PLAN {
                // The plan's keys went out in one bind message (retiring needs them all at
                // once): give the pooled connection's grown buffers back.
                sqlx::Connection::shrink_buffers(&mut *tx);
            }
            tx.commit().await?;
            if unchanged_if != Some(digest) {
                self.applied.insert(row.id, Applied { digest, at: now });
            }
            if done.planned >= LARGE_PLAN {
                store::programme::release_freed_memory();
            }
            if done.retired > 0 || done.touched_outbox() {
                tracing::info!(
                    planned = done.planned,
                    added = done.added,
                    replanned = done.replanned,
                    retired = done.retired,
                    notices = done.notices,
                    "outbox updated"
                );
            }
            return Ok(done);
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
        let channels = match subscriptions::channel_plan(&mut *conn, row.id).await? {
            Some(stored) => stored,
            None => self.settings.configured_channels(&row.conference.slug),
        };
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

/// The digest of a reminder plan: equal plans, equal digests (the plan's order is fixed).
fn digest(planned: &[PlannedPost]) -> u64 {
    let mut hasher = DefaultHasher::new();
    planned.hash(&mut hasher);
    hasher.finish()
}

/// The store side of a replan: reminders enqueued, stale ones retired, new imports' change
/// notices queued and marked planned, all in the caller's transaction. The reminder rows
/// are left alone when the plan's digest is `unchanged_if`. Returns what was done and the
/// reminder plan's digest.
async fn apply_plan(
    conn: &mut PgConnection,
    conference_id: i64,
    inputs: &PlanInputs,
    now: DateTime<Utc>,
    unchanged_if: Option<u64>,
) -> Result<(Replanned, u64), StoreError> {
    let planned = inputs.plan();
    let digest = digest(&planned);
    let mut done = Replanned {
        planned: planned.len(),
        ..Replanned::default()
    };
    if unchanged_if != Some(digest) {
        let keys: Vec<_> = planned.iter().map(|post| post.key).collect();
        let enqueued = outbox::enqueue(&mut *conn, conference_id, &planned, now).await?;
        done.added = enqueued.added;
        done.replanned = enqueued.replanned;
        done.retired =
            outbox::retire_unplanned_reminders(&mut *conn, conference_id, &keys, now).await?;
    }
    // Announcements: every occurrence from an hour back to two days ahead; the sweep keeps
    // the window moving.
    let announcements = store::announcements::scheduled(&mut *conn, conference_id).await?;
    let posts: Vec<PlannedPost> = announcements.iter().flat_map(|a| a.posts(now)).collect();
    let keys: Vec<_> = posts.iter().map(|post| post.key).collect();
    let queued = outbox::enqueue(&mut *conn, conference_id, &posts, now).await?;
    done.added += queued.added;
    done.replanned += queued.replanned;
    done.retired +=
        outbox::retire_unplanned_announcements(&mut *conn, conference_id, &keys, now).await?;

    let imports = store::imports::unplanned_notices(&mut *conn, conference_id).await?;
    if !imports.is_empty() {
        let notices: Vec<PlannedPost> = imports
            .iter()
            .flat_map(|(_, diff)| {
                change_notices(diff, &inputs.programme, &inputs.subscriptions, now)
            })
            .collect();
        let queued = outbox::enqueue(&mut *conn, conference_id, &notices, now).await?;
        let ids: Vec<i64> = imports.iter().map(|(id, _)| *id).collect();
        store::imports::mark_notices_planned(&mut *conn, &ids, now).await?;
        done.notices = queued.added;
        done.added += queued.added;
        done.replanned += queued.replanned;
    }
    Ok((done, digest))
}
