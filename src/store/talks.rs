//! Talks, their speakers, rooms and tracks: loading a conference's programme and writing an
//! import plan in bulk (arrays bound with `UNNEST`, one statement per table and thousand
//! talks, so ten thousand talks cost a few dozen round trips).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use crate::domain::model::{Slot, SpeakerData, StoredTalk, TalkData, TalkId};
use crate::store::StoreError;

mod write;

pub use write::apply;

/// Every talk of a conference with its speakers, ordered by start (unscheduled last), then id.
pub async fn load(
    conn: &mut PgConnection,
    conference_id: i64,
) -> Result<Vec<StoredTalk>, StoreError> {
    let rows = sqlx::query(
        "SELECT t.id, t.source_id, t.title, t.subtitle, t.abstract, t.description,
                tr.name AS track, t.level, t.talk_type, t.language, r.name AS room,
                t.starts_at, t.ends_at, t.all_day, t.status, t.kind, t.url, t.schedule_version
         FROM talks t
         LEFT JOIN rooms r ON r.id = t.room_id
         LEFT JOIN tracks tr ON tr.id = t.track_id
         WHERE t.conference_id = $1
         ORDER BY t.starts_at NULLS LAST, t.id",
    )
    .bind(conference_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut speakers = load_speakers(conn, conference_id).await?;
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
                    track: r.try_get("track")?,
                    level: r.try_get("level")?,
                    talk_type: None,
                    language: None,
                    room: r.try_get("room")?,
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
    // talks, BENCHMARKS.md).
    for (talk, r) in talks.iter_mut().zip(&rows) {
        let d = &mut talk.data;
        d.source_id = r.try_get("source_id")?;
        d.talk_type = r.try_get("talk_type")?;
        d.language = r.try_get("language")?;
        d.abstract_text = r.try_get("abstract")?;
        d.description = r.try_get("description")?;
    }
    Ok(talks)
}

async fn load_speakers(
    conn: &mut PgConnection,
    conference_id: i64,
) -> Result<HashMap<i64, Vec<SpeakerData>>, StoreError> {
    let rows = sqlx::query(
        "SELECT ts.talk_id, s.name, s.source_id, s.biography
         FROM talk_speakers ts
         JOIN speakers s ON s.id = ts.speaker_id
         WHERE s.conference_id = $1
         ORDER BY ts.talk_id, ts.position",
    )
    .bind(conference_id)
    .fetch_all(conn)
    .await?;
    let mut by_talk: HashMap<i64, Vec<SpeakerData>> = HashMap::new();
    for r in &rows {
        by_talk
            .entry(r.try_get("talk_id")?)
            .or_default()
            .push(SpeakerData {
                name: r.try_get("name")?,
                source_id: None,
                biography: None,
            });
    }
    // Biographies and source ids last, for the same reason as the talks' long texts (see
    // `load`). The rows come grouped by talk in position order, so the n-th row of a talk
    // is its n-th speaker.
    let mut previous: Option<(i64, usize)> = None;
    for r in &rows {
        let talk: i64 = r.try_get("talk_id")?;
        let position = match previous {
            Some((t, p)) if t == talk => p + 1,
            _ => 0,
        };
        previous = Some((talk, position));
        if let Some(speaker) = by_talk.get_mut(&talk).and_then(|s| s.get_mut(position)) {
            speaker.source_id = r.try_get("source_id")?;
            speaker.biography = r.try_get("biography")?;
        }
    }
    Ok(by_talk)
}
