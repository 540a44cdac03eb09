//! People's data: `/forget` and the retention sweep (rules in `domain::privacy`).
//!
//! A forget deletes in one transaction; its preview runs the very same statements and rolls
//! them back, so what the person is shown is exactly what a confirm would delete.
//! Organisers' ids on audit entries, announcements and settings are replaced by 0 rather than
//! deleted: the server keeps the record of what was done, without who did it.
//!
//! The DM channel confbot keeps for a person (`dm_channels`) goes with their last
//! subscription anywhere: it is how confbot reaches them, and needed only while it does. A
//! process's hold on opening it (`dm_channel_opening`) goes with a forget, and with the
//! last subscription at the retention sweep.
//!
//! Outbox rows addressed to the person are what makes reminders exactly-once: a sent row
//! deleted while a subscription to the same talk remains would let the planner send that
//! reminder again. Rows of a conference are therefore only deleted once no subscription of
//! the person in that conference is left.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};

use super::{id_to_db, StoreError};
use crate::domain::privacy::{ForgetScope, Holdings, RetentionDays};

/// What a forget of `user` in `scope` would delete, counted; nothing is changed.
pub async fn holdings(
    pool: &PgPool,
    user: u64,
    scope: ForgetScope,
    now: DateTime<Utc>,
) -> Result<Holdings, StoreError> {
    let mut tx = pool.begin().await?;
    let held = forget_in(&mut tx, user, scope, now).await?;
    tx.rollback().await?;
    Ok(held)
}

/// Deletes what confbot holds about `user` in `scope`; returns what went. Cards of their
/// questions (and of those they voted for) are queued due `now`.
pub async fn forget(
    pool: &PgPool,
    user: u64,
    scope: ForgetScope,
    now: DateTime<Utc>,
) -> Result<Holdings, StoreError> {
    let mut tx = pool.begin().await?;
    let deleted = forget_in(&mut tx, user, scope, now).await?;
    tx.commit().await?;
    Ok(deleted)
}

async fn forget_in(
    tx: &mut PgConnection,
    user: u64,
    scope: ForgetScope,
    now: DateTime<Utc>,
) -> Result<Holdings, StoreError> {
    let user = id_to_db(user);
    let (guild, conference) = match scope {
        ForgetScope::Server { guild, conference } => (Some(id_to_db(guild)), conference),
        ForgetScope::Everywhere => (None, None),
    };
    // $2 NULL: every server. Subscriptions made in a direct message belong to no server.
    let touched: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM subscriptions WHERE user_id = $1 AND ($2::bigint IS NULL OR guild_id = $2)
         RETURNING conference_id",
    )
    .bind(user)
    .bind(guild)
    .fetch_all(&mut *tx)
    .await?;
    let subscriptions = count(touched.len());
    let mut conferences = touched;
    conferences.extend(conference);
    conferences.sort_unstable();
    conferences.dedup();

    let lead_times = sqlx::query(
        "DELETE FROM user_settings WHERE user_id = $1
           AND ($2::bigint IS NULL OR conference_id = $3)",
    )
    .bind(user)
    .bind(guild)
    .bind(conference)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    let direct_messages = sqlx::query(
        "DELETE FROM outbox o WHERE o.target_kind = 'dm' AND o.target_id = $1
           AND ($2::bigint IS NULL OR o.conference_id = ANY($3))
           AND NOT EXISTS (SELECT 1 FROM subscriptions s
                           WHERE s.conference_id = o.conference_id AND s.user_id = $1)",
    )
    .bind(user)
    .bind(guild)
    .bind(&conferences)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    sqlx::query(
        "DELETE FROM dm_channels WHERE user_id = $1
           AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1)",
    )
    .bind(user)
    .execute(&mut *tx)
    .await?;
    // A process opening their channel this moment may still store it as it finishes; the
    // retention sweep deletes it with the user's last subscription.
    sqlx::query("DELETE FROM dm_channel_opening WHERE user_id = $1")
        .bind(user)
        .execute(&mut *tx)
        .await?;

    let questions = forget_questions(&mut *tx, user, guild, now).await?;
    let calendar_links = super::feeds::forget(&mut *tx, user, guild, conference).await?;

    let mut organiser_records = 0;
    for statement in [
        "UPDATE audit_log SET user_id = 0
          WHERE user_id = $1 AND ($2::bigint IS NULL OR guild_id = $2)",
        "UPDATE announcements SET created_by = 0
          WHERE created_by = $1 AND ($2::bigint IS NULL OR guild_id = $2)",
        "UPDATE guild_settings SET updated_by = 0
          WHERE updated_by = $1 AND ($2::bigint IS NULL OR guild_id = $2)",
    ] {
        organiser_records += sqlx::query(statement)
            .bind(user)
            .bind(guild)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    Ok(Holdings {
        subscriptions,
        lead_times,
        direct_messages,
        organiser_records,
        questions,
        calendar_links,
    })
}

