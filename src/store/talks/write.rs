//! Writing an import plan in bulk: arrays bound with `UNNEST`, one statement per table and
//! chunk of [`CHUNK`] talks.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};

use crate::domain::diff::ImportPlan;
use crate::domain::model::{SpeakerData, TalkData};
use crate::domain::text::{name_key, title_key};
use crate::store::StoreError;

/// Writes an import plan. Must run inside the import's transaction. Fills in the ids of added
/// talks in `plan.diff.added`.
pub async fn apply(
    conn: &mut PgConnection,
    conference_id: i64,
    plan: &mut ImportPlan,
    stated_speakers: &[SpeakerData],
) -> Result<(), StoreError> {
    let written: Vec<&TalkData> = plan
        .inserts
        .iter()
        .chain(plan.updates.iter().map(|u| &u.data))
        .collect();
    if written.is_empty() {
        return Ok(());
    }
    let rooms = upsert_names(
        conn,
        "rooms",
        conference_id,
        written.iter().filter_map(|t| t.room.as_deref()),
    )
    .await?;
    let tracks = upsert_names(
        conn,
        "tracks",
        conference_id,
        written.iter().filter_map(|t| t.track.as_deref()),
    )
    .await?;
    let speaker_ids = upsert_speakers(conn, conference_id, &written, stated_speakers).await?;

    let new_ids = allocate_ids(conn, plan.inserts.len()).await?;
    for (entry, id) in plan.diff.added.iter_mut().zip(&new_ids) {
        entry.talk_id = Some(*id);
    }
    let inserted: Vec<(i64, &TalkData)> =
        new_ids.iter().copied().zip(plan.inserts.iter()).collect();
    write_talks(
        conn,
        conference_id,
        &inserted,
        &rooms,
        &tracks,
        Write::Insert,
    )
    .await?;
    let updated: Vec<(i64, &TalkData)> = plan.updates.iter().map(|u| (u.id.0, &u.data)).collect();
    write_talks(
        conn,
        conference_id,
        &updated,
        &rooms,
        &tracks,
        Write::Update,
    )
    .await?;
    let rescheduled: Vec<i64> = plan
        .updates
        .iter()
        .filter(|u| u.reschedules)
        .map(|u| u.id.0)
        .collect();
    if !rescheduled.is_empty() {
        sqlx::query("UPDATE talks SET schedule_version = schedule_version + 1 WHERE id = ANY($1)")
            .bind(&rescheduled)
            .execute(&mut *conn)
            .await?;
    }

    // New ids come from the sequence, so new talks have no links to replace.
    link_speakers(conn, &inserted, &speaker_ids, Links::New).await?;
    let relinked: Vec<(i64, &TalkData)> = plan
        .updates
        .iter()
        .filter(|u| u.speakers_changed)
        .map(|u| (u.id.0, &u.data))
        .collect();
    link_speakers(conn, &relinked, &speaker_ids, Links::Replace).await
}

/// Inserts missing names into `rooms` or `tracks` and returns name -> id for the conference.
async fn upsert_names<'a>(
    conn: &mut PgConnection,
    table: &'static str,
    conference_id: i64,
    names: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, i64>, StoreError> {
    let mut names: Vec<&str> = names.collect();
    names.sort_unstable();
    names.dedup();
    // `table` is one of two constants, never input.
    sqlx::query(&format!(
        "INSERT INTO {table} (conference_id, name) SELECT $1, n FROM UNNEST($2::text[]) AS n
         ON CONFLICT (conference_id, name) DO NOTHING"
    ))
    .bind(conference_id)
    .bind(&names)
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query(&format!(
        "SELECT id, name FROM {table} WHERE conference_id = $1"
    ))
    .bind(conference_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("name")?, r.try_get("id")?)))
        .collect()
}

