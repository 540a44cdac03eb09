//! The gateway lease: one process per Discord gateway shard. Two `confbot run` with the
//! same shards would both receive every interaction of those servers and both answer (one
//! answer fails, the other's side effects happen twice), so a process connects a shard only
//! while it holds that shard's lease; another one configured for it waits as a hot standby.
//!
//! A lease is a PostgreSQL session advisory lock per shard (keyed by the shard count and the
//! shard id, so processes with different ranges of one sharding exclude each other exactly
//! where they overlap), held by a connection of its own. PostgreSQL releases it when that
//! session ends, which is what makes a crash safe: a killed process's socket closes, its
//! backend exits, and the standby takes the lease on its next try. A holder checks its
//! session regularly ([`LeaseSession::held`]) and gives up its gateway when the check fails,
//! since it can no longer know whether the lock is still its own. The session asks the
//! server for TCP keepalives, so a holder cut off by the network does not keep the lock
//! for the operating system's default of two hours.

use std::ops::RangeInclusive;
use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};

use crate::store::StoreError;

/// A connection that takes, holds and checks the leases of some shards.
pub struct LeaseSession {
    conn: PgConnection,
    shards: RangeInclusive<u32>,
    total: u32,
    held: bool,
}

impl LeaseSession {
    /// A session for the leases of `shards` out of `total`, holding none yet.
    pub async fn open(
        pool: &PgPool,
        shards: RangeInclusive<u32>,
        total: u32,
    ) -> Result<Self, StoreError> {
        let mut conn = PgConnection::connect_with(&pool.connect_options()).await?;
        // Best effort: a Unix socket has no TCP keepalive and ignores these.
        for setting in [
            "SET tcp_keepalives_idle = 10",
            "SET tcp_keepalives_interval = 5",
            "SET tcp_keepalives_count = 3",
            "SET application_name = 'confbot gateway lease'",
        ] {
            if let Err(error) = sqlx::query(setting).execute(&mut conn).await {
                tracing::debug!("lease session: {setting} refused: {error}");
            }
        }
        Ok(Self {
            conn,
            shards,
            total,
            held: false,
        })
    }

    /// Takes every shard's lease, or none: `false` when another process holds any of them.
    pub async fn try_take(&mut self) -> Result<bool, StoreError> {
        if self.held {
            return Ok(true);
        }
        for shard in self.shards.clone() {
            let taken: bool =
                sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                    .bind(key(self.total, shard))
                    .fetch_one(&mut self.conn)
                    .await?;
            if !taken {
                // All or nothing: a partial range would block the holder of the rest.
                sqlx::query("SELECT pg_advisory_unlock_all()")
                    .execute(&mut self.conn)
                    .await?;
                return Ok(false);
            }
        }
        self.held = true;
        Ok(true)
    }

    /// Whether the session still answers within `within` (and so still holds what it took).
    pub async fn held(&mut self, within: Duration) -> bool {
        if !self.held {
            return false;
        }
        let ping = sqlx::query("SELECT 1").execute(&mut self.conn);
        matches!(tokio::time::timeout(within, ping).await, Ok(Ok(_)))
    }

    /// Gives the leases back (a clean stop: the standby need not wait for a crash).
    pub async fn release(self) {
        if let Err(error) = self.conn.close().await {
            tracing::debug!("closing the lease session: {error}");
        }
    }
}

/// The lock key of one shard: shard ids are only comparable within one shard count.
fn key(total: u32, shard: u32) -> String {
    format!("confbot gateway shard {shard} of {total}")
}
