//! Speakers: read with their talks, written once per person (a conference's first people by
//! `COPY`, later ones upserted), and linked to talks in order.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};

use crate::domain::model::{SharedTexts, SpeakerData, TalkData};
use crate::domain::text::name_key;
use crate::store::copy::CopyIn;
use crate::store::StoreError;

/// The speakers of a conference's talks (of the talks `only`, when given), by talk, in order.
pub(super) async fn load(
    conn: &mut PgConnection,
    conference_id: i64,
    only: Option<&[i64]>,
) -> Result<HashMap<i64, Vec<SpeakerData>>, StoreError> {
    const SELECT: &str = "SELECT ts.talk_id, s.name, s.source_id, s.biography
         FROM talk_speakers ts
         JOIN speakers s ON s.id = ts.speaker_id
         WHERE s.conference_id = $1";
    const ORDER: &str = "ORDER BY ts.talk_id, ts.position";
    let rows = match only {
        None => {
            sqlx::query(&format!("{SELECT} {ORDER}"))
                .bind(conference_id)
                .fetch_all(conn)
                .await?
        }
        Some(ids) => {
            sqlx::query(&format!("{SELECT} AND ts.talk_id = ANY($2) {ORDER}"))
                .bind(conference_id)
                .bind(ids)
                .fetch_all(conn)
                .await?
        }
    };
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
    let mut shared = SharedTexts::default();
    for r in &rows {
        let talk: i64 = r.try_get("talk_id")?;
        let position = match previous {
            Some((t, p)) if t == talk => p + 1,
            _ => 0,
        };
        previous = Some((talk, position));
        if let Some(speaker) = by_talk.get_mut(&talk).and_then(|s| s.get_mut(position)) {
            speaker.source_id = r.try_get("source_id")?;
            let biography: Option<&str> = r.try_get("biography")?;
            speaker.biography = biography.map(|text| shared.share_str(text));
        }
    }
    Ok(by_talk)
}

/// The people an import wrote, by name key: their ids, and what it wrote of each. Borrowed
/// from the talks that state them, in one map: a copy of each person and a second map of ids
/// were 6 MB more of a 100,000-talk first import's peak (54,000 people).
pub(super) struct People<'a> {
    by_key: HashMap<String, Person<'a>>,
}

/// What an import wrote of one person.
struct Person<'a> {
    /// `None` until the row's id is known.
    id: Option<i64>,
    name: &'a str,
    source_id: Option<&'a str>,
    biography: Option<&'a str>,
}

impl People<'_> {
    /// The id of the person with this name key.
    fn id(&self, key: &str) -> Option<i64> {
        self.by_key.get(key).and_then(|person| person.id)
    }

    /// Whether `talk` will read back with every speaker as it states them. Not so when one
    /// source gives a person two spellings or biographies: the person's one row shows only
    /// one, so such a talk must be compared in full next time rather than settled.
    pub fn show_as_stated(&self, talk: &TalkData) -> bool {
        talk.speakers.iter().all(|speaker| {
            self.by_key
                .get(&name_key(&speaker.name))
                .is_some_and(|person| {
                    person.name == speaker.name
                        && (speaker.biography.is_none()
                            || person.biography == speaker.biography.as_deref())
                        && (speaker.source_id.is_none()
                            || person.source_id == speaker.source_id.as_deref())
                })
        })
    }
}

/// Upserts the speakers of the written talks (a conference's first people are copied in
/// instead: [`copy_first`]); what the import itself states about a person (`stated`) wins
/// over what the merged talk data carried over. Clears the source digest of every talk of a
/// person whose row changed, but for the stored talks the import rewrites (`rewritten`),
/// whose digests it sets itself.
pub(super) async fn upsert<'a>(
    conn: &mut PgConnection,
    conference_id: i64,
    written: impl Iterator<Item = &'a TalkData>,
    rewritten: &[i64],
    stated: impl Iterator<Item = &'a SpeakerData>,
) -> Result<People<'a>, StoreError> {
    let mut people: HashMap<String, Person<'a>> = HashMap::new();
    for speaker in written.flat_map(|t| t.speakers.iter()) {
        people
            .entry(name_key(&speaker.name))
            .or_insert_with(|| Person {
                id: None,
                name: &speaker.name,
                source_id: speaker.source_id.as_deref(),
                biography: speaker.biography.as_deref(),
            });
    }
    for speaker in stated {
        if let Some(person) = people.get_mut(&name_key(&speaker.name)) {
            if let Some(biography) = &speaker.biography {
                person.biography = Some(biography);
            }
            if let Some(source_id) = &speaker.source_id {
                person.source_id = Some(source_id);
            }
        }
    }
    if people.is_empty() {
        return Ok(People { by_key: people });
    }
    if !any_stored(conn, conference_id).await? {
        copy_first(conn, conference_id, &mut people).await?;
        return Ok(People { by_key: people });
    }
    let (keys, values): (Vec<&str>, Vec<&Person>) =
        people.iter().map(|(k, p)| (k.as_str(), p)).unzip();
    // Inserted and changed people come back with their ids; only the unchanged ones are
    // looked up afterwards (none when every person is new).
    let rows = sqlx::query(
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
                                 COALESCE(EXCLUDED.biography, speakers.biography))
         RETURNING id, name_key, xmax <> 0 AS existed",
    )
    .bind(conference_id)
    .bind(&keys)
    .bind(values.iter().map(|p| p.name).collect::<Vec<_>>())
    .bind(values.iter().map(|p| p.source_id).collect::<Vec<_>>())
    .bind(values.iter().map(|p| p.biography).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    drop((keys, values));
    // The people whose stored row this changes (not those it creates): every talk showing
    // them now reads differently, so none of those may stay settled (see
    // `domain::diff::settled`).
    let mut changed: Vec<i64> = Vec::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        if row.try_get("existed")? {
            changed.push(id);
        }
        let key: &str = row.try_get("name_key")?;
        if let Some(person) = people.get_mut(key) {
            person.id = Some(id);
        }
    }
    drop(rows);
    let unchanged: Vec<String> = people
        .iter()
        .filter(|(_, person)| person.id.is_none())
        .map(|(key, _)| key.clone())
        .collect();
    if !changed.is_empty() {
        sqlx::query(
            // Not the talks this import rewrites anyway: a listing that enriches every talk
            // would otherwise write each row twice (0.2 s more for 10,000 talks).
            "UPDATE talks SET source_digest = NULL
             WHERE source_digest IS NOT NULL
               AND id IN (SELECT ts.talk_id FROM talk_speakers ts
                          JOIN UNNEST($1::bigint[]) AS changed(id) ON changed.id = ts.speaker_id)
               AND id NOT IN (SELECT UNNEST($2::bigint[]))",
        )
        .bind(&changed)
        .bind(rewritten)
        .execute(&mut *conn)
        .await?;
    }
    if !unchanged.is_empty() {
        let rows = sqlx::query(
            "SELECT id, name_key FROM speakers WHERE conference_id = $1 AND name_key = ANY($2)",
        )
        .bind(conference_id)
        .bind(&unchanged)
        .fetch_all(conn)
        .await?;
        for row in &rows {
            let key: &str = row.try_get("name_key")?;
            if let Some(person) = people.get_mut(key) {
                person.id = Some(row.try_get("id")?);
            }
        }
    }
    Ok(People { by_key: people })
}

