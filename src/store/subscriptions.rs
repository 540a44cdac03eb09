//! Subscriptions, personal lead times and the room → channel map: everything the reminder
//! planner needs besides the programme. Discord ids are u64 here and bit-cast `bigint` in
//! SQL (`store::id_to_db`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};

use crate::domain::model::TalkId;
use crate::domain::reminders::{LeadTime, Subscription, SubscriptionTarget};
use crate::domain::text::title_key;
use crate::store::{id_from_db, id_to_db, StoreError};

mod channels;

pub use channels::{channel_plan, set_channel_plan};

/// What a subscription covers, by store id (the domain's [`SubscriptionTarget`] names rooms
/// and tracks instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionRef {
    Talk(TalkId),
    /// A room id (`rooms.id`).
    Room(i64),
    /// A track id (`tracks.id`).
    Track(i64),
}

impl SubscriptionRef {
    /// The `subscriptions` column holding this kind of target, and the table it points to.
    /// Fixed strings, never input: safe to splice into SQL.
    fn column_and_table(self) -> (&'static str, &'static str) {
        match self {
            Self::Talk(_) => ("talk_id", "talks"),
            Self::Room(_) => ("room_id", "rooms"),
            Self::Track(_) => ("track_id", "tracks"),
        }
    }

    fn id(self) -> i64 {
        match self {
            Self::Talk(TalkId(id)) | Self::Room(id) | Self::Track(id) => id,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Talk(_) => "talk",
            Self::Room(_) => "room",
            Self::Track(_) => "track",
        }
    }
}

/// One of a user's subscriptions, for `/mytalks` and `/unsubscribe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSubscription {
    /// By id, to unsubscribe.
    pub reference: SubscriptionRef,
    /// By name, to show and to plan.
    pub target: SubscriptionTarget,
    /// The guild it was made in; `None` for a direct message.
    pub guild_id: Option<u64>,
    pub created_at: DateTime<Utc>,
}

/// Subscribes `user_id` to a talk, room or track of the conference. Returns whether a
/// subscription was added (`false`: it existed already). Idempotent through the unique
/// indexes and `ON CONFLICT DO NOTHING`, so two concurrent clicks make one row. A target
/// that is not in this conference is an error.
pub async fn subscribe(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    guild_id: Option<u64>,
    user_id: u64,
    target: SubscriptionRef,
) -> Result<bool, StoreError> {
    let (column, table) = target.column_and_table();
    // One statement: finding the target and inserting see the same snapshot, and "not in
    // this conference" is told apart from "already subscribed" without a second query.
    let row = sqlx::query(&format!(
        "WITH target AS (SELECT id FROM {table} WHERE id = $4 AND conference_id = $1),
              inserted AS (
                  INSERT INTO subscriptions (conference_id, guild_id, user_id, {column})
                  SELECT $1, $2, $3, id FROM target
                  ON CONFLICT DO NOTHING
                  RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM target) AS found,
                EXISTS (SELECT 1 FROM inserted) AS inserted"
    ))
    .bind(conference_id)
    .bind(guild_id.map(id_to_db))
    .bind(id_to_db(user_id))
    .bind(target.id())
    .fetch_one(db)
    .await?;
    if !row.try_get::<bool, _>("found")? {
        return Err(StoreError::Invalid(format!(
            "conference {conference_id} has no {} {}",
            target.noun(),
            target.id()
        )));
    }
    Ok(row.try_get("inserted")?)
}

