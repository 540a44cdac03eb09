//! Interactions claimed by a gateway process before it answers them. While a rolling deploy
//! hands the gateway over, two processes are connected to the same shards and Discord sends
//! every interaction to both; the one whose claim lands answers, the other drops it.

use std::time::Duration;

use sqlx::PgPool;

use super::{id_to_db, StoreError};

/// How long a claim is kept: an interaction's token is valid for 15 minutes, and no
/// process receives it again after that.
pub const KEPT: Duration = Duration::from_secs(15 * 60);

/// Claims interaction `id`: `true` when this process is the first to.
pub async fn claim(db: &PgPool, id: u64) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO interaction_claim (interaction_id) VALUES ($1) ON CONFLICT DO NOTHING",
    )
    .bind(id_to_db(id))
    .execute(db)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Forgets the claims older than [`KEPT`]; returns how many.
pub async fn forget_old(db: &PgPool) -> Result<u64, StoreError> {
    let gone = sqlx::query(
        "DELETE FROM interaction_claim WHERE claimed_at < now() - make_interval(secs => $1)",
    )
    .bind(KEPT.as_secs_f64())
    .execute(db)
    .await?;
    Ok(gone.rows_affected())
}
