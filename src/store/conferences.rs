//! Conferences and their programme days.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::{PgConnection, Row};

use crate::domain::model::{Conference, ConferenceSlug, ProgrammeDay};
use crate::store::StoreError;

/// A stored conference with its database id.
#[derive(Debug, Clone, PartialEq)]
pub struct ConferenceRow {
    pub id: i64,
    pub conference: Conference,
}

/// A conference with counts, for listings.
#[derive(Debug, Clone, PartialEq)]
pub struct ConferenceSummary {
    pub conference: Conference,
    pub talks: i64,
    pub cancelled: i64,
    pub first_start: Option<DateTime<Utc>>,
    pub last_end: Option<DateTime<Utc>>,
    pub last_import: Option<DateTime<Utc>>,
}

/// What an import says about its conference. `None` keeps what is stored.
#[derive(Debug, Clone)]
pub struct ConferenceUpsert<'a> {
    pub slug: &'a ConferenceSlug,
    pub name: Option<&'a str>,
    pub time_zone: Option<Tz>,
    /// Used only when the conference is created and no zone is stated.
    pub default_time_zone: Tz,
    pub source_url: Option<&'a str>,
}

fn row_to_conference(row: &sqlx::postgres::PgRow) -> Result<ConferenceRow, StoreError> {
    let slug: String = row.try_get("slug")?;
    let zone: String = row.try_get("time_zone")?;
    Ok(ConferenceRow {
        id: row.try_get("id")?,
        conference: Conference {
            slug: ConferenceSlug::parse(&slug)
                .map_err(|e| StoreError::Invalid(format!("stored conference: {e}")))?,
            name: row.try_get("name")?,
            time_zone: zone.parse().map_err(|_| {
                StoreError::Invalid(format!("conference {slug} has unknown zone {zone:?}"))
            })?,
            source_url: row.try_get("source_url")?,
        },
    })
}

/// Looks a conference up by slug.
pub async fn find(
    conn: &mut PgConnection,
    slug: &ConferenceSlug,
) -> Result<Option<ConferenceRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, slug, name, time_zone, source_url FROM conferences WHERE slug = $1",
    )
    .bind(slug.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(row_to_conference).transpose()
}

/// Creates the conference or updates what the import states, and locks its row until the
/// transaction ends, so two imports of one conference run one after the other.
pub async fn upsert_and_lock(
    conn: &mut PgConnection,
    upsert: &ConferenceUpsert<'_>,
) -> Result<ConferenceRow, StoreError> {
    let row = sqlx::query(
        "INSERT INTO conferences (slug, name, time_zone, source_url)
         VALUES ($1, COALESCE($2, $1), COALESCE($3, $4), $5)
         ON CONFLICT (slug) DO UPDATE SET
             name = COALESCE($2, conferences.name),
             time_zone = COALESCE($3, conferences.time_zone),
             source_url = COALESCE($5, conferences.source_url),
             updated_at = now()
         RETURNING id, slug, name, time_zone, source_url",
    )
    .bind(upsert.slug.as_str())
    .bind(upsert.name)
    .bind(upsert.time_zone.map(|z| z.name()))
    .bind(upsert.default_time_zone.name())
    .bind(upsert.source_url)
    .fetch_one(conn)
    .await?;
    row_to_conference(&row)
}

/// Replaces the programme days (the source's day boundaries).
pub async fn replace_days(
    conn: &mut PgConnection,
    conference_id: i64,
    days: &[ProgrammeDay],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM programme_days WHERE conference_id = $1")
        .bind(conference_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO programme_days (conference_id, day, starts_at, ends_at)
         SELECT $1, d.day, d.starts_at, d.ends_at
         FROM UNNEST($2::date[], $3::timestamptz[], $4::timestamptz[]) AS d(day, starts_at, ends_at)
         WHERE d.ends_at > d.starts_at
         ON CONFLICT (conference_id, day) DO NOTHING",
    )
    .bind(conference_id)
    .bind(days.iter().map(|d| d.date).collect::<Vec<_>>())
    .bind(days.iter().map(|d| d.start).collect::<Vec<_>>())
    .bind(days.iter().map(|d| d.end).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// The programme days of a conference, in order.
pub async fn days(
    conn: &mut PgConnection,
    conference_id: i64,
) -> Result<Vec<ProgrammeDay>, StoreError> {
    let rows = sqlx::query(
        "SELECT day, starts_at, ends_at FROM programme_days
         WHERE conference_id = $1 ORDER BY day",
    )
    .bind(conference_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ProgrammeDay {
                date: r.try_get("day")?,
                start: r.try_get("starts_at")?,
                end: r.try_get("ends_at")?,
            })
        })
        .collect()
}