/// Upserts the speakers of the written talks; what the import itself states about a person
/// (`stated`) wins over what the merged talk data carried over. Returns name key -> id.
async fn upsert_speakers(
    conn: &mut PgConnection,
    conference_id: i64,
    written: &[&TalkData],
    stated: &[SpeakerData],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut people: HashMap<String, SpeakerData> = HashMap::new();
    for speaker in written.iter().flat_map(|t| t.speakers.iter()) {
        people
            .entry(name_key(&speaker.name))
            .or_insert_with(|| speaker.clone());
    }
    for speaker in stated {
        if let Some(person) = people.get_mut(&name_key(&speaker.name)) {
            if speaker.biography.is_some() {
                person.biography.clone_from(&speaker.biography);
            }
            if speaker.source_id.is_some() {
                person.source_id.clone_from(&speaker.source_id);
            }
        }
    }
    let (keys, people): (Vec<String>, Vec<SpeakerData>) = people.into_iter().unzip();
    sqlx::query(
        "INSERT INTO speakers (conference_id, name_key, name, source_id, biography)
         SELECT $1, p.name_key, p.name, p.source_id, p.biography
         FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[])
              AS p(name_key, name, source_id, biography)
         ON CONFLICT (conference_id, name_key) DO UPDATE SET
             name = EXCLUDED.name,
             source_id = COALESCE(EXCLUDED.source_id, speakers.source_id),
             biography = COALESCE(EXCLUDED.biography, speakers.biography)
         WHERE (speakers.name, speakers.source_id, speakers.biography)
               IS DISTINCT FROM (EXCLUDED.name,
                                 COALESCE(EXCLUDED.source_id, speakers.source_id),
                                 COALESCE(EXCLUDED.biography, speakers.biography))",
    )
    .bind(conference_id)
    .bind(&keys)
    .bind(people.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
    .bind(
        people
            .iter()
            .map(|p| p.source_id.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(
        people
            .iter()
            .map(|p| p.biography.as_deref())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT id, name_key FROM speakers WHERE conference_id = $1 AND name_key = ANY($2)",
    )
    .bind(conference_id)
    .bind(&keys)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("name_key")?, r.try_get("id")?)))
        .collect()
}

/// Reserves ids for new talks up front, so the diff can name them and links can be written
/// without relying on the order of `RETURNING` rows.
async fn allocate_ids(conn: &mut PgConnection, count: usize) -> Result<Vec<i64>, StoreError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(count).map_err(|_| StoreError::Invalid("too many talks".into()))?;
    let ids = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('talks', 'id')) FROM generate_series(1, $1)",
    )
    .bind(count)
    .fetch_all(conn)
    .await?;
    Ok(ids)
}

/// Talks per `INSERT`/`UPDATE` statement. One statement for 10,000 talks needs a 25 MB bind
/// message on top of the schedule itself (the import's heap peak); chunks of 1,000 keep it
/// near 2.5 MB for ten round trips within the same transaction.
const CHUNK: usize = 1_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    Insert,
    Update,
}

/// Inserts or updates talks from parallel arrays, [`CHUNK`] talks per statement.
async fn write_talks(
    conn: &mut PgConnection,
    conference_id: i64,
    talks: &[(i64, &TalkData)],
    rooms: &HashMap<String, i64>,
    tracks: &HashMap<String, i64>,
    mode: Write,
) -> Result<(), StoreError> {
    for chunk in talks.chunks(CHUNK) {
        write_talk_chunk(conn, conference_id, chunk, rooms, tracks, mode).await?;
    }
    Ok(())
}

/// One column of `talks` as an array for `UNNEST`, borrowing text where it can.
fn column<'a, T>(talks: &[(i64, &'a TalkData)], field: impl Fn(&'a TalkData) -> T) -> Vec<T> {
    talks.iter().map(|(_, t)| field(t)).collect()
}

