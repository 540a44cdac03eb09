//! A command's own change, planned in its own transaction: one user's subscriptions or lead
//! time change, and that user's DMs (their talks, not the conference) are made true in the
//! outbox before the change commits ([`UserPlanning::begin`], [`UserChange::plan`]).
//!
//! Round trips are what a command costs most: in a subscription storm hundreds of them a
//! second share the cores with the database. A subscription takes nine statements: the
//! begin (with the planned-user marker), the conference's lock, the change, one for the
//! version, the user's lock and the wake-up, then the lead times, the subscriptions, the
//! pending DMs, the write and the commit (BENCHMARKS.md, "Subscription storm").
//!
//! Locking, so that two changes never plan from each other's half-committed state:
//! - before the change, the conference's row is locked `FOR SHARE`: commands of different
//!   users run side by side, while an import (whose upsert of the row locks it) or a
//!   planner pass (`FOR UPDATE`) and commands wait for each other;
//! - the user is locked after the change and before their subscriptions are read:
//!   whichever of two changes of one user plans last sees the other committed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::domain::model::ConferenceSlug;
use crate::domain::reminders::{plan_dms, LeadTime, Subscription};
use crate::store::outbox::{self, ReminderScope};
use crate::store::programme::Snapshots;
use crate::store::{self, subscriptions, StoreError};

use super::{scoped, Replanned, ANALYZE_AFTER};

/// What a command's change needs to plan its user: where the programme snapshots are, and
/// the configured default lead time. Clones share the count of outbox rows added since the
/// last refresh of the outbox's statistics.
#[derive(Clone)]
pub struct UserPlanning {
    pool: PgPool,
    snapshots: Arc<Snapshots>,
    default_lead: LeadTime,
    /// Outbox rows this process's commands added since it last analysed the outbox.
    added: Arc<AtomicUsize>,
}

/// A change of one user in one conference, in its transaction: make the change through
/// [`Self::conn`], then [`Self::plan`] it and [`Self::commit`]. Dropped uncommitted, it
/// rolls back.
pub struct UserChange<'p> {
    planning: &'p UserPlanning,
    tx: Transaction<'static, Postgres>,
    conference_id: i64,
    slug: ConferenceSlug,
    user: u64,
}

impl UserPlanning {
    pub fn new(pool: PgPool, snapshots: Arc<Snapshots>, default_lead: LeadTime) -> Self {
        Self {
            pool,
            snapshots,
            default_lead,
            added: Arc::default(),
        }
    }

    /// Begins a change of `user`'s subscriptions or lead time in the conference
    /// `conference_id` (whose slug is `slug`):
    /// - with the `BEGIN`, in one round trip: the planned-user marker (the change's rows
    ///   notify no planner, since the change is planned here; see the migration
    ///   `20261204000017_incremental_plans.sql`) and generic query plans (the statements
    ///   look up one user's rows by key, where a plan made for the values is no better, and
    ///   planning each statement anew cost more than running it: 0.25 ms to plan against
    ///   0.06-0.08 ms to run, in a subscription storm);
    /// - then the conference's row locked `FOR SHARE`, waiting for an import or a planner
    ///   pass holding it. A statement of its own, in the transaction: a failure or a
    ///   cancellation while it waits rolls the transaction back, where one inside the
    ///   `BEGIN` would leave the pooled connection in it. (`SKIP LOCKED`, once tried here,
    ///   skipped the row now and then in the tests under load although nothing else in
    ///   their database was seen holding it; not understood, so commands wait instead.)
    pub async fn begin(
        &self,
        conference_id: i64,
        slug: &ConferenceSlug,
        user: u64,
    ) -> Result<UserChange<'_>, StoreError> {
        // Only integers go into this text: a `BEGIN` statement takes no parameters.
        let marker = format!("{conference_id}:{}", store::id_to_db(user));
        let mut tx = self
            .pool
            .begin_with(format!(
                "BEGIN;
                 SELECT set_config('confbot.planned_user', '{marker}', true),
                        set_config('plan_cache_mode', 'force_generic_plan', true)"
            ))
            .await?;
        sqlx::query("SELECT 1 FROM conferences WHERE id = $1 FOR SHARE")
            .bind(conference_id)
            .execute(&mut *tx)
            .await?;
        Ok(UserChange {
            planning: self,
            tx,
            conference_id,
            slug: slug.clone(),
            user,
        })
    }

    /// After a change committed: once commands added [`ANALYZE_AFTER`] outbox rows,
    /// refreshes the outbox's statistics in the background (the returned task) as the
    /// planner does after its own passes. Commands add a handful of rows each, and on a
    /// server without autovacuum the statistics would otherwise keep describing the empty
    /// table: PostgreSQL then looks up one user's pending DMs by scanning all of them (6 ms
    /// per subscription at 10,000 rows, measured in the subscription storm).
    fn committed(&self) -> Option<tokio::task::JoinHandle<()>> {
        // Whoever takes the count back to zero analyses; the others go on.
        self.added
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |added| {
                (added >= ANALYZE_AFTER).then_some(0)
            })
            .ok()?;
        let pool = self.pool.clone();
        Some(tokio::spawn(async move { outbox::analyze(&pool).await }))
    }
}