/// Every stored conference, by id.
pub async fn all(conn: &mut PgConnection) -> Result<Vec<ConferenceRow>, StoreError> {
    let rows =
        sqlx::query("SELECT id, slug, name, time_zone, source_url FROM conferences ORDER BY id")
            .fetch_all(conn)
            .await?;
    rows.iter().map(row_to_conference).collect()
}

/// Locks the conference's row until the transaction ends (imports take the same lock, so a
/// planner holding it plans against a programme no import is changing) and returns its
/// programme version: the latest import's id, 0 before the first (see
/// `store::programme::version`). `None` when the conference is gone.
pub async fn lock_and_version(
    conn: &mut PgConnection,
    conference_id: i64,
) -> Result<Option<i64>, StoreError> {
    let locked: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM conferences WHERE id = $1 FOR UPDATE")
            .bind(conference_id)
            .fetch_optional(&mut *conn)
            .await?;
    if locked.is_none() {
        return Ok(None);
    }
    // A statement of its own, after the lock is held: in READ COMMITTED a statement's
    // snapshot is taken when it starts, so a version read by the locking statement itself
    // would miss an import that committed while this waited for its lock (and the planner
    // would then plan the new import's notices against the old programme).
    let version: Option<i64> =
        sqlx::query_scalar("SELECT max(id) FROM imports WHERE conference_id = $1")
            .bind(conference_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Some(version.unwrap_or(0)))
}

/// Every conference with talk counts and its time span.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<ConferenceSummary>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.id, c.slug, c.name, c.time_zone, c.source_url,
                count(t.id) AS talks,
                count(t.id) FILTER (WHERE t.status = 'cancelled') AS cancelled,
                min(t.starts_at) AS first_start,
                max(t.ends_at) AS last_end,
                (SELECT max(i.imported_at) FROM imports i WHERE i.conference_id = c.id)
                    AS last_import
         FROM conferences c LEFT JOIN talks t ON t.conference_id = c.id
         GROUP BY c.id ORDER BY c.slug",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ConferenceSummary {
                conference: row_to_conference(r)?.conference,
                talks: r.try_get("talks")?,
                cancelled: r.try_get("cancelled")?,
                first_start: r.try_get("first_start")?,
                last_end: r.try_get("last_end")?,
                last_import: r.try_get("last_import")?,
            })
        })
        .collect()
}

/// The HTTP validators (ETag, Last-Modified) of the conference's last fetch of `url`; none
/// when the conference does not exist or its source is another URL.
pub async fn source_validators(
    pool: &sqlx::PgPool,
    slug: &ConferenceSlug,
    url: &str,
) -> Result<(Option<String>, Option<String>), StoreError> {
    let row = sqlx::query(
        "SELECT source_etag, source_last_modified FROM conferences
         WHERE slug = $1 AND source_url = $2",
    )
    .bind(slug.as_str())
    .bind(url)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(r) => Ok((
            r.try_get("source_etag")?,
            r.try_get("source_last_modified")?,
        )),
        None => Ok((None, None)),
    }
}

/// Remembers the validators of a successful fetch of the conference's source.
pub async fn set_source_validators(
    pool: &sqlx::PgPool,
    slug: &ConferenceSlug,
    url: &str,
    etag: Option<String>,
    last_modified: Option<String>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conferences SET source_etag = $3, source_last_modified = $4
         WHERE slug = $1 AND source_url = $2",
    )
    .bind(slug.as_str())
    .bind(url)
    .bind(etag)
    .bind(last_modified)
    .execute(pool)
    .await?;
    Ok(())
}
