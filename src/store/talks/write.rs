//! Writing an import plan in bulk: new talks and their speaker links through `COPY`, changed
//! talks as arrays bound with `UNNEST`, one statement per table and chunk of [`CHUNK`] talks.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};

use crate::domain::diff::ImportPlan;
use crate::domain::model::{SpeakerData, TalkData};
use crate::domain::text::{name_key, title_key};
use crate::store::copy::CopyIn;
use crate::store::StoreError;

/// Writes an import plan. Must run inside the import's transaction. Fills in the ids of added
/// talks in `plan.diff.added`. `imported` are the talks as the source states them, whose
/// speakers' details win over what the plan carried over.
pub async fn apply(
    conn: &mut PgConnection,
    conference_id: i64,
    plan: &mut ImportPlan,
    imported: &[TalkData],
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
    let stated = imported.iter().flat_map(|t| t.speakers.iter());
    let speaker_ids = upsert_speakers(conn, conference_id, &written, stated).await?;

    let new_ids = allocate_ids(conn, plan.inserts.len()).await?;
    for (entry, id) in plan.diff.added.iter_mut().zip(&new_ids) {
        entry.talk_id = Some(*id);
    }
    let inserted: Vec<(i64, &TalkData)> =
        new_ids.iter().copied().zip(plan.inserts.iter()).collect();
    copy_talks(conn, conference_id, &inserted, &rooms, &tracks).await?;
    let updated: Vec<(i64, &TalkData)> = plan.updates.iter().map(|u| (u.id.0, &u.data)).collect();
    for chunk in updated.chunks(CHUNK) {
        update_talk_chunk(conn, conference_id, chunk, &rooms, &tracks).await?;
    }
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
    copy_links(conn, &inserted, &speaker_ids).await?;
    let relinked: Vec<(i64, &TalkData)> = plan
        .updates
        .iter()
        .filter(|u| u.speakers_changed)
        .map(|u| (u.id.0, &u.data))
        .collect();
    for chunk in relinked.chunks(CHUNK) {
        relink_chunk(conn, chunk, &speaker_ids).await?;
    }
    Ok(())
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
async fn upsert_speakers<'a>(
    conn: &mut PgConnection,
    conference_id: i64,
    written: &[&TalkData],
    stated: impl Iterator<Item = &'a SpeakerData>,
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

/// Talks per `UPDATE` statement (and speaker-link replacement). One statement for 10,000
/// talks needs a 25 MB bind message on top of the schedule itself; chunks of 1,000 keep it
/// near 2.5 MB for ten round trips within the same transaction.
const CHUNK: usize = 1_000;

/// The columns of `talks` an import writes, in the order both writers send them.
const TALK_COLUMNS: &str = "id, source_id, title_key, title, subtitle, abstract, description, \
     track_id, level, talk_type, language, room_id, starts_at, ends_at, all_day, status, kind, url";

fn lookup(names: &HashMap<String, i64>, name: Option<&str>) -> Option<i64> {
    name.and_then(|n| names.get(n).copied())
}

/// Inserts new talks with one `COPY`, their ids reserved up front.
async fn copy_talks(
    conn: &mut PgConnection,
    conference_id: i64,
    talks: &[(i64, &TalkData)],
    rooms: &HashMap<String, i64>,
    tracks: &HashMap<String, i64>,
) -> Result<(), StoreError> {
    if talks.is_empty() {
        return Ok(());
    }
    // COPY writes the given identity values as INSERT's OVERRIDING SYSTEM VALUE does.
    let statement = format!("COPY talks (conference_id, {TALK_COLUMNS}) FROM STDIN");
    let mut copy = CopyIn::start(conn, &statement).await?;
    for (id, t) in talks {
        copy.int(Some(conference_id))
            .int(Some(*id))
            .text(t.source_id.as_deref())
            .text(Some(&title_key(&t.title)))
            .text(Some(&t.title))
            .text(t.subtitle.as_deref())
            .text(t.abstract_text.as_deref())
            .text(t.description.as_deref())
            .int(lookup(tracks, t.track.as_deref()))
            .text(t.level.as_deref())
            .text(t.talk_type.as_deref())
            .text(t.language.as_deref())
            .int(lookup(rooms, t.room.as_deref()))
            .time(t.slot.map(|s| s.start))
            .time(t.slot.map(|s| s.end))
            .boolean(t.slot.is_some_and(|s| s.all_day))
            .text(Some(t.status.as_str()))
            .text(Some(t.kind.as_str()))
            .text(t.url.as_deref());
        copy.end_row().await?;
    }
    copy.finish().await?;
    Ok(())
}

/// One column of `talks` as an array for `UNNEST`, borrowing text where it can.
fn column<'a, T>(talks: &[(i64, &'a TalkData)], field: impl Fn(&'a TalkData) -> T) -> Vec<T> {
    talks.iter().map(|(_, t)| field(t)).collect()
}

