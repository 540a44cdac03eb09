//! Applying part of the plan: one scope of a conference's reminders (some users' DMs, some
//! talks, the channel posts) planned from the inputs of that scope alone and made true in
//! the outbox, in the caller's transaction. What the scope no longer calls for is retired
//! within the scope only, so a part never disturbs the rest of the plan.
//!
//! Locking, so that two changes never plan from each other's half-committed state:
//! - the conference's row is locked `FOR UPDATE` by imports and by every planner pass that
//!   plans more than one user ([`lock_conference`]);
//! - a command that plans its own user in its transaction ([`UserPlanning`]) locks it
//!   `FOR SHARE` (so commands of different users run side by side) and then the user ([`lock_user`]), after its own change and before reading the user's
//!   subscriptions: whichever of two changes of one user plans last sees the other
//!   committed.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::domain::model::TalkId;
use crate::domain::programme::Programme;
use crate::domain::reminders::{
    plan_channels, plan_delta, plan_dms, plan_talks, ChannelPlan, LeadTime, PlannedPost,
    Subscription,
};
use crate::store::conferences::ConferenceRow;
use crate::store::outbox::{self, ReminderScope};
use crate::store::programme::Snapshots;
use crate::store::{self, subscriptions, StoreError};

use super::{Replanned, ANALYZE_AFTER};

/// The conference's current programme version, its row locked `FOR UPDATE` until the
/// transaction ends; `None` when it does not exist.
pub(super) async fn lock_conference(
    conn: &mut PgConnection,
    conference_id: i64,
) -> Result<Option<i64>, StoreError> {
    store::conferences::lock_and_version(conn, conference_id).await
}

/// Serialises the planning of one user of one conference until the transaction ends.
async fn lock_user(
    conn: &mut PgConnection,
    conference_id: i64,
    user: u64,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("confbot-plan:{conference_id}:{user}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// The lead time of users who never chose one: a server's `/setup lead`, else the
/// configured default.
pub(super) async fn default_lead(
    conn: &mut PgConnection,
    conference_id: i64,
    configured: LeadTime,
) -> Result<LeadTime, StoreError> {
    Ok(store::guilds::default_lead(conn, conference_id)
        .await?
        .unwrap_or(configured))
}

/// Plans `users`' DMs from their subscriptions and lead times as the transaction sees them.
pub(super) async fn apply_users(
    conn: &mut PgConnection,
    conference_id: i64,
    programme: &Programme,
    users: &[u64],
    default_lead: LeadTime,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let subscriptions = subscriptions::of_users(&mut *conn, conference_id, users).await?;
    let leads = subscriptions::leads_of(&mut *conn, conference_id, users).await?;
    let planned = plan_dms(programme, &subscriptions, &leads, default_lead);
    drop(subscriptions);
    apply(
        conn,
        conference_id,
        &planned,
        ReminderScope::Users(users),
        now,
    )
    .await
}

/// The whole conference's inputs, for a plan of some talks.
pub(super) struct Inputs<'a> {
    pub subscriptions: &'a [Subscription],
    pub leads: &'a HashMap<u64, LeadTime>,
    pub default_lead: LeadTime,
    pub channels: &'a ChannelPlan,
}

/// Plans the posts about `talks` (channels and DMs).
pub(super) async fn apply_talks(
    conn: &mut PgConnection,
    conference_id: i64,
    programme: &Programme,
    inputs: Inputs<'_>,
    talks: &BTreeSet<TalkId>,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let planned = plan_talks(
        programme,
        inputs.subscriptions,
        inputs.leads,
        inputs.default_lead,
        inputs.channels,
        talks,
    );
    let talks: Vec<TalkId> = talks.iter().copied().collect();
    apply(
        conn,
        conference_id,
        &planned,
        ReminderScope::Talks(&talks),
        now,
    )
    .await
}

/// Plans the channel posts, and retires the DMs of users with no subscription left.
pub(super) async fn apply_channels(
    conn: &mut PgConnection,
    conference_id: i64,
    programme: &Programme,
    channels: &ChannelPlan,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let planned = plan_channels(programme, channels);
    let mut done = apply(conn, conference_id, &planned, ReminderScope::Channels, now).await?;
    let scope = ReminderScope::Unsubscribed;
    done.retired +=
        outbox::retire_unplanned_reminders_in(&mut *conn, conference_id, scope, &[], now).await?;
    Ok(done)
}

/// [`apply`] for a scope whose pending posts were read: writes only the posts not stored
/// as planned, and retires only when something stored is no longer planned. A user's
/// replan after a click finds all but the new post as planned.
async fn apply_delta(
    conn: &mut PgConnection,
    conference_id: i64,
    planned: &[PlannedPost],
    pending: &[PlannedPost],
    scope: ReminderScope<'_>,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let delta = plan_delta(planned, pending);
    let write: Vec<PlannedPost> = delta.write.into_iter().cloned().collect();
    let writes = Writes {
        write: &write,
        retire: delta.retire,
    };
    write_plan(conn, conference_id, planned, writes, scope, now).await
}

/// Makes `planned` true in the outbox within `scope`.
async fn apply(
    conn: &mut PgConnection,
    conference_id: i64,
    planned: &[PlannedPost],
    scope: ReminderScope<'_>,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let writes = Writes {
        write: planned,
        retire: true,
    };
    write_plan(conn, conference_id, planned, writes, scope, now).await
}

