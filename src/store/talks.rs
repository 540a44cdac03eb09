//! Talks, their speakers, rooms and tracks: loading a conference's programme and writing an
//! import plan in bulk (arrays bound with `UNNEST`, one statement per table and thousand
//! talks, so ten thousand talks cost a few dozen round trips).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::domain::diff::{settle, Digest, Settled, StoredKey};
use crate::domain::model::{ImportedSchedule, SharedTexts, Slot, StoredTalk, TalkData, TalkId};
use crate::store::StoreError;

mod speakers;
mod write;

pub use write::{apply, record_digests, reserve_ids, NewIds};

/// Reserves `count` ids of `table` (`talks` or `speakers`) up front, so that the rows can be
/// written by `COPY` with their ids, the diff can name new talks, and links can be written
/// without relying on the order of `RETURNING` rows.
async fn allocate_ids(
    conn: &mut PgConnection,
    table: &'static str,
    count: usize,
) -> Result<Vec<i64>, StoreError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let count =
        i64::try_from(count).map_err(|_| StoreError::Invalid(format!("too many {table}")))?;
    // The sequence is looked up once, as an InitPlan: written inline, the catalogue lookup ran
    // for every id and took two thirds of the statement (BENCHMARKS.md, "The id reservation").
    let ids = sqlx::query_scalar(
        "SELECT nextval((SELECT pg_get_serial_sequence($2, 'id'))::regclass)
         FROM generate_series(1, $1)",
    )
    .bind(count)
    .bind(table)
    .fetch_all(conn)
    .await?;
    Ok(ids)
}

/// What a re-import reads of every stored talk before deciding which to load in full (see
/// [`crate::domain::diff::settle`]).
pub async fn load_keys(
    conn: &mut PgConnection,
    conference_id: i64,
) -> Result<Vec<StoredKey>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, source_id, title, source_digest, status, starts_at IS NOT NULL AS scheduled
         FROM talks WHERE conference_id = $1",
    )
    .bind(conference_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let digest: Option<Vec<u8>> = r.try_get("source_digest")?;
            let status: String = r.try_get("status")?;
            Ok(StoredKey {
                id: TalkId(r.try_get("id")?),
                source_id: r.try_get("source_id")?,
                title: r.try_get("title")?,
                // A digest of another length is no digest of ours: compare in full.
                digest: digest.and_then(|d| Digest::try_from(d.as_slice()).ok()),
                status: status.parse().map_err(StoreError::Invalid)?,
                scheduled: r.try_get("scheduled")?,
            })
        })
        .collect()
}

/// Every talk of a conference with its speakers, ordered by start (unscheduled last), then id.
pub async fn load(
    conn: &mut PgConnection,
    conference_id: i64,
) -> Result<Vec<StoredTalk>, StoreError> {
    load_rows(conn, conference_id, None).await
}

/// The talks `ids` of a conference, as [`load`] reads them.
pub async fn load_only(
    conn: &mut PgConnection,
    conference_id: i64,
    ids: &[i64],
) -> Result<Vec<StoredTalk>, StoreError> {
    load_rows(conn, conference_id, Some(ids)).await
}

/// What an import compares against.
pub struct Comparison {
    /// Every stored talk's key.
    pub keys: Vec<StoredKey>,
    /// The imported entries whose rows are settled.
    pub settled: Settled,
    /// The stored talks to compare in full: every one but the settled rows.
    pub stored: Vec<StoredTalk>,
}

/// Reads what an import of `imported` compares against: every talk's key, then in full the
/// talks no entry is settled on.
pub async fn load_for_import(
    conn: &mut PgConnection,
    conference_id: i64,
    imported: &ImportedSchedule,
) -> Result<Comparison, StoreError> {
    let keys = load_keys(conn, conference_id).await?;
    let settled = settle(&keys, imported);
    let stored = load_unsettled(conn, conference_id, &keys, &settled).await?;
    Ok(Comparison {
        keys,
        settled,
        stored,
    })
}

