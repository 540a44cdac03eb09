//! Applying part of the plan: one scope of a conference's reminders (some users' DMs, some
//! talks, the channel posts) planned from the inputs of that scope alone and made true in
//! the outbox, in the caller's transaction. What the scope no longer calls for is retired
//! within the scope only, so a part never disturbs the rest of the plan.
//!
//! Locking, so that two changes never plan from each other's half-committed state: the
//! conference's row is locked by imports (their upsert of it) and `FOR UPDATE` by every
//! planner pass that plans more than one user ([`lock_conference`]); a command planning its
//! own user takes it `FOR SHARE` (see `super::user`).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::model::TalkId;
use crate::domain::programme::Programme;
use crate::domain::reminders::{
    plan_channels, plan_delta, plan_dms, plan_talks, ChannelPlan, LeadTime, PlannedPost,
    Subscription,
};
use crate::store::outbox::{self, ReminderScope};
use crate::store::{self, subscriptions, StoreError};

use super::Replanned;

/// The conference's current programme version, its row locked `FOR UPDATE` until the
/// transaction ends; `None` when it does not exist.
pub(super) async fn lock_conference(
    conn: &mut PgConnection,
    conference_id: i64,
) -> Result<Option<i64>, StoreError> {
    store::conferences::lock_and_version(conn, conference_id).await
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
pub(super) async fn apply_delta(
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
        ..Replanned::default()
    })
}