/// Takes the person's votes back and their questions out: each question's text is
/// replaced, its asker forgotten and its card removed from the thread; the cards they voted
/// for show the count without them. Through the outbox, like every change of a card.
/// `guild` `None`: every server.
async fn forget_questions(
    tx: &mut PgConnection,
    user: i64,
    guild: Option<i64>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let voted: Vec<(i64, i64, i64)> = sqlx::query_as(
        "DELETE FROM question_votes v USING questions q
          WHERE v.user_id = $1 AND q.id = v.question_id
            AND ($2::bigint IS NULL OR q.guild_id = $2)
         RETURNING q.id, q.conference_id, q.thread_id",
    )
    .bind(user)
    .bind(guild)
    .fetch_all(&mut *tx)
    .await?;
    let asked: Vec<(i64, i64, i64)> = sqlx::query_as(
        "UPDATE questions SET state = 'hidden', asker_id = 0, text = '(forgotten)'
          WHERE asker_id = $1 AND ($2::bigint IS NULL OR guild_id = $2)
         RETURNING id, conference_id, thread_id",
    )
    .bind(user)
    .bind(guild)
    .fetch_all(&mut *tx)
    .await?;
    let mut cards: Vec<&(i64, i64, i64)> = voted.iter().chain(&asked).collect();
    cards.sort_unstable();
    cards.dedup();
    for &&(id, conference_id, thread) in &cards {
        let card = super::questions::Card {
            id: crate::domain::model::QuestionId(id),
            conference_id,
            thread: super::id_from_db(thread),
        };
        super::questions::queue_card(&mut *tx, card, now).await?;
    }
    Ok(count(voted.len() + asked.len()))
}

/// A conference that still holds personal data, with what decides when it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retained {
    pub conference_id: i64,
    pub slug: String,
    /// When its last talk ends.
    pub last_end: DateTime<Utc>,
    /// The shortest retention chosen by a server following it; `None`: the default.
    pub retention: Option<RetentionDays>,
}

/// The conferences with a timed programme that still hold personal data.
pub async fn retained(pool: &PgPool) -> Result<Vec<Retained>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.id, c.slug,
                (SELECT max(t.ends_at) FROM talks t WHERE t.conference_id = c.id) AS last_end,
                (SELECT min(g.retention_days) FROM guild_settings g
                  WHERE g.conference_slug = c.slug) AS retention
           FROM conferences c
          WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.conference_id = c.id)
             OR EXISTS (SELECT 1 FROM user_settings u WHERE u.conference_id = c.id)
             OR EXISTS (SELECT 1 FROM outbox o
                         WHERE o.conference_id = c.id AND o.target_kind = 'dm')
             OR EXISTS (SELECT 1 FROM announcements a
                         WHERE a.conference_id = c.id AND a.created_by <> 0)",
    )
    .fetch_all(pool)
    .await?;
    let mut retained = Vec::new();
    for row in rows {
        let Some(last_end) = row.try_get::<Option<DateTime<Utc>>, _>("last_end")? else {
            continue;
        };
        let retention = row
            .try_get::<Option<i32>, _>("retention")?
            .and_then(|days| u32::try_from(days).ok())
            .and_then(RetentionDays::new);
        retained.push(Retained {
            conference_id: row.try_get("id")?,
            slug: row.try_get("slug")?,
            last_end,
            retention,
        });
    }
    Ok(retained)
}

/// Deletes the personal data of a finished conference: its subscriptions, lead times and
/// direct-message records; its announcements keep their text without their author.
pub async fn purge(pool: &PgPool, conference_id: i64) -> Result<Holdings, StoreError> {
    let mut tx = pool.begin().await?;
    let mut deleted = Holdings::default();
    for (statement, counter) in [
        (
            "DELETE FROM subscriptions WHERE conference_id = $1",
            &mut deleted.subscriptions,
        ),
        (
            "DELETE FROM user_settings WHERE conference_id = $1",
            &mut deleted.lead_times,
        ),
        (
            "DELETE FROM outbox WHERE conference_id = $1 AND target_kind = 'dm'",
            &mut deleted.direct_messages,
        ),
        (
            "UPDATE announcements SET created_by = 0 WHERE conference_id = $1 AND created_by <> 0",
            &mut deleted.organiser_records,
        ),
        // Their threads are archived by now: the questions go with their votes.
        (
            "DELETE FROM questions WHERE conference_id = $1",
            &mut deleted.questions,
        ),
        (
            "DELETE FROM calendar_feeds WHERE conference_id = $1",
            &mut deleted.calendar_links,
        ),
    ] {
        *counter = sqlx::query(statement)
            .bind(conference_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    sqlx::query(
        "DELETE FROM dm_channels d
          WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = d.user_id)",
    )
    .execute(&mut *tx)
    .await?;
    // A hold left by a process that died mid-open, of someone no longer subscribed anywhere
    // (one still subscribed is taken again at their next DM).
    sqlx::query(
        "DELETE FROM dm_channel_opening h
          WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = h.user_id)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(deleted)
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