/// Removes a subscription. Returns whether there was one.
pub async fn unsubscribe(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    user_id: u64,
    target: SubscriptionRef,
) -> Result<bool, StoreError> {
    let (column, _) = target.column_and_table();
    let done = sqlx::query(&format!(
        "DELETE FROM subscriptions WHERE conference_id = $1 AND user_id = $2 AND {column} = $3"
    ))
    .bind(conference_id)
    .bind(id_to_db(user_id))
    .bind(target.id())
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

const SELECT_SUBSCRIPTIONS: &str =
    "SELECT s.user_id, s.guild_id, s.created_at, s.talk_id, s.room_id, r.name AS room,
            s.track_id, tr.name AS track
     FROM subscriptions s
     LEFT JOIN rooms r ON r.id = s.room_id
     LEFT JOIN tracks tr ON tr.id = s.track_id
     WHERE s.conference_id = $1";

fn row_to_subscription(row: &PgRow) -> Result<UserSubscription, StoreError> {
    let talk: Option<i64> = row.try_get("talk_id")?;
    let room: Option<i64> = row.try_get("room_id")?;
    let track: Option<i64> = row.try_get("track_id")?;
    // The CHECK constraint guarantees exactly one; a JOIN finds the name (FKs cascade).
    let (reference, target) = match (talk, room, track) {
        (Some(id), _, _) => (
            SubscriptionRef::Talk(TalkId(id)),
            SubscriptionTarget::Talk(TalkId(id)),
        ),
        (None, Some(id), _) => (
            SubscriptionRef::Room(id),
            SubscriptionTarget::Room(row.try_get("room")?),
        ),
        (None, None, Some(id)) => (
            SubscriptionRef::Track(id),
            SubscriptionTarget::Track(row.try_get("track")?),
        ),
        (None, None, None) => {
            return Err(StoreError::Invalid(
                "a stored subscription has no talk, room or track".to_owned(),
            ))
        }
    };
    Ok(UserSubscription {
        reference,
        target,
        guild_id: row.try_get::<Option<i64>, _>("guild_id")?.map(id_from_db),
        created_at: row.try_get("created_at")?,
    })
}

/// A subscription row as the planner takes it (rooms and tracks by name).
fn row_to_planned(row: &PgRow) -> Result<Subscription, StoreError> {
    Ok(Subscription {
        user: id_from_db(row.try_get("user_id")?),
        target: row_to_subscription(row)?.target,
    })
}

/// A user's subscriptions in this conference, oldest first.
pub async fn of_user(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    user_id: u64,
) -> Result<Vec<UserSubscription>, StoreError> {
    let rows = sqlx::query(&format!(
        "{SELECT_SUBSCRIPTIONS} AND s.user_id = $2 ORDER BY s.created_at, s.id"
    ))
    .bind(conference_id)
    .bind(id_to_db(user_id))
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_subscription).collect()
}

/// Every subscription of the conference as the planner takes them (rooms and tracks by
/// name), in the order they were made.
pub async fn of_conference(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Vec<Subscription>, StoreError> {
    let rows = sqlx::query(&format!("{SELECT_SUBSCRIPTIONS} ORDER BY s.id"))
        .bind(conference_id)
        .fetch_all(db)
        .await?;
    rows.iter().map(row_to_planned).collect()
}

/// The id of the conference's room called `name` (exactly, else ignoring case, accents and
/// punctuation like the planner does).
pub async fn room_id(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    name: &str,
) -> Result<Option<i64>, StoreError> {
    let rooms = named_ids(db, "rooms", conference_id).await?;
    Ok(find_named(&rooms, name))
}

/// The id of the conference's track called `name` (matched like [`room_id`]).
pub async fn track_id(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    name: &str,
) -> Result<Option<i64>, StoreError> {
    let tracks = named_ids(db, "tracks", conference_id).await?;
    Ok(find_named(&tracks, name))
}

/// `(id, name)` of every row of `table` ("rooms" or "tracks", never input) in the conference.
async fn named_ids(
    db: impl PgExecutor<'_>,
    table: &'static str,
    conference_id: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    let rows = sqlx::query_as(&format!(
        "SELECT id, name FROM {table} WHERE conference_id = $1 ORDER BY id"
    ))
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

fn find_named(named: &[(i64, String)], name: &str) -> Option<i64> {
    let exact = named.iter().find(|(_, n)| n == name);
    let folded = || {
        let key = title_key(name);
        named.iter().find(|(_, n)| title_key(n) == key)
    };
    exact.or_else(folded).map(|(id, _)| *id)
}

/// Sets the user's personal lead time in this conference.
pub async fn set_lead(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    user_id: u64,
    lead: LeadTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_settings (conference_id, user_id, lead_minutes) VALUES ($1, $2, $3)
         ON CONFLICT (conference_id, user_id)
         DO UPDATE SET lead_minutes = EXCLUDED.lead_minutes, updated_at = now()",
    )
    .bind(conference_id)
    .bind(id_to_db(user_id))
    .bind(i32::from(lead.minutes()))
    .execute(db)
    .await?;
    Ok(())
}

fn to_lead(minutes: i32) -> Result<LeadTime, StoreError> {
    LeadTime::from_minutes(i64::from(minutes))
        .map_err(|e| StoreError::Invalid(format!("stored lead time: {e}")))
}

/// The user's personal lead time; `None` when they never set one (use the default).
pub async fn lead(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    user_id: u64,
) -> Result<Option<LeadTime>, StoreError> {
    let minutes: Option<i32> = sqlx::query_scalar(
        "SELECT lead_minutes FROM user_settings WHERE conference_id = $1 AND user_id = $2",
    )
    .bind(conference_id)
    .bind(id_to_db(user_id))
    .fetch_optional(db)
    .await?;
    minutes.map(to_lead).transpose()
}

/// The user's personal lead time and the conference's default (`/setup lead`), read in one
/// statement: `None` where none was set.
pub async fn lead_and_default(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    user_id: u64,
) -> Result<(Option<LeadTime>, Option<LeadTime>), StoreError> {
    let default = crate::store::guilds::DEFAULT_LEAD;
    let (own, default): (Option<i32>, Option<i32>) = sqlx::query_as(&format!(
        "SELECT (SELECT lead_minutes FROM user_settings
                 WHERE conference_id = $1 AND user_id = $2),
                ({default})"
    ))
    .bind(conference_id)
    .bind(id_to_db(user_id))
    .fetch_one(db)
    .await?;
    Ok((
        own.map(to_lead).transpose()?,
        default.map(to_lead).transpose()?,
    ))
}