/// What of a scope's plan goes to the outbox: the posts to upsert, and whether the scope's
/// unplanned rows are retired.
struct Writes<'a> {
    write: &'a [PlannedPost],
    retire: bool,
}

async fn write_plan(
    conn: &mut PgConnection,
    conference_id: i64,
    planned: &[PlannedPost],
    writes: Writes<'_>,
    scope: ReminderScope<'_>,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let enqueued = outbox::enqueue(&mut *conn, conference_id, writes.write, now).await?;
    let retired = if writes.retire {
        let keys: Vec<_> = planned.iter().map(|post| post.key).collect();
        outbox::retire_unplanned_reminders_in(&mut *conn, conference_id, scope, &keys, now).await?
    } else {
        0
    };
    Ok(Replanned {
        planned: planned.len(),
        added: enqueued.added,
        replanned: enqueued.replanned,
        retired,
        notices: 0,
    })
}

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

impl UserPlanning {
    pub fn new(pool: PgPool, snapshots: Arc<Snapshots>, default_lead: LeadTime) -> Self {
        Self {
            pool,
            snapshots,
            default_lead,
            added: Arc::default(),
        }
    }

    /// After the change's transaction committed: once commands added [`ANALYZE_AFTER`]
    /// outbox rows, refreshes the outbox's statistics in the background (the returned task)
    /// as the planner does after its own passes. Commands add a handful of rows each, and
    /// on a server without autovacuum the statistics would otherwise keep describing the
    /// empty table: PostgreSQL then looks up one user's pending DMs by scanning all of them
    /// (6 ms per subscription at 10,000 rows, measured in the subscription storm).
    pub fn committed(&self) -> Option<tokio::task::JoinHandle<()>> {
        // Whoever takes the count back to zero analyses; the others go on.
        self.added
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |added| {
                (added >= ANALYZE_AFTER).then_some(0)
            })
            .ok()?;
        let pool = self.pool.clone();
        Some(tokio::spawn(async move { outbox::analyze(&pool).await }))
    }

    /// Before a change of `user`'s subscriptions or lead time in the transaction `conn`:
    /// the change will be planned here ([`Self::after_change`]), so its rows notify nobody
    /// (see the migration `20261204000017_incremental_plans.sql`).
    pub async fn before_change(
        &self,
        conn: &mut PgConnection,
        conference_id: i64,
        user: u64,
    ) -> Result<(), StoreError> {
        // Generic plans for the rest of the transaction: its statements look up one user's
        // rows by key, where a plan made for the values is no better, and planning each
        // statement anew cost more than running it (the retire and the subscriptions read
        // took 0.25 ms each to plan, 0.06-0.08 ms to run, in a storm of subscriptions).
        sqlx::query(
            "SELECT set_config('confbot.planned_user', $1, true),
                    set_config('plan_cache_mode', 'force_generic_plan', true)",
        )
        .bind(format!("{conference_id}:{}", store::id_to_db(user)))
        .execute(conn)
        .await?;
        Ok(())
    }

    /// After the change, in the same transaction: plans `user`'s DMs. When the snapshot
    /// registry cannot give the stored programme version, it plans nothing and notifies the
    /// planners instead, which replan the user once the transaction commits.
    ///
    /// It waits for an import or a planner holding the conference, as the change's own
    /// foreign-key check already does. (`SKIP LOCKED`, tried here, skipped the row now and
    /// then in the tests under load although nothing else in their database was seen
    /// holding it; not understood, so commands wait instead.)
    pub async fn after_change(
        &self,
        conn: &mut PgConnection,
        conference: &ConferenceRow,
        user: u64,
        now: DateTime<Utc>,
    ) -> Result<Option<UserPlanned>, StoreError> {
        sqlx::query("SELECT 1 FROM conferences WHERE id = $1 FOR SHARE")
            .bind(conference.id)
            .execute(&mut *conn)
            .await?;
        // Its own statement, after the lock (see `conferences::lock_and_version`).
        let version: i64 =
            sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM imports WHERE conference_id = $1")
                .bind(conference.id)
                .fetch_one(&mut *conn)
                .await?;
        let snapshot = self
            .snapshots
            .get_or_load(
                &self.pool,
                &conference.conference.slug,
                conference.id,
                version,
            )
            .await?;
        let Some(snapshot) = snapshot.filter(|s| s.version == version) else {
            let later = format!("{}:user:{}", conference.id, store::id_to_db(user));
            notify(conn, later).await?;
            return Ok(None);
        };
        lock_user(conn, conference.id, user).await?;
        let default = default_lead(conn, conference.id, self.default_lead).await?;
        let subscriptions = subscriptions::of_users(&mut *conn, conference.id, &[user]).await?;
        let leads = subscriptions::leads_of(&mut *conn, conference.id, &[user]).await?;
        let planned = plan_dms(&snapshot.programme, &subscriptions, &leads, default);
        let pending = outbox::pending_dm_reminders(&mut *conn, conference.id, &[user]).await?;
        let scope = ReminderScope::Users(&[user]);
        let done = apply_delta(conn, conference.id, &planned, &pending, scope, now).await?;
        self.added.fetch_add(done.added, Ordering::AcqRel);
        if done.touched_outbox() {
            // Every process's delivery loop may be asleep past what this queued.
            notify(conn, format!("{}:queued", conference.id)).await?;
        }
        let own = leads.get(&user).copied();
        Ok(Some(UserPlanned {
            replanned: done,
            lead: own.unwrap_or(default),
            own_lead: own.is_some(),
            subscriptions,
        }))
    }
}

/// What [`UserPlanning::after_change`] planned, and the user's inputs as it read them in
/// the change's transaction: the command's answer needs them and need not read them again.
#[derive(Debug)]
pub struct UserPlanned {
    pub replanned: Replanned,
    /// The user's subscriptions in this conference.
    pub subscriptions: Vec<Subscription>,
    /// Their lead time: their own, else the server's or the configured default.
    pub lead: LeadTime,
    pub own_lead: bool,
}

/// Sends a plan notification when the transaction commits.
async fn notify(conn: &mut PgConnection, payload: String) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(crate::jobs::PLAN_CHANNEL)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}