/// Whether the conference has any person stored. Only imports write people, and they hold
/// the conference's row lock (`conferences::upsert_and_lock`), so the answer holds until the
/// transaction ends; anything else that writes people must take that lock too.
async fn any_stored(conn: &mut PgConnection, conference_id: i64) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM speakers WHERE conference_id = $1)")
            .bind(conference_id)
            .fetch_one(conn)
            .await?,
    )
}

/// A conference's first people, none of them stored: their ids reserved (and set in
/// `people`), then one `COPY` instead of the upsert, which looks for a conflict row by row and
/// sends each id back (the 54,000 people of a 100,000-talk import in 0.38 s instead of
/// 0.54 s, and their ids reserved in about 0.03 s; BENCHMARKS.md, "A conference's first
/// people by `COPY`").
async fn copy_first(
    conn: &mut PgConnection,
    conference_id: i64,
    people: &mut HashMap<String, Person<'_>>,
) -> Result<(), StoreError> {
    let ids = super::allocate_ids(conn, "speakers", people.len()).await?;
    if ids.len() != people.len() {
        return Err(StoreError::Invalid(format!(
            "{} ids were reserved for {} people",
            ids.len(),
            people.len()
        )));
    }
    let mut copy = CopyIn::start(
        conn,
        "COPY speakers (id, conference_id, name_key, name, source_id, biography) FROM STDIN",
    )
    .await?;
    for ((key, person), id) in people.iter_mut().zip(ids) {
        person.id = Some(id);
        copy.int8(Some(id))
            .int8(Some(conference_id))
            .text(Some(key))
            .text(Some(person.name))
            .text(person.source_id)
            .text(person.biography);
        copy.end_row().await?;
    }
    copy.finish().await?;
    Ok(())
}

/// The speaker links of one talk as (speaker id, position), in the source's order; the same
/// person listed twice on one talk is linked once.
fn links_of(talk: &TalkData, people: &People<'_>) -> Vec<(i64, i32)> {
    let mut seen: Vec<i64> = Vec::new();
    for speaker in &talk.speakers {
        if let Some(speaker_id) = people.id(&name_key(&speaker.name)) {
            if !seen.contains(&speaker_id) {
                seen.push(speaker_id);
            }
        }
    }
    seen.into_iter().zip(1..).collect()
}

/// Links new talks to their speakers with one `COPY` (they have no links yet).
pub(super) async fn copy_links(
    conn: &mut PgConnection,
    talks: impl ExactSizeIterator<Item = (i64, &TalkData)>,
    people: &People<'_>,
) -> Result<(), StoreError> {
    if talks.len() == 0 {
        return Ok(());
    }
    let mut copy = CopyIn::start(
        conn,
        "COPY talk_speakers (talk_id, speaker_id, position) FROM STDIN",
    )
    .await?;
    for (talk_id, talk) in talks {
        for (speaker_id, position) in links_of(talk, people) {
            copy.int8(Some(talk_id))
                .int8(Some(speaker_id))
                .int4(position);
            copy.end_row().await?;
        }
    }
    copy.finish().await?;
    Ok(())
}

/// Replaces the speaker links of one chunk of stored talks.
pub(super) async fn relink_chunk(
    conn: &mut PgConnection,
    talks: &[(i64, &TalkData)],
    people: &People<'_>,
) -> Result<(), StoreError> {
    let talk_ids: Vec<i64> = talks.iter().map(|(id, _)| *id).collect();
    sqlx::query("DELETE FROM talk_speakers WHERE talk_id = ANY($1)")
        .bind(&talk_ids)
        .execute(&mut *conn)
        .await?;
    let (mut links_talk, mut links_speaker, mut links_position) =
        (Vec::new(), Vec::new(), Vec::new());
    for (talk_id, talk) in talks {
        for (speaker_id, position) in links_of(talk, people) {
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
