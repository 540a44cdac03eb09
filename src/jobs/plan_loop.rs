//! The plan loop: replans what the `confbot_plan` notifications name, and runs the minute
//! sweep. A burst of notifications (a bulk import, a fan of clicks, a purge of many users)
//! is drained first and costs one replan per conference and scope.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{mpsc, watch, Notify};

use super::clock::Clock;
use super::planner::{Planner, Replanned};
use super::{PLAN_CHANNEL, RELISTEN_AFTER};
use crate::store::{id_from_db, StoreError};

/// More users than this waiting for one conference: reconciling its whole plan, a page of
/// users at a time, is cheaper than replanning each.
const USERS_AT_ONCE: usize = 5_000;

/// What a notification asks for (its payload; see the migration
/// `20261204000017_incremental_plans.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// An import or announcement change: the conference's new imports and announcements.
    Changes(i64),
    /// The conference's whole plan (its channel plan or default lead changed).
    Full(i64),
    /// One user's DMs in the conference.
    User { conference: i64, user: u64 },
    /// Another process planned posts in the conference: nothing to plan, but they may be
    /// due before this process's delivery loop would look again.
    Queued(i64),
    /// A payload this version does not know (a newer process's): replan everything.
    Unknown,
}

impl Notice {
    pub fn parse(payload: &str) -> Self {
        let mut parts = payload.split(':');
        let conference = parts.next().and_then(|id| id.parse::<i64>().ok());
        match (conference, parts.next(), parts.next(), parts.next()) {
            (Some(id), None, _, _) => Self::Changes(id),
            (Some(id), Some("all"), None, _) => Self::Full(id),
            (Some(id), Some("queued"), None, _) => Self::Queued(id),
            (Some(conference), Some("user"), Some(user), None) => match user.parse::<i64>() {
                Ok(user) => Self::User {
                    conference,
                    user: id_from_db(user),
                },
                Err(_) => Self::Unknown,
            },
            _ => Self::Unknown,
        }
    }
}

/// What the plan loop has to replan next.
#[derive(Debug, Default)]
struct Pending {
    /// Every conference, each plan reconciled whole.
    all: bool,
    /// The minute sweep.
    sweep: bool,
    /// Conferences whose whole plan is reconciled.
    full: BTreeSet<i64>,
    /// Conferences whose new imports and announcements are planned.
    changes: BTreeSet<i64>,
    /// Users whose DMs are replanned, by conference.
    users: BTreeMap<i64, BTreeSet<u64>>,
    /// The delivery loop should look at the outbox.
    queued: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        !self.all
            && !self.sweep
            && self.full.is_empty()
            && self.changes.is_empty()
            && self.users.is_empty()
            && !self.queued
    }

    fn add(&mut self, notice: Notice) {
        match notice {
            Notice::Changes(id) => {
                self.changes.insert(id);
            }
            Notice::Full(id) => {
                self.full.insert(id);
            }
            Notice::User { conference, user } => {
                self.users.entry(conference).or_default().insert(user);
            }
            Notice::Queued(_) => self.queued = true,
            Notice::Unknown => self.all = true,
        }
    }

    /// Replans what is pending.
    async fn run(
        self,
        planner: &mut Planner,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Replanned, StoreError> {
        if self.all {
            return planner.replan_all(now).await;
        }
        let mut total = Replanned::default();
        for id in &self.changes {
            total.add(planner.replan_id(*id, now).await?);
        }
        for (id, users) in &self.users {
            if self.full.contains(id) {
                continue;
            }
            if users.len() > USERS_AT_ONCE {
                total.add(planner.replan_full_id(*id, now).await?);
            } else {
                let users: Vec<u64> = users.iter().copied().collect();
                total.add(planner.replan_users(*id, &users, now).await?);
            }
        }
        for id in &self.full {
            total.add(planner.replan_full_id(*id, now).await?);
        }
        // After the changed ones, whose changes it then finds planned.
        if self.sweep {
            total.add(planner.sweep(now).await?);
        }
        Ok(total)
    }
}

