//! Users' direct-message channels (`dm_channels`): opened once, ahead of their reminders,
//! and shared by every process, so that a DM costs one request at send time; and users
//! whose DMs are closed, who are not tried again until they interact with the bot.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Row};

use super::{id_from_db, id_to_db, StoreError};

/// What is known of a user's DMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmChannel {
    /// Opened: DMs go to this channel.
    Open(u64),
    /// Discord refused a DM to the user (50007) or would not open their channel: none is
    /// tried until they interact with the bot again.
    Closed,
}

/// What is known of `users`' DMs (users whose channel is still to open are absent).
pub async fn of_users(
    db: impl PgExecutor<'_>,
    users: &[u64],
) -> Result<HashMap<u64, DmChannel>, StoreError> {
    let ids: Vec<i64> = users.iter().copied().map(id_to_db).collect();
    let rows = sqlx::query(
        "SELECT user_id, channel_id, closed_at IS NOT NULL AS closed
           FROM dm_channels WHERE user_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let mut known = HashMap::new();
    for row in &rows {
        let user = id_from_db(row.try_get("user_id")?);
        let channel: Option<i64> = row.try_get("channel_id")?;
        match (row.try_get::<bool, _>("closed")?, channel) {
            (true, _) => known.insert(user, DmChannel::Closed),
            (false, Some(channel)) => known.insert(user, DmChannel::Open(id_from_db(channel))),
            // The table's check excludes it: nothing known, to open.
            (false, None) => None,
        };
    }
    Ok(known)
}

/// Stores `user`'s DM channel, opened at `now` (a channel opened afresh replaces the old
/// one; whether DMs are closed is kept), and ends any hold on opening it.
pub async fn remember(
    db: impl PgExecutor<'_>,
    user: u64,
    channel: u64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "WITH settled AS (DELETE FROM dm_channel_opening WHERE user_id = $1)
         INSERT INTO dm_channels (user_id, channel_id, opened_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE
            SET channel_id = EXCLUDED.channel_id, opened_at = EXCLUDED.opened_at",
    )
    .bind(id_to_db(user))
    .bind(id_to_db(channel))
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets `user`'s DM channel: Discord refused it, and the next DM opens it afresh.
pub async fn forget(db: impl PgExecutor<'_>, user: u64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM dm_channels WHERE user_id = $1 AND closed_at IS NULL")
        .bind(id_to_db(user))
        .execute(db)
        .await?;
    Ok(())
}

/// Records at `now` that `user` does not accept DMs from the bot (in `channel`, or Discord
/// would not open one), and ends any hold on opening their channel.
pub async fn mark_closed(
    db: impl PgExecutor<'_>,
    user: u64,
    channel: Option<u64>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "WITH settled AS (DELETE FROM dm_channel_opening WHERE user_id = $1)
         INSERT INTO dm_channels (user_id, channel_id, opened_at, closed_at)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (user_id) DO UPDATE
            SET closed_at = EXCLUDED.closed_at,
                channel_id = COALESCE(EXCLUDED.channel_id, dm_channels.channel_id)",
    )
    .bind(id_to_db(user))
    .bind(channel.map(id_to_db))
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// `user` interacted with the bot: DMs to them are tried again. Returns whether they were
/// marked closed. A stored channel is kept; a user whose channel Discord would not open has
/// no channel to keep, so their row goes and the next look ahead opens one. Primary-key
/// looks only.
pub async fn reopen(db: impl PgExecutor<'_>, user: u64) -> Result<bool, StoreError> {
    let reopened: i64 = sqlx::query_scalar(
        "WITH gone AS (
            DELETE FROM dm_channels
             WHERE user_id = $1 AND closed_at IS NOT NULL AND channel_id IS NULL
            RETURNING 1),
         kept AS (
            UPDATE dm_channels SET closed_at = NULL
             WHERE user_id = $1 AND closed_at IS NOT NULL AND channel_id IS NOT NULL
            RETURNING 1)
         SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM kept)",
    )
    .bind(id_to_db(user))
    .fetch_one(db)
    .await?;
    Ok(reopened > 0)
}

/// Takes up to `limit` users with a pending DM due before `due_before` and no stored DM
/// channel, soonest first, for this process to open their channels ahead: each is held
/// until `hold_until`, so that another process looking ahead meanwhile is given others.
/// Users another process holds (until after `now`) are skipped, and so are users with a DM
/// a process has claimed to send: that send opens their channel itself. The hold ends with
/// [`remember`], [`mark_closed`] or [`let_go`].
///
/// Two processes taking the same users at once: the second one's insert waits for the
/// first's and then finds the hold live, so each user goes to one of them. Both insert in
/// user order, whatever each one's snapshot says is due first, so neither waits on a row the
/// other is about to wait on (a deadlock would cost a turn's opens, not correctness).
pub async fn take_to_open(
    db: impl PgExecutor<'_>,
    due_before: DateTime<Utc>,
    now: DateTime<Utc>,
    hold_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<u64>, StoreError> {
    let rows: Vec<i64> = sqlx::query_scalar(
        "WITH wanted AS (
            SELECT o.target_id FROM outbox o
             WHERE o.status = 'pending' AND o.target_kind = 'dm' AND o.due_at < $1
               AND NOT EXISTS (SELECT 1 FROM outbox c
                                WHERE c.target_kind = 'dm' AND c.target_id = o.target_id
                                  AND c.status = 'pending' AND c.claimed_until > $2)
               AND NOT EXISTS (SELECT 1 FROM dm_channels d WHERE d.user_id = o.target_id
                                 AND (d.channel_id IS NOT NULL OR d.closed_at IS NOT NULL))
               AND NOT EXISTS (SELECT 1 FROM dm_channel_opening h
                                WHERE h.user_id = o.target_id AND h.until > $2)
             GROUP BY o.target_id
             ORDER BY min(o.due_at), o.target_id
             LIMIT $4)
         INSERT INTO dm_channel_opening AS h (user_id, until)
         SELECT target_id, $3 FROM wanted ORDER BY target_id
         ON CONFLICT (user_id) DO UPDATE SET until = EXCLUDED.until WHERE h.until <= $2
         RETURNING h.user_id",
    )
    .bind(due_before)
    .bind(now)
    .bind(hold_until)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(id_from_db).collect())
}

/// Ends this process's hold on opening `user`'s channel, taken until `hold_until`, without an
/// answer (the pacer had no slot, or the request failed): the next look ahead, by any
/// process, may take them. A hold another process took since this one's ran out is kept.
pub async fn let_go(
    db: impl PgExecutor<'_>,
    user: u64,
    hold_until: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM dm_channel_opening WHERE user_id = $1 AND until = $2")
        .bind(id_to_db(user))
        .bind(hold_until)
        .execute(db)
        .await?;
    Ok(())
}