/// One `INSERT` or `UPDATE` statement for a chunk of talks.
async fn write_talk_chunk(
    conn: &mut PgConnection,
    conference_id: i64,
    talks: &[(i64, &TalkData)],
    rooms: &HashMap<String, i64>,
    tracks: &HashMap<String, i64>,
    mode: Write,
) -> Result<(), StoreError> {
    let lookup =
        |names: &HashMap<String, i64>, name: Option<&str>| name.and_then(|n| names.get(n).copied());
    let columns = "id, source_id, title_key, title, subtitle, abstract, description, track_id,
                   level, talk_type, language, room_id, starts_at, ends_at, all_day, status,
                   kind, url";
    let unnest = "UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[],
                         $12::text[], $13::bigint[], $14::timestamptz[], $15::timestamptz[],
                         $16::bool[], $17::text[], $18::text[], $19::text[])";
    let sql = match mode {
        Write::Insert => format!(
            "INSERT INTO talks (conference_id, {columns}) OVERRIDING SYSTEM VALUE
             SELECT $1, u.* FROM {unnest} AS u({columns})"
        ),
        Write::Update => format!(
            "UPDATE talks SET source_id = u.source_id, title_key = u.title_key,
                 title = u.title, subtitle = u.subtitle, abstract = u.abstract,
                 description = u.description, track_id = u.track_id, level = u.level,
                 talk_type = u.talk_type, language = u.language, room_id = u.room_id,
                 starts_at = u.starts_at, ends_at = u.ends_at, all_day = u.all_day,
                 status = u.status, kind = u.kind, url = u.url, updated_at = now()
             FROM {unnest} AS u({columns})
             WHERE talks.id = u.id AND talks.conference_id = $1"
        ),
    };
    sqlx::query(&sql)
        .bind(conference_id)
        .bind(talks.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(column(talks, |t| t.source_id.as_deref()))
        .bind(column(talks, |t| title_key(&t.title)))
        .bind(column(talks, |t| t.title.as_str()))
        .bind(column(talks, |t| t.subtitle.as_deref()))
        .bind(column(talks, |t| t.abstract_text.as_deref()))
        .bind(column(talks, |t| t.description.as_deref()))
        .bind(column(talks, |t| lookup(tracks, t.track.as_deref())))
        .bind(column(talks, |t| t.level.as_deref()))
        .bind(column(talks, |t| t.talk_type.as_deref()))
        .bind(column(talks, |t| t.language.as_deref()))
        .bind(column(talks, |t| lookup(rooms, t.room.as_deref())))
        .bind(column(talks, |t| t.slot.map(|s| s.start)))
        .bind(column(talks, |t| t.slot.map(|s| s.end)))
        .bind(column(talks, |t| t.slot.is_some_and(|s| s.all_day)))
        .bind(column(talks, |t| t.status.as_str()))
        .bind(column(talks, |t| t.kind.as_str()))
        .bind(column(talks, |t| t.url.as_deref()))
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the talks being linked may already have speaker links.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Links {
    /// Talks inserted by this import: nothing to delete first.
    New,
    /// Stored talks: their old links are deleted first.
    Replace,
}

/// Writes the speaker links of the given talks, keeping the source's order, [`CHUNK`]
/// talks per statement.
async fn link_speakers(
    conn: &mut PgConnection,
    talks: &[(i64, &TalkData)],
    speaker_ids: &HashMap<String, i64>,
    links: Links,
) -> Result<(), StoreError> {
    for chunk in talks.chunks(CHUNK) {
        link_speaker_chunk(conn, chunk, speaker_ids, links).await?;
    }
    Ok(())
}

/// Writes the speaker links of one chunk of talks.
async fn link_speaker_chunk(
    conn: &mut PgConnection,
    talks: &[(i64, &TalkData)],
    speaker_ids: &HashMap<String, i64>,
    links: Links,
) -> Result<(), StoreError> {
    if links == Links::Replace {
        let talk_ids: Vec<i64> = talks.iter().map(|(id, _)| *id).collect();
        sqlx::query("DELETE FROM talk_speakers WHERE talk_id = ANY($1)")
            .bind(&talk_ids)
            .execute(&mut *conn)
            .await?;
    }
    let (mut links_talk, mut links_speaker, mut links_position) =
        (Vec::new(), Vec::new(), Vec::new());
    for (talk_id, talk) in talks {
        let mut seen = Vec::new();
        for speaker in &talk.speakers {
            let Some(&speaker_id) = speaker_ids.get(&name_key(&speaker.name)) else {
                continue;
            };
            // The same person listed twice on one talk is linked once.
            if !seen.contains(&speaker_id) {
                seen.push(speaker_id);
                links_talk.push(*talk_id);
                links_speaker.push(speaker_id);
                links_position.push(i32::try_from(seen.len()).unwrap_or(i32::MAX));
            }
        }
    }
    sqlx::query(
        "INSERT INTO talk_speakers (talk_id, speaker_id, position)
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::int[])",
    )
    .bind(&links_talk)
    .bind(&links_speaker)
    .bind(&links_position)
    .execute(conn)
    .await?;
    Ok(())
}
