//! Organiser announcements: drafts while the organiser types and previews, scheduled ones
//! the planner turns into outbox posts, cancelled ones kept for the record. Every function
//! that reads or changes one announcement is scoped by the guild it was made in, so one
//! guild can never see or touch another's.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};

use crate::domain::announcements::{Announcement, AnnouncementId, Ping, Repeat};
use crate::store::{id_from_db, id_to_db, StoreError};

/// Where an announcement is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its text or the organiser's Confirm.
    Draft,
    /// Planned: its occurrences are posted.
    Scheduled,
    /// Never posted (again).
    Cancelled,
}

impl Status {
    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "draft" => Ok(Self::Draft),
            "scheduled" => Ok(Self::Scheduled),
            "cancelled" => Ok(Self::Cancelled),
            other => Err(StoreError::Invalid(format!(
                "unknown announcement status {other:?}"
            ))),
        }
    }
}

/// A stored announcement with what the planner does not need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnnouncement {
    pub announcement: Announcement,
    pub conference_id: i64,
    pub guild_id: u64,
    pub created_by: u64,
    pub status: Status,
}

/// A new announcement, stored as a draft until confirmed.
#[derive(Debug, Clone)]
pub struct NewAnnouncement<'a> {
    pub conference_id: i64,
    pub guild_id: u64,
    pub created_by: u64,
    pub channel: u64,
    pub text: &'a str,
    pub first: DateTime<Utc>,
    pub repeat: Option<&'a Repeat>,
    pub zone: Tz,
    pub ping: Ping,
}

const COLUMNS: &str = "id, conference_id, guild_id, created_by, channel_id, text, first_at,
    repeat, time_zone, ping_kind, ping_role, status";

fn ping_to_db(ping: Ping) -> (&'static str, Option<i64>) {
    match ping {
        Ping::None => ("none", None),
        Ping::Role(role) => ("role", Some(id_to_db(role))),
        Ping::Everyone => ("everyone", None),
    }
}

fn row_to_announcement(row: &PgRow) -> Result<StoredAnnouncement, StoreError> {
    let invalid = |what: String| StoreError::Invalid(format!("stored announcement: {what}"));
    let zone: String = row.try_get("time_zone")?;
    let zone: Tz = zone
        .parse()
        .map_err(|_| invalid(format!("zone {zone:?}")))?;
    let repeat: Option<String> = row.try_get("repeat")?;
    let repeat = repeat
        .map(|text| text.parse::<Repeat>().map_err(|e| invalid(e.to_string())))
        .transpose()?;
    let ping_kind: String = row.try_get("ping_kind")?;
    let ping_role: Option<i64> = row.try_get("ping_role")?;
    let ping = match (ping_kind.as_str(), ping_role) {
        ("none", _) => Ping::None,
        ("everyone", _) => Ping::Everyone,
        ("role", Some(role)) => Ping::Role(id_from_db(role)),
        (other, _) => return Err(invalid(format!("ping {other:?}"))),
    };
    let status: String = row.try_get("status")?;
    Ok(StoredAnnouncement {
        announcement: Announcement {
            id: AnnouncementId(row.try_get("id")?),
            channel: id_from_db(row.try_get("channel_id")?),
            text: row.try_get("text")?,
            ping,
            first: row.try_get("first_at")?,
            repeat,
            zone,
        },
        conference_id: row.try_get("conference_id")?,
        guild_id: id_from_db(row.try_get("guild_id")?),
        created_by: id_from_db(row.try_get("created_by")?),
        status: Status::parse(&status)?,
    })
}

/// Stores a draft; it is posted only after [`schedule`].
pub async fn create_draft(
    db: impl PgExecutor<'_>,
    new: &NewAnnouncement<'_>,
) -> Result<AnnouncementId, StoreError> {
    let (ping_kind, ping_role) = ping_to_db(new.ping);
    let id = sqlx::query_scalar(
        "INSERT INTO announcements (conference_id, guild_id, created_by, channel_id, text,
                                    first_at, repeat, time_zone, ping_kind, ping_role)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(new.conference_id)
    .bind(id_to_db(new.guild_id))
    .bind(id_to_db(new.created_by))
    .bind(id_to_db(new.channel))
    .bind(new.text)
    .bind(new.first)
    .bind(new.repeat.map(Repeat::expression))
    .bind(new.zone.name())
    .bind(ping_kind)
    .bind(ping_role)
    .fetch_one(db)
    .await?;
    Ok(AnnouncementId(id))
}

/// The guild's announcement `id`, whatever its status; `None` if it is another guild's.
pub async fn get(
    db: impl PgExecutor<'_>,
    guild_id: u64,
    id: AnnouncementId,
) -> Result<Option<StoredAnnouncement>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM announcements WHERE id = $1 AND guild_id = $2"
    ))
    .bind(id.0)
    .bind(id_to_db(guild_id))
    .fetch_optional(db)
    .await?;
    row.as_ref().map(row_to_announcement).transpose()
}

/// Replaces the text of the guild's draft or scheduled announcement. Returns whether there
/// was one to change.
pub async fn set_text(
    db: impl PgExecutor<'_>,
    guild_id: u64,
    id: AnnouncementId,
    text: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE announcements SET text = $3, updated_at = now()
         WHERE id = $1 AND guild_id = $2 AND status IN ('draft', 'scheduled')",
    )
    .bind(id.0)
    .bind(id_to_db(guild_id))
    .bind(text)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Confirms the guild's draft (with its text): from now on it is planned. Returns whether
/// a draft was confirmed (`false`: gone, another guild's, already confirmed or cancelled;
/// a second click on Confirm changes nothing).
pub async fn schedule(
    db: impl PgExecutor<'_>,
    guild_id: u64,
    id: AnnouncementId,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE announcements SET status = 'scheduled', updated_at = now()
         WHERE id = $1 AND guild_id = $2 AND status = 'draft' AND text <> ''",
    )
    .bind(id.0)
    .bind(id_to_db(guild_id))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels the guild's draft or scheduled announcement; its pending posts are retired by
/// the next replan (which the change triggers). Returns whether there was one.
pub async fn cancel(
    db: impl PgExecutor<'_>,
    guild_id: u64,
    id: AnnouncementId,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE announcements SET status = 'cancelled', updated_at = now()
         WHERE id = $1 AND guild_id = $2 AND status IN ('draft', 'scheduled')",
    )
    .bind(id.0)
    .bind(id_to_db(guild_id))
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The guild's scheduled announcements, oldest first (for `/announcements`).
pub async fn scheduled_in_guild(
    db: impl PgExecutor<'_>,
    guild_id: u64,
) -> Result<Vec<StoredAnnouncement>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM announcements WHERE guild_id = $1 AND status = 'scheduled'
         ORDER BY first_at, id"
    ))
    .bind(id_to_db(guild_id))
    .fetch_all(db)
    .await?;
    rows.iter().map(row_to_announcement).collect()
}

/// The conference's scheduled announcements: the planner's input.
pub async fn scheduled(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Vec<Announcement>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM announcements WHERE conference_id = $1 AND status = 'scheduled'
         ORDER BY id"
    ))
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| row_to_announcement(row).map(|stored| stored.announcement))
        .collect()
}