/// Every personal lead time set in the conference, by user id (the planner's input).
pub async fn leads(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<HashMap<u64, LeadTime>, StoreError> {
    let rows: Vec<(i64, i32)> =
        sqlx::query_as("SELECT user_id, lead_minutes FROM user_settings WHERE conference_id = $1")
            .bind(conference_id)
            .fetch_all(db)
            .await?;
    rows.into_iter()
        .map(|(user, minutes)| Ok((id_from_db(user), to_lead(minutes)?)))
        .collect()
}

/// The subscriptions of these users in the conference, as the planner takes them.
pub async fn of_users(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    users: &[u64],
) -> Result<Vec<Subscription>, StoreError> {
    let users: Vec<i64> = users.iter().map(|user| id_to_db(*user)).collect();
    let rows = sqlx::query(&format!(
        "{SELECT_SUBSCRIPTIONS} AND s.user_id = ANY($2) ORDER BY s.id"
    ))
    .bind(conference_id)
    .bind(users)
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_planned).collect()
}

/// Up to `limit` of the conference's subscribers, in a fixed order, after `after` (a
/// page's last user; `None`: from the start). Pages the planner's full reconcile.
pub async fn subscribers_page(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    after: Option<u64>,
    limit: usize,
) -> Result<Vec<u64>, StoreError> {
    // Ordered by the stored (bit-cast) value, which is what the keyset compares; a plain
    // lower bound (no `$2 IS NULL OR`) lets the (conference_id, user_id) index serve the
    // range.
    let from = match after.map(id_to_db) {
        None => i64::MIN,
        Some(last) => match last.checked_add(1) {
            Some(next) => next,
            None => return Ok(Vec::new()),
        },
    };
    let users: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT user_id FROM subscriptions
         WHERE conference_id = $1 AND user_id >= $2
         ORDER BY user_id LIMIT $3",
    )
    .bind(conference_id)
    .bind(from)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(db)
    .await?;
    Ok(users.into_iter().map(id_from_db).collect())
}

/// The personal lead times of these users, where set.
pub async fn leads_of(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    users: &[u64],
) -> Result<HashMap<u64, LeadTime>, StoreError> {
    let users: Vec<i64> = users.iter().map(|user| id_to_db(*user)).collect();
    let rows: Vec<(i64, i32)> = sqlx::query_as(
        "SELECT user_id, lead_minutes FROM user_settings
         WHERE conference_id = $1 AND user_id = ANY($2)",
    )
    .bind(conference_id)
    .bind(users)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(user, minutes)| Ok((id_from_db(user), to_lead(minutes)?)))
        .collect()
}