/// One `UPDATE` statement for a chunk of changed talks.
async fn update_talk_chunk(
    conn: &mut PgConnection,
    conference_id: i64,
    talks: &[(i64, &TalkData)],
    rooms: &HashMap<String, i64>,
    tracks: &HashMap<String, i64>,
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE talks SET source_id = u.source_id, title_key = u.title_key,
             title = u.title, subtitle = u.subtitle, abstract = u.abstract,
             description = u.description, track_id = u.track_id, level = u.level,
             talk_type = u.talk_type, language = u.language, room_id = u.room_id,
             starts_at = u.starts_at, ends_at = u.ends_at, all_day = u.all_day,
             status = u.status, kind = u.kind, url = u.url, updated_at = now()
         FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[],
                     $12::text[], $13::bigint[], $14::timestamptz[], $15::timestamptz[],
                     $16::bool[], $17::text[], $18::text[], $19::text[])
              AS u({TALK_COLUMNS})
         WHERE talks.id = u.id AND talks.conference_id = $1"
    );
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

/// The speaker links of one talk as (speaker id, position), in the source's order; the same
/// person listed twice on one talk is linked once.
fn links_of(talk: &TalkData, speaker_ids: &HashMap<String, i64>) -> Vec<(i64, i32)> {
    let mut seen: Vec<i64> = Vec::new();
    for speaker in &talk.speakers {
        if let Some(&speaker_id) = speaker_ids.get(&name_key(&speaker.name)) {
            if !seen.contains(&speaker_id) {
                seen.push(speaker_id);
            }
        }
    }
    seen.into_iter().zip(1..).collect()
}

/// Links new talks to their speakers with one `COPY` (they have no links yet).
async fn copy_links(
    conn: &mut PgConnection,
    talks: &[(i64, &TalkData)],
    speaker_ids: &HashMap<String, i64>,
) -> Result<(), StoreError> {
    if talks.is_empty() {
        return Ok(());
    }
    let mut copy = CopyIn::start(
        conn,
        "COPY talk_speakers (talk_id, speaker_id, position) FROM STDIN",
    )
    .await?;
    for (talk_id, talk) in talks {
        for (speaker_id, position) in links_of(talk, speaker_ids) {
            copy.int(Some(*talk_id))
                .int(Some(speaker_id))
                .int(Some(i64::from(position)));
            copy.end_row().await?;
        }
    }
    copy.finish().await?;
    Ok(())
}

/// Replaces the speaker links of one chunk of stored talks.
async fn relink_chunk(
    conn: &mut PgConnection,
    talks: &[(i64, &TalkData)],
    speaker_ids: &HashMap<String, i64>,
) -> Result<(), StoreError> {
    let talk_ids: Vec<i64> = talks.iter().map(|(id, _)| *id).collect();
    sqlx::query("DELETE FROM talk_speakers WHERE talk_id = ANY($1)")
        .bind(&talk_ids)
        .execute(&mut *conn)
        .await?;
    let (mut links_talk, mut links_speaker, mut links_position) =
        (Vec::new(), Vec::new(), Vec::new());
    for (talk_id, talk) in talks {
        for (speaker_id, position) in links_of(talk, speaker_ids) {
            links_talk.push(*talk_id);
            links_speaker.push(speaker_id);
            links_position.push(position);
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