pub(super) async fn plan_loop(
    mut planner: Planner,
    pool: PgPool,
    clock: Clock,
    plan_changed: Arc<Notify>,
    wake_delivery: Arc<Notify>,
    mut sweeps: mpsc::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    let mut listener = listen(&pool).await;
    // Everything once at start: changes made while no planner ran.
    let mut pending = Pending {
        all: true,
        ..Pending::default()
    };
    loop {
        if !pending.is_empty() {
            let work = std::mem::take(&mut pending);
            let queued = work.queued;
            match work.run(&mut planner, clock.now()).await {
                Ok(done) if done.touched_outbox() || queued => wake_delivery.notify_one(),
                Ok(_) => {}
                // Logged with its causes by the planner's span; the next sweep retries.
                Err(error) => {
                    tracing::warn!("planning failed (everything is replanned next): {error}");
                    pending.all = true;
                }
            }
            continue;
        }
        tokio::select! {
            _ = stop.changed() => return,
            // A change planned in its own transaction by this process's commands: what it
            // queued may be due before the delivery loop's next wake.
            () = plan_changed.notified() => wake_delivery.notify_one(),
            Some(()) = sweeps.recv() => pending.sweep = true,
            notification = next_notification(&mut listener) => match notification {
                Some(notice) => {
                    pending.add(notice);
                    drain(&mut listener, &mut pending).await;
                }
                None => {
                    // The listener is gone: after a pause, listen anew and replan
                    // everything (notifications may have been missed meanwhile).
                    tokio::select! {
                        _ = stop.changed() => return,
                        () = tokio::time::sleep(RELISTEN_AFTER) => {}
                    }
                    listener = listen(&pool).await;
                    pending.all = true;
                }
            },
        }
    }
}

/// A listener on [`PLAN_CHANNEL`], or `None` (logged) when the database does not answer.
async fn listen(pool: &PgPool) -> Option<PgListener> {
    let listener = async {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(PLAN_CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match listener.await {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!("cannot listen for plan changes (the sweep still runs): {error}");
            None
        }
    }
}

/// The next notification; `None` when the listener failed or there is none.
async fn next_notification(listener: &mut Option<PgListener>) -> Option<Notice> {
    let active = listener.as_mut()?;
    match active.recv().await {
        Ok(notification) => Some(Notice::parse(notification.payload())),
        Err(error) => {
            tracing::warn!("lost the plan-change listener: {error}");
            *listener = None;
            None
        }
    }
}

/// Takes the notifications already buffered, so a burst costs one replan per scope.
async fn drain(listener: &mut Option<PgListener>, pending: &mut Pending) {
    let Some(active) = listener.as_mut() else {
        return;
    };
    while let Ok(Ok(notification)) =
        tokio::time::timeout(Duration::from_millis(5), active.recv()).await
    {
        pending.add(Notice::parse(notification.payload()));
    }
}

#[cfg(test)]
mod tests {
    use super::Notice;

    #[test]
    fn payloads_name_what_to_replan() {
        assert_eq!(Notice::parse("42"), Notice::Changes(42));
        assert_eq!(Notice::parse("42:all"), Notice::Full(42));
        assert_eq!(Notice::parse("42:queued"), Notice::Queued(42));
        assert_eq!(
            Notice::parse("42:user:7"),
            Notice::User {
                conference: 42,
                user: 7
            }
        );
        // Discord ids above i64::MAX are stored bit-cast, so negative in the payload.
        assert_eq!(
            Notice::parse("42:user:-1"),
            Notice::User {
                conference: 42,
                user: u64::MAX
            }
        );
        for unknown in [
            "",
            "x",
            "42:some",
            "42:user",
            "42:user:x",
            "42:all:1",
            "42:user:1:2",
        ] {
            assert_eq!(Notice::parse(unknown), Notice::Unknown, "{unknown:?}");
        }
    }
}
