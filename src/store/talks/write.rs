//! Writing an import plan in bulk: new talks and their speaker links through `COPY`, changed
//! talks as arrays bound with `UNNEST`, one statement per table and chunk of [`CHUNK`] talks.

use std::collections::{BTreeSet, HashMap};

use sqlx::{PgConnection, Row};

use super::speakers;
use crate::domain::diff::{Digest, ImportPlan};
use crate::domain::model::{ImportedSchedule, TalkData, TalkId};
use crate::domain::text::title_key;
use crate::store::copy::CopyIn;
use crate::store::StoreError;

/// Reserves the ids of a plan's `count` new talks. Must run inside the import's transaction.
pub async fn reserve_ids(conn: &mut PgConnection, count: usize) -> Result<NewIds, StoreError> {
    Ok(NewIds(super::allocate_ids(conn, "talks", count).await?))
}

/// The ids [`reserve_ids`] reserved for a plan's new talks, in the order of `plan.inserts`.
pub struct NewIds(Vec<i64>);

impl NewIds {
    pub fn as_slice(&self) -> &[i64] {
        &self.0
    }
}

/// Writes an import plan, its new talks under the ids `new_ids` reserved for them. Must run
/// inside the import's transaction. `imported` are the talks as the source states them, whose
/// speakers' details win over what the plan carried over.
pub async fn apply(
    conn: &mut PgConnection,
    conference_id: i64,
    plan: &ImportPlan<'_>,
    new_ids: &NewIds,
    imported: &ImportedSchedule,
) -> Result<(), StoreError> {
    // Walked again where needed: as lists, the talks written and the new ones with their ids
    // were 2.4 MB of a 100,000-talk first import's peak.
    let written = || {
        let updated = plan.updates.iter().map(|u| &u.data);
        plan.inserts.iter().map(AsRef::as_ref).chain(updated)
    };
    if written().next().is_none() {
        return Ok(());
    }
    let rooms = upsert_names(
        conn,
        "rooms",
        conference_id,
        written().filter_map(|t| t.room.as_deref()),
    )
    .await?;
    let tracks = upsert_names(
        conn,
        "tracks",
        conference_id,
        written().filter_map(|t| t.track.as_deref()),
    )
    .await?;
    let stated = imported.talks.iter().flat_map(|t| t.speakers.iter());
    let rewritten: Vec<i64> = plan.updates.iter().map(|u| u.id.0).collect();
    let people = speakers::upsert(conn, conference_id, written(), &rewritten, stated).await?;
    // A digest stands for the row only if the row reads back as its entry states it.
    let shown =
        |talk: &TalkData, digest: Option<Digest>| digest.filter(|_| people.show_as_stated(talk));

    debug_assert_eq!(
        new_ids.0.len(),
        plan.inserts.len(),
        "ids reserved for this plan"
    );
    let inserted = || {
        let talks = plan.inserts.iter().map(AsRef::as_ref);
        new_ids.0.iter().copied().zip(talks)
    };
    let names = Names {
        rooms: &rooms,
        tracks: &tracks,
    };
    // Resolved row by row as the rows are sent: a deferred digest is computed while the
    // database stores the rows before it.
    let insert_digest = |i: usize| {
        let (talk, digest) = plan.inserts.get(i).zip(plan.insert_digests.get(i))?;
        shown(talk, digest.resolve(imported))
    };
    copy_talks(conn, conference_id, inserted(), insert_digest, &names).await?;
    let updated: Vec<(i64, &TalkData)> = plan.updates.iter().map(|u| (u.id.0, &u.data)).collect();
    let digests: Vec<Option<Digest>> = plan
        .updates
        .iter()
        .map(|u| shown(&u.data, u.source_digest))
        .collect();
    for (chunk, digests) in updated.chunks(CHUNK).zip(digests.chunks(CHUNK)) {
        update_talk_chunk(conn, conference_id, chunk, digests, &names).await?;
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
    speakers::copy_links(conn, inserted(), &people).await?;
    let relinked: Vec<(i64, &TalkData)> = plan
        .updates
        .iter()
        .filter(|u| u.speakers_changed)
        .map(|u| (u.id.0, &u.data))
        .collect();
    for chunk in relinked.chunks(CHUNK) {
        speakers::relink_chunk(conn, chunk, &people).await?;
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
    // Each name once as they come: the list of every talk's name, sorted and deduplicated,
    // was 1.6 MB of a 100,000-talk import.
    let names: Vec<&str> = names.collect::<BTreeSet<&str>>().into_iter().collect();
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

/// Talks per `UPDATE` statement (and speaker-link replacement). One statement for 10,000
/// talks needs a 25 MB bind message on top of the schedule itself; chunks of 1,000 keep it
/// near 2.5 MB for ten round trips within the same transaction.
const CHUNK: usize = 1_000;

/// The columns of `talks` an import writes, in the order both writers send them.
const TALK_COLUMNS: &str = "id, source_id, title_key, title, subtitle, abstract, description, \
     track_id, level, talk_type, language, room_id, starts_at, ends_at, all_day, status, kind, \
     url, source_digest";

/// The conference's rooms and tracks, name -> id.
struct Names<'a> {
    rooms: &'a HashMap<String, i64>,
    tracks: &'a HashMap<String, i64>,
}

fn lookup(names: &HashMap<String, i64>, name: Option<&str>) -> Option<i64> {
    name.and_then(|n| names.get(n).copied())
}

/// Records the source digests of talks the import left unchanged (see
/// [`crate::domain::diff::settle`]): one statement per chunk.
pub async fn record_digests(
    conn: &mut PgConnection,
    digests: &[(TalkId, Digest)],
) -> Result<(), StoreError> {
    for chunk in digests.chunks(CHUNK) {
        sqlx::query(
            "UPDATE talks SET source_digest = u.digest
             FROM UNNEST($1::bigint[], $2::bytea[]) AS u(id, digest)
             WHERE talks.id = u.id",
        )
        .bind(chunk.iter().map(|(id, _)| id.0).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, d)| d.to_vec()).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Inserts new talks with one `COPY`, their ids reserved up front.
async fn copy_talks(
    conn: &mut PgConnection,
    conference_id: i64,
    talks: impl ExactSizeIterator<Item = (i64, &TalkData)>,
    digest: impl Fn(usize) -> Option<Digest>,
    names: &Names<'_>,
) -> Result<(), StoreError> {
    if talks.len() == 0 {
        return Ok(());
    }
    // COPY writes the given identity values as INSERT's OVERRIDING SYSTEM VALUE does.
    let statement = format!("COPY talks (conference_id, {TALK_COLUMNS}) FROM STDIN");
    let mut copy = CopyIn::start(conn, &statement).await?;
    for (i, (id, t)) in talks.enumerate() {
        let digest = digest(i);
        copy.int8(Some(conference_id))
            .int8(Some(id))
            .text(t.source_id.as_deref())
            .text(Some(&title_key(&t.title)))
            .text(Some(&t.title))
            .text(t.subtitle.as_deref())
            .text(t.abstract_text.as_deref())
            .text(t.description.as_deref())
            .int8(lookup(names.tracks, t.track.as_deref()))
            .text(t.level.as_deref())
            .text(t.talk_type.as_deref())
            .text(t.language.as_deref())
            .int8(lookup(names.rooms, t.room.as_deref()))
            .timestamptz(t.slot.map(|s| s.start))
            .timestamptz(t.slot.map(|s| s.end))
            .boolean(t.slot.is_some_and(|s| s.all_day))
            .text(Some(t.status.as_str()))
            .text(Some(t.kind.as_str()))
            .text(t.url.as_deref())
            .bytea(digest.as_ref().map(|d| &d[..]));
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
    digests: &[Option<Digest>],
    names: &Names<'_>,
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE talks SET source_id = u.source_id, title_key = u.title_key,
             title = u.title, subtitle = u.subtitle, abstract = u.abstract,
             description = u.description, track_id = u.track_id, level = u.level,
             talk_type = u.talk_type, language = u.language, room_id = u.room_id,
             starts_at = u.starts_at, ends_at = u.ends_at, all_day = u.all_day,
             status = u.status, kind = u.kind, url = u.url,
             source_digest = u.source_digest, updated_at = now()
         FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[],
                     $12::text[], $13::bigint[], $14::timestamptz[], $15::timestamptz[],
                     $16::bool[], $17::text[], $18::text[], $19::text[], $20::bytea[])
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
        .bind(column(talks, |t| lookup(names.tracks, t.track.as_deref())))
        .bind(column(talks, |t| t.level.as_deref()))
        .bind(column(talks, |t| t.talk_type.as_deref()))
        .bind(column(talks, |t| t.language.as_deref()))
        .bind(column(talks, |t| lookup(names.rooms, t.room.as_deref())))
        .bind(column(talks, |t| t.slot.map(|s| s.start)))
        .bind(column(talks, |t| t.slot.map(|s| s.end)))
        .bind(column(talks, |t| t.slot.is_some_and(|s| s.all_day)))
        .bind(column(talks, |t| t.status.as_str()))
        .bind(column(talks, |t| t.kind.as_str()))
        .bind(column(talks, |t| t.url.as_deref()))
        .bind(
            digests
                .iter()
                .map(|d| d.map(|d| d.to_vec()))
                .collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;
    Ok(())
}
