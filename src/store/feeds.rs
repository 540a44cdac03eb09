//! Private calendar feeds (`calendar_feeds`): one token per person and conference, looked
//! up by its hash, and the digest of what the feed last served with when that changed.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool, Row};

use super::{id_from_db, id_to_db, StoreError};
use crate::domain::feeds::FeedToken;

/// A feed a request's token found.
#[derive(Debug, Clone)]
pub struct Feed {
    pub conference_id: i64,
    pub slug: String,
    pub user: u64,
    /// The stored token, for the constant-time check against the one presented.
    pub token: FeedToken,
    /// The digest of the content last served, and since when it is served.
    pub served: Option<(Vec<u8>, DateTime<Utc>)>,
}

/// The feed whose token hashes to `key`, if any.
pub async fn find(pool: &PgPool, key: &[u8; 32]) -> Result<Option<Feed>, StoreError> {
    let row = sqlx::query(
        "SELECT f.conference_id, c.slug, f.user_id, f.token, f.digest, f.changed_at
           FROM calendar_feeds f JOIN conferences c ON c.id = f.conference_id
          WHERE f.token_hash = $1",
    )
    .bind(key.as_slice())
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let token: String = row.try_get("token")?;
    let Some(token) = FeedToken::parse(&token) else {
        return Err(StoreError::Invalid(
            "a stored calendar token is malformed".to_owned(),
        ));
    };
    let digest: Option<Vec<u8>> = row.try_get("digest")?;
    let changed_at: Option<DateTime<Utc>> = row.try_get("changed_at")?;
    Ok(Some(Feed {
        conference_id: row.try_get("conference_id")?,
        slug: row.try_get("slug")?,
        user: id_from_db(row.try_get("user_id")?),
        token,
        served: digest.zip(changed_at),
    }))
}

/// `user`'s token in the conference: the existing one, or `fresh` recorded (made in
/// `guild`, `None` in a DM) when they have none yet.
pub async fn token_of(
    pool: &PgPool,
    conference_id: i64,
    user: u64,
    guild: Option<u64>,
    fresh: &FeedToken,
    now: DateTime<Utc>,
) -> Result<FeedToken, StoreError> {
    // DO UPDATE of nothing so that RETURNING gives the row that won either way.
    let keep = "SET token = calendar_feeds.token";
    upsert(pool, (conference_id, user, guild), fresh, now, keep).await
}

/// Replaces `user`'s token in the conference with `fresh` (the old link stops working at
/// once), or records it when they had none; returns it.
pub async fn reset(
    pool: &PgPool,
    conference_id: i64,
    user: u64,
    guild: Option<u64>,
    fresh: &FeedToken,
    now: DateTime<Utc>,
) -> Result<FeedToken, StoreError> {
    let replace = "SET token = EXCLUDED.token, token_hash = EXCLUDED.token_hash, \
                   guild_id = EXCLUDED.guild_id, created_at = EXCLUDED.created_at";
    upsert(pool, (conference_id, user, guild), fresh, now, replace).await
}

/// Inserts `fresh` for (conference, user, guild), or `update`s the existing row; returns
/// the token the row holds afterwards.
async fn upsert(
    pool: &PgPool,
    (conference_id, user, guild): (i64, u64, Option<u64>),
    fresh: &FeedToken,
    now: DateTime<Utc>,
    update: &str,
) -> Result<FeedToken, StoreError> {
    let token: String = sqlx::query_scalar(&format!(
        "INSERT INTO calendar_feeds (conference_id, user_id, guild_id, token, token_hash,
                                     created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (conference_id, user_id) DO UPDATE {update}
         RETURNING token"
    ))
    .bind(conference_id)
    .bind(id_to_db(user))
    .bind(guild.map(id_to_db))
    .bind(fresh.as_str())
    .bind(fresh.lookup_key().as_slice())
    .bind(now)
    .fetch_one(pool)
    .await?;
    FeedToken::parse(&token)
        .ok_or_else(|| StoreError::Invalid("a stored calendar token is malformed".to_owned()))
}

/// Records that the feed of `token_key` now serves `digest`, first at `now`; returns since
/// when it serves it (an earlier instant when a concurrent request recorded it first).
pub async fn served(
    pool: &PgPool,
    key: &[u8; 32],
    digest: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, StoreError> {
    let changed: Option<DateTime<Utc>> = sqlx::query_scalar(
        "UPDATE calendar_feeds SET digest = $2, changed_at = $3
          WHERE token_hash = $1 AND digest IS DISTINCT FROM $2
          RETURNING changed_at",
    )
    .bind(key.as_slice())
    .bind(digest.as_slice())
    .bind(now)
    .fetch_optional(pool)
    .await?;
    if let Some(changed) = changed {
        return Ok(changed);
    }
    let since: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT changed_at FROM calendar_feeds WHERE token_hash = $1")
            .bind(key.as_slice())
            .fetch_optional(pool)
            .await?
            .flatten();
    // Reset meanwhile: the content is still what it is; stamp it now.
    Ok(since.unwrap_or(now))
}

/// Deletes `user`'s feeds: made in `guild` or of `conference` (`guild` `None`: all of them).
pub(super) async fn forget(
    db: impl PgExecutor<'_>,
    user: i64,
    guild: Option<i64>,
    conference: Option<i64>,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "DELETE FROM calendar_feeds WHERE user_id = $1
           AND ($2::bigint IS NULL OR guild_id = $2 OR conference_id = $3)",
    )
    .bind(user)
    .bind(guild)
    .bind(conference)
    .execute(db)
    .await?
    .rows_affected())
}

/// A conference whose organisers made its pages public (`/setup web public:on` in a server
/// following it): its id, and the latest import's id and time (0 and `None` before any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicConference {
    pub conference_id: i64,
    pub version: i64,
    pub imported_at: Option<DateTime<Utc>>,
}

/// The conference `slug` if its pages are public; `None` otherwise, and when there is no
/// such conference (the two are not told apart).
pub async fn public(pool: &PgPool, slug: &str) -> Result<Option<PublicConference>, StoreError> {
    let row: Option<(i64, Option<i64>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT c.id, i.id, i.imported_at
           FROM conferences c
           LEFT JOIN LATERAL (SELECT id, imported_at FROM imports
                               WHERE conference_id = c.id ORDER BY id DESC LIMIT 1) i ON true
          WHERE c.slug = $1
            AND EXISTS (SELECT 1 FROM guild_settings g
                         WHERE g.conference_slug = c.slug AND g.web_public)",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(conference_id, version, imported_at)| PublicConference {
            conference_id,
            version: version.unwrap_or(0),
            imported_at,
        }),
    )
}