impl UserChange<'_> {
    /// The transaction, for the change itself.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// After the change: plans the user's DMs. When the snapshot registry cannot give the
    /// stored programme version, it plans nothing and notifies the planners instead, which
    /// replan the user once the transaction commits.
    pub async fn plan(&mut self, now: DateTime<Utc>) -> Result<Option<UserPlanned>, StoreError> {
        let planning = self.planning;
        let (conference, user, slug) = (self.conference_id, self.user, &self.slug);
        let conn: &mut PgConnection = &mut self.tx;
        // A statement of its own after the conference lock (see
        // `conferences::lock_and_version`); the user's lock; and the wake-up of every
        // process's delivery loop, which PostgreSQL sends only once this commits (it may
        // have been asleep past what the plan queues; sent whether or not the plan queues
        // anything, since knowing would take a round trip more).
        let version: i64 = sqlx::query_scalar(
            "SELECT (SELECT coalesce(max(id), 0) FROM imports WHERE conference_id = $1),
                    pg_advisory_xact_lock(hashtextextended($2, 0)),
                    pg_notify($3, $4)",
        )
        .bind(conference)
        .bind(format!("confbot-plan:{conference}:{user}"))
        .bind(crate::jobs::PLAN_CHANNEL)
        .bind(format!("{conference}:queued"))
        .fetch_one(&mut *conn)
        .await?;
        let snapshot = planning
            .snapshots
            .get_or_load(&planning.pool, slug, conference, version)
            .await?;
        let Some(snapshot) = snapshot.filter(|s| s.version == version) else {
            let later = format!("{conference}:user:{}", store::id_to_db(user));
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::jobs::PLAN_CHANNEL)
                .bind(later)
                .execute(conn)
                .await?;
            return Ok(None);
        };
        // Each read its own statement after the user's lock, so it sees the user's other
        // changes committed.
        let (own, set) = subscriptions::lead_and_default(&mut *conn, conference, user).await?;
        let default = set.unwrap_or(planning.default_lead);
        let subscriptions = subscriptions::of_users(&mut *conn, conference, &[user]).await?;
        let leads: HashMap<u64, LeadTime> = own.map(|lead| (user, lead)).into_iter().collect();
        let planned = plan_dms(&snapshot.programme, &subscriptions, &leads, default);
        let pending = outbox::pending_dm_reminders(&mut *conn, conference, &[user]).await?;
        let scope = ReminderScope::Users(&[user]);
        let done = scoped::apply_delta(conn, conference, &planned, &pending, scope, now).await?;
        planning.added.fetch_add(done.added, Ordering::AcqRel);
        Ok(Some(UserPlanned {
            replanned: done,
            lead: own.unwrap_or(default),
            own_lead: own.is_some(),
            subscriptions,
        }))
    }

    /// Commits the change. Returns the refresh of the outbox's statistics it started, if
    /// the rows commands added called for one (see [`UserPlanning`]); nobody needs to wait
    /// for it but a test.
    pub async fn commit(self) -> Result<Option<tokio::task::JoinHandle<()>>, StoreError> {
        self.tx.commit().await?;
        Ok(self.planning.committed())
    }
}

/// What [`UserChange::plan`] planned, and the user's inputs as it read them in the change's
/// transaction: the command's answer needs them and need not read them again.
#[derive(Debug)]
pub struct UserPlanned {
    pub replanned: Replanned,
    /// The user's subscriptions in this conference.
    pub subscriptions: Vec<Subscription>,
    /// Their lead time: their own, else the server's or the configured default.
    pub lead: LeadTime,
    pub own_lead: bool,
}
