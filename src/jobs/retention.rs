//! The retention sweep: on every minute tick, the personal data of each conference whose
//! retention after its last talk has passed (`domain::privacy::retention_expired`) is
//! deleted and the deletion logged. Idempotent, so several processes may run it at once.

use sqlx::PgPool;
use tokio::sync::{mpsc, watch};

use super::Clock;
use crate::domain::privacy::{retention_expired, Holdings};
use crate::store::privacy;
use crate::store::StoreError;

pub(super) async fn retention_loop(
    pool: PgPool,
    clock: Clock,
    mut ticks: mpsc::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    while super::next_tick(&mut ticks, &mut stop).await {
        if let Err(error) = purge_expired(&pool, clock.now()).await {
            // The next tick tries again; nothing is half-deleted (one transaction each).
            tracing::warn!("the retention sweep failed: {error:#}");
        }
    }
}

/// Deletes the personal data of every conference past its retention at `now`; returns what
/// was deleted per conference slug.
pub async fn purge_expired(
    pool: &PgPool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, Holdings)>, StoreError> {
    let mut purged = Vec::new();
    for conference in privacy::retained(pool).await? {
        if !retention_expired(conference.last_end, conference.retention, now) {
            continue;
        }
        let deleted = privacy::purge(pool, conference.conference_id).await?;
        tracing::info!(
            conference = %conference.slug,
            last_talk_ended = %conference.last_end,
            retention_days = conference.retention.unwrap_or_default().days(),
            subscriptions = deleted.subscriptions,
            lead_times = deleted.lead_times,
            direct_messages = deleted.direct_messages,
            organiser_records = deleted.organiser_records,
            "deleted a finished conference's personal data (retention passed)"
        );
        purged.push((conference.slug, deleted));
    }
    Ok(purged)
}
