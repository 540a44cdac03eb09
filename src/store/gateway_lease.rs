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

/// What a standby's look at the handover found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standby {
    /// This session took the handover up: connect now.
    Taker,
    /// Another standby's session, still alive, took up a recent one: it takes the lease.
    OtherTaker,
    /// No handover under way.
    Waiting,
}

/// Where a handover stands, as the holder that asked for it sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    /// No standby has taken it up yet.
    Asked,
    /// A standby is connecting its shards.
    Taken,
    /// The standby's shards are all connected: the holder may close its own.
    Ready,
}

/// The handover of a rolling deploy (`gateway_handover`): a stopping holder asks a standby
/// of exactly its range to connect before it closes, so that no interaction finds the shards
/// without a session. Every statement runs on the lease session, whose backend pid names the
/// standby that took the handover up.
impl LeaseSession {
    /// As a standby (before each try of the lease): records that it waits, and takes up a
    /// handover asked for within `fresh` that no other standby took. Another standby's
    /// handover counts for `taking` after its ask, while that standby's session lives:
    /// the lease is its to take when the holder lets go.
    pub async fn wait_as_standby(
        &mut self,
        fresh: Duration,
        taking: Duration,
    ) -> Result<Standby, StoreError> {
        let found: i32 = sqlx::query_scalar(
            "INSERT INTO gateway_handover AS h (shards, standby_seen, standby_pid)
             VALUES ($1, now(), pg_backend_pid())
             ON CONFLICT (shards) DO UPDATE SET
                 standby_seen = now(),
                 standby_pid = pg_backend_pid(),
                 taker = CASE WHEN h.asked_at > now() - make_interval(secs => $2)
                                   AND (h.taker IS NULL OR NOT EXISTS
                                        (SELECT 1 FROM pg_stat_activity a WHERE a.pid = h.taker))
                              THEN pg_backend_pid() ELSE h.taker END,
                 -- A dead taker's readiness is not the new taker's.
                 ready_at = CASE WHEN h.asked_at > now() - make_interval(secs => $2)
                                   AND (h.taker IS NULL OR NOT EXISTS
                                        (SELECT 1 FROM pg_stat_activity a WHERE a.pid = h.taker))
                              THEN NULL ELSE h.ready_at END
             RETURNING CASE
                 WHEN taker = pg_backend_pid() AND asked_at > now() - make_interval(secs => $2)
                     THEN 1
                 WHEN taker <> pg_backend_pid() AND asked_at > now() - make_interval(secs => $3)
                      AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = taker)
                     THEN 2
                 ELSE 0 END",
        )
        .bind(self.range())
        .bind(fresh.as_secs_f64())
        .bind(taking.as_secs_f64())
        .fetch_one(&mut self.conn)
        .await?;
        Ok(match found {
            1 => Standby::Taker,
            2 => Standby::OtherTaker,
            _ => Standby::Waiting,
        })
    }

    /// As the holder, stopping: asks a standby seen within `fresh` to take over. `false`
    /// when there is none (the holder closes at once). The holder's own mark from when it
    /// stood by does not count.
    pub async fn ask_handover(&mut self, fresh: Duration) -> Result<bool, StoreError> {
        let asked = sqlx::query(
            "UPDATE gateway_handover
                SET asked_at = now(), taker = NULL, ready_at = NULL
              WHERE shards = $1 AND standby_seen > now() - make_interval(secs => $2)
                AND standby_pid <> pg_backend_pid()",
        )
        .bind(self.range())
        .bind(fresh.as_secs_f64())
        .execute(&mut self.conn)
        .await?;
        Ok(asked.rows_affected() == 1)
    }

    /// As the holder that asked: how far the handover got. A taker whose session has ended
    /// (it died, or gave up) counts as none.
    pub async fn handover(&mut self) -> Result<Handover, StoreError> {
        let row: Option<(bool, bool)> = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = h.taker),
                    ready_at IS NOT NULL
               FROM gateway_handover h WHERE shards = $1 AND asked_at IS NOT NULL",
        )
        .bind(self.range())
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(match row {
            Some((true, true)) => Handover::Ready,
            Some((true, false)) => Handover::Taken,
            _ => Handover::Asked,
        })
    }

    /// As the taker: its shards are all connected. `false` when this session is no longer
    /// the taker (the holder gave up, or asked anew).
    pub async fn handover_ready(&mut self) -> Result<bool, StoreError> {
        let ready = sqlx::query(
            "UPDATE gateway_handover SET ready_at = now()
              WHERE shards = $1 AND taker = pg_backend_pid() AND asked_at IS NOT NULL",
        )
        .bind(self.range())
        .execute(&mut self.conn)
        .await?;
        Ok(ready.rows_affected() == 1)
    }

    /// As the taker, once it holds the lease or gave up: the handover is over.
    pub async fn handover_done(&mut self) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE gateway_handover SET asked_at = NULL, taker = NULL, ready_at = NULL
              WHERE shards = $1 AND taker = pg_backend_pid()",
        )
        .bind(self.range())
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    /// Whether this session holds the leases.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// The handover row's key: only a standby of exactly this range may take over.
    fn range(&self) -> String {
        format!(
            "{}-{}/{}",
            self.shards.start(),
            self.shards.end(),
            self.total
        )
    }
}

/// The lock key of one shard: shard ids are only comparable within one shard count.
fn key(total: u32, shard: u32) -> String {
    format!("confbot gateway shard {shard} of {total}")
}