/// The stored talks the plan must compare: all of them, or all but the settled ones.
async fn load_unsettled(
    conn: &mut PgConnection,
    conference_id: i64,
    keys: &[StoredKey],
    settled: &Settled,
) -> Result<Vec<StoredTalk>, StoreError> {
    if settled.ids.is_empty() {
        return load(conn, conference_id).await;
    }
    let skip: HashSet<TalkId> = settled.ids.iter().copied().collect();
    let wanted: Vec<i64> = keys
        .iter()
        .filter(|k| !skip.contains(&k.id))
        .map(|k| k.id.0)
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    load_only(conn, conference_id, &wanted).await
}

async fn load_rows(
    conn: &mut PgConnection,
    conference_id: i64,
    only: Option<&[i64]>,
) -> Result<Vec<StoredTalk>, StoreError> {
    const COLUMNS: &str = "SELECT t.id, t.source_id, t.title, t.subtitle, t.abstract,
                t.description, tr.name AS track, t.level, t.talk_type, t.language,
                r.name AS room, t.starts_at, t.ends_at, t.all_day, t.status, t.kind, t.url,
                t.schedule_version
         FROM talks t
         LEFT JOIN rooms r ON r.id = t.room_id
         LEFT JOIN tracks tr ON tr.id = t.track_id";
    const ORDER: &str = "ORDER BY t.starts_at NULLS LAST, t.id";
    let rows = match only {
        None => {
            sqlx::query(&format!("{COLUMNS} WHERE t.conference_id = $1 {ORDER}"))
                .bind(conference_id)
                .fetch_all(&mut *conn)
                .await?
        }
        Some(ids) => {
            sqlx::query(&format!(
                "{COLUMNS} WHERE t.conference_id = $1 AND t.id = ANY($2) {ORDER}"
            ))
            .bind(conference_id)
            .bind(ids)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut speakers = speakers::load(conn, conference_id, only).await?;
    let mut shared = SharedTexts::default();
    let mut label = |r: &PgRow, column: &str| -> Result<Option<Arc<str>>, sqlx::Error> {
        let text: Option<&str> = r.try_get(column)?;
        Ok(text.map(|text| shared.share_str(text)))
    };
    let mut talks = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let starts_at: Option<DateTime<Utc>> = r.try_get("starts_at")?;
            let ends_at: Option<DateTime<Utc>> = r.try_get("ends_at")?;
            let all_day: bool = r.try_get("all_day")?;
            let status: String = r.try_get("status")?;
            let kind: String = r.try_get("kind")?;
            Ok(StoredTalk {
                id: TalkId(id),
                schedule_version: r.try_get("schedule_version")?,
                data: TalkData {
                    source_id: None,
                    title: r.try_get("title")?,
                    subtitle: r.try_get("subtitle")?,
                    abstract_text: None,
                    description: None,
                    speakers: speakers.remove(&id).unwrap_or_default(),
                    track: label(r, "track")?,
                    level: label(r, "level")?,
                    talk_type: None,
                    language: None,
                    room: label(r, "room")?,
                    slot: starts_at.zip(ends_at).map(|(start, end)| Slot {
                        start,
                        end,
                        all_day,
                    }),
                    status: status.parse().map_err(StoreError::Invalid)?,
                    kind: kind.parse().map_err(StoreError::Invalid)?,
                    url: r.try_get("url")?,
                },
            })
        })
        .collect::<Result<Vec<StoredTalk>, StoreError>>()?;
    // The fields a programme snapshot takes out of the talks (`domain::programme::texts`:
    // the long texts and the ones no command reads) are decoded last, so they lie together
    // on the heap: freed in one stretch they give whole pages back to the system, where
    // freed between each talk's other strings they left resident holes (5 MB for 10,000
    // talks, BENCHMARKS.md). The type and language are shared labels: a handful of texts,
    // wherever they are decoded.
    for (talk, r) in talks.iter_mut().zip(&rows) {
        let d = &mut talk.data;
        d.source_id = r.try_get("source_id")?;
        d.talk_type = label(r, "talk_type")?;
        d.language = label(r, "language")?;
        d.abstract_text = r.try_get("abstract")?;
        d.description = r.try_get("description")?;
    }
    Ok(talks)
}
