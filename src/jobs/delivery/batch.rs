//! One claimed batch: its rows claimed together, sent side by side under one lease that is
//! renewed while any of them is held, each row counted towards the loop's dispatch until
//! its first request is made.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::dispatch::{Dispatch, InFlight};
use super::row::handle;
use super::{Deliver, DeliveryOptions, Shared};
use crate::domain::reminders::Target;
use crate::jobs::lease::{BatchLease, Claim};
use crate::store::dm_channels::{self, DmChannel};
use crate::store::outbox;

/// Claims up to `limit` due rows (at most a batch; DMs due up to `dms_until` too, sent
/// early for a fan-out). `None` when nothing is due (or the claim failed).
pub(super) async fn claim_due<D>(
    shared: &Shared<D>,
    dms_until: Option<DateTime<Utc>>,
    limit: u32,
) -> Option<Vec<outbox::OutboxEntry>> {
    let options = &shared.options;
    let claimed = outbox::claim_due_early(
        &shared.pool,
        &options.worker,
        shared.clock.now(),
        dms_until,
        lease_of(options),
        options.batch.min(limit),
    )
    .await;
    match claimed {
        Ok(claimed) if claimed.is_empty() => None,
        Ok(claimed) => Some(claimed),
        Err(error) => {
            tracing::error!("claiming due posts failed: {error:#}");
            None
        }
    }
}

fn lease_of(options: &DeliveryOptions) -> chrono::Duration {
    chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::minutes(1))
}

/// Sends one claimed batch, renewing the claims it still holds every quarter lease (see
/// [`crate::jobs::lease`]).
pub(super) async fn send_batch<D: Deliver>(
    shared: Arc<Shared<D>>,
    claimed: Vec<outbox::OutboxEntry>,
    mut stop: watch::Receiver<bool>,
    _rows: InFlight,
    dispatch: Arc<Dispatch>,
) {
    let options = &shared.options;
    let now = shared.clock.now();
    let lease = lease_of(options);
    let known = known_dm_channels(&shared, &claimed).await;
    let batch = BatchLease::new(shared.clock, now, lease);
    let mut held: HashSet<i64> = claimed.iter().map(|e| e.id).collect();
    let mut next_renewal = now + batch.renew_every();
    // Each row counts towards the dispatch until it sends, ends or is left unsent.
    let mut entries = claimed
        .into_iter()
        .map(|entry| (entry, dispatch.row()))
        .collect::<Vec<_>>()
        .into_iter();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.len() < options.concurrency {
            let Some((entry, departure)) = entries.next() else {
                break;
            };
            if batch.is_lost(entry.id) {
                held.remove(&entry.id);
                continue;
            }
            let claim = Claim::of(&batch, entry.id);
            let dm = match entry.post.key.target {
                Target::Dm(user) => known.get(&user).copied(),
                Target::Channel(_) | Target::Guild(_) => None,
            };
            tasks.spawn(handle(Arc::clone(&shared), entry, dm, claim, departure));
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            done = tasks.join_next() => match done {
                Some(Ok(id)) => {
                    held.remove(&id);
                }
                Some(Err(error)) if error.is_panic() => {
                    tracing::error!("a delivery task panicked; its row is retried after the lease");
                }
                _ => {}
            },
            () = shared.clock.sleep_until(next_renewal) => {
                let ids: Vec<i64> = held.iter().copied().collect();
                let now = shared.clock.now();
                let until = now + lease;
                match outbox::renew(&shared.pool, &options.worker, &ids, now, until).await {
                    Ok(renewed) => {
                        if renewed.len() < ids.len() {
                            tracing::warn!(lost = ids.len() - renewed.len(), "claims lost before their sends: not sent by this worker");
                        }
                        batch.renewed(&ids, &renewed, until);
                    }
                    // Not renewed: the lease runs out and the sends still waiting stop.
                    Err(error) => tracing::warn!("renewing claims failed: {error:#}"),
                }
                next_renewal = now + batch.renew_every();
            }
            _ = stop.changed() => {
                // Shutting down: sends under way may finish (and be recorded) for a
                // moment; the rest are cancelled and their rows released by the caller.
                let finishing = async { while tasks.join_next().await.is_some() {} };
                if tokio::time::timeout(FINISH_GRACE, finishing).await.is_err() {
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                }
                break;
            }
        }
    }
}

/// The stored DM channels of the batch's users (none on a database error: each DM then
/// opens its channel).
async fn known_dm_channels<D>(
    shared: &Shared<D>,
    claimed: &[outbox::OutboxEntry],
) -> HashMap<u64, DmChannel> {
    let users: Vec<u64> = claimed
        .iter()
        .filter_map(|entry| match entry.post.key.target {
            Target::Dm(user) => Some(user),
            Target::Channel(_) | Target::Guild(_) => None,
        })
        .collect();
    if users.is_empty() {
        return HashMap::new();
    }
    dm_channels::of_users(&shared.pool, &users)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!("reading stored DM channels failed: {error}");
            HashMap::new()
        })
}

/// How long sends under way may take to finish at shutdown.
const FINISH_GRACE: Duration = Duration::from_secs(5);
