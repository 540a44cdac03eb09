//! Re-imports that read only what changed (issue 13, item 6): each talk row keeps the digest
//! of the entry it was written from, and a re-import settles the entries whose digest it
//! already holds, against a real database. Listings: `import_settled_listing.rs`.

use std::collections::HashMap;

use confbot::domain::diff::{source_digest, Field};
use confbot::domain::model::{StoredTalk, TalkData, TalkStatus};
use sqlx::PgPool;

use crate::fixtures::{import_text, import_text_confirmed, parse, stored_talks};
use crate::harness::TestDb;

pub(crate) const DEMO_ICS: &str = include_str!("../../src/cli/demo/schedule.ics");

/// Title -> the row's stored digest.
pub(crate) async fn digests(pool: &PgPool) -> HashMap<String, Option<Vec<u8>>> {
    sqlx::query_as("SELECT title, source_digest FROM talks")
        .fetch_all(pool)
        .await
        .expect("digests")
        .into_iter()
        .collect()
}

/// The demo calendar without the event whose UID contains `uid`.
fn demo_without(uid: &str) -> String {
    let at = DEMO_ICS.find(uid).expect("event");
    let start = DEMO_ICS[..at].rfind("BEGIN:VEVENT").expect("event start");
    let end = at + DEMO_ICS[at..].find("END:VEVENT\r\n").expect("event end") + 12;
    format!("{}{}", &DEMO_ICS[..start], &DEMO_ICS[end..])
}

/// Each stored talk's speakers by name, in order, by title.
pub(crate) async fn speaker_names(pool: &PgPool, slug: &str) -> HashMap<String, Vec<String>> {
    by_title(stored_talks(pool, slug).await)
        .into_iter()
        .map(|(title, talk)| (title, talk.speakers.into_iter().map(|s| s.name).collect()))
        .collect()
}

/// The talks' data by title, ids and versions aside.
pub(crate) fn by_title(talks: Vec<StoredTalk>) -> HashMap<String, TalkData> {
    talks
        .into_iter()
        .map(|t| (t.data.title.clone(), t.data))
        .collect()
}

#[tokio::test]
async fn a_reimport_reports_and_rewrites_only_the_entry_that_changed() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let first = digests(&db.pool).await;
    assert_eq!(first.len(), 8);
    assert!(
        first
            .values()
            .all(|d| d.as_ref().is_some_and(|d| d.len() == 32)),
        "every timetable row keeps its entry's digest: {first:?}"
    );
    let moved = DEMO_ICS.replacen("LOCATION:Loft", "LOCATION:Shed", 1);

    let outcome = import_text(&db.pool, "demo", &moved).await;

    assert_eq!(outcome.diff.changed.len(), 1, "{:?}", outcome.diff);
    assert_eq!(outcome.diff.changed[0].fields, [Field::Room]);
    assert_eq!(outcome.diff.unchanged, 7);
    let now = digests(&db.pool).await;
    let title = &outcome.diff.changed[0].title;
    assert_ne!(
        now[title], first[title],
        "the moved row has its new entry's digest"
    );
    assert!(now[title].is_some());
    for (other, digest) in first.iter().filter(|(t, _)| *t != title) {
        assert_eq!(&now[other], digest, "{other} was not rewritten");
    }
    // Exactly what a first import of the moved file stores.
    import_text(&db.pool, "fresh", &moved).await;
    assert_eq!(
        by_title(stored_talks(&db.pool, "demo").await),
        by_title(stored_talks(&db.pool, "fresh").await)
    );
}

#[tokio::test]
async fn a_cancelled_talk_loses_its_digest_and_comes_back_confirmed() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let outcome = import_text(&db.pool, "demo", &demo_without("DEMO08")).await;
    assert_eq!(outcome.diff.cancelled.len(), 1);
    let title = outcome.diff.cancelled[0].title.clone();
    assert_eq!(digests(&db.pool).await[&title], None);

    // The same entry as before the cancellation: the row is not what that entry made it.
    let back = import_text(&db.pool, "demo", DEMO_ICS).await;

    assert_eq!(back.diff.changed.len(), 1, "{:?}", back.diff);
    assert_eq!(back.diff.changed[0].title, title);
    assert_eq!(back.diff.changed[0].fields, [Field::Status]);
    assert_eq!(back.diff.unchanged, 7);
    let stored = by_title(stored_talks(&db.pool, "demo").await);
    assert_eq!(stored[&title].status, TalkStatus::Confirmed);
    assert!(digests(&db.pool).await[&title].is_some());
}

#[tokio::test]
async fn rows_without_a_digest_or_with_a_foreign_one_are_compared_in_full() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let first = digests(&db.pool).await;
    // Rows written before the column existed, and one whose digest is not ours.
    sqlx::query(
        "UPDATE talks SET source_digest = CASE WHEN title = (SELECT min(title) FROM talks)
                                               THEN '\\x00'::bytea END",
    )
    .execute(&db.pool)
    .await
    .expect("digests cleared");
    let moved = DEMO_ICS.replacen("LOCATION:Loft", "LOCATION:Shed", 1);

    let outcome = import_text_confirmed(&db.pool, "demo", &moved).await;

    assert_eq!(outcome.diff.changed.len(), 1, "{:?}", outcome.diff);
    assert_eq!(outcome.diff.unchanged, 7);
    let now = digests(&db.pool).await;
    for (title, digest) in &now {
        assert!(digest.as_ref().is_some_and(|d| d.len() == 32), "{title}");
    }
    let changed = &outcome.diff.changed[0].title;
    for (title, digest) in first.iter().filter(|(t, _)| *t != changed) {
        assert_eq!(
            &now[title], digest,
            "{title}: the same entry, the same digest"
        );
    }
}

#[tokio::test]
async fn a_settled_row_is_neither_read_nor_rewritten() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    // Changed behind the import's back, digest kept: only a full comparison would notice.
    let edited =
        sqlx::query("UPDATE talks SET abstract = 'edited in place' WHERE title = 'Closing'")
            .execute(&db.pool)
            .await
            .expect("edit")
            .rows_affected();
    assert_eq!(edited, 1);

    let again = import_text(&db.pool, "demo", DEMO_ICS).await;

    assert!(again.diff.is_empty(), "{:?}", again.diff);
    assert_eq!(again.diff.unchanged, 8);
    let closing = &by_title(stored_talks(&db.pool, "demo").await)["Closing"];
    assert_eq!(closing.abstract_text.as_deref(), Some("edited in place"));
}

#[tokio::test]
async fn a_first_import_stores_each_row_with_the_digest_of_its_own_entry() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;

    // Computed only as each row is written (nothing stored could settle), yet each row's.
    let expected: HashMap<String, Option<Vec<u8>>> = parse(DEMO_ICS)
        .talks
        .iter()
        .map(|t| (t.title.clone(), Some(source_digest(t).to_vec())))
        .collect();
    assert_eq!(expected.len(), 8);
    assert_eq!(digests(&db.pool).await, expected);
}

/// One talk of [`pretalx_json`]: code, title, hour, and (speaker, biography) pairs.
pub(crate) type Entry<'a> = (&'a str, &'a str, u32, &'a [(&'a str, &'a str)]);

/// A pretalx schedule.json of `talks`.
pub(crate) fn pretalx_json(talks: &[Entry<'_>]) -> String {
    let talks: Vec<serde_json::Value> = talks
        .iter()
        .map(|(code, title, hour, people)| {
            serde_json::json!({
                "guid": format!("guid-{code}"),
                "code": code,
                "date": format!("2027-05-10T{hour:02}:00:00+02:00"),
                "start": format!("{hour:02}:00"),
                "duration": "00:30",
                "room": "Hall",
                "title": title,
                "url": format!("https://pretalx.example.org/conf/talk/{code}/"),
                "persons": people.iter().map(|(name, bio)| serde_json::json!({
                    "code": name.replace(' ', "").to_uppercase(),
                    "public_name": name,
                    "biography": bio,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "schedule": {"conference": {
            "title": "Settle Conf",
            "time_zone_name": "Europe/Berlin",
            "days": [{"date": "2027-05-10", "rooms": {"Hall": talks}}],
        }}
    })
    .to_string()
}

/// Imports `text` into `settling` as it is, and into `comparing` after clearing its digests,
/// so that one compares every talk; returns both reports.
async fn both(pool: &PgPool, text: &str) -> (ImportDiffSummary, ImportDiffSummary) {
    let settled = import_text_confirmed(pool, "settling", text).await;
    sqlx::query(
        "UPDATE talks SET source_digest = NULL
         WHERE conference_id = (SELECT id FROM conferences WHERE slug = 'comparing')",
    )
    .execute(pool)
    .await
    .expect("digests cleared");
    let compared = import_text_confirmed(pool, "comparing", text).await;
    (summary(&settled.diff), summary(&compared.diff))
}

/// A report without the talk ids, which differ between the two conferences.
type ImportDiffSummary = (Vec<String>, Vec<(String, Vec<Field>)>, Vec<String>, usize);

fn summary(diff: &confbot::domain::diff::ImportDiff) -> ImportDiffSummary {
    (
        diff.added.iter().map(|e| e.title.clone()).collect(),
        diff.changed
            .iter()
            .map(|e| (e.title.clone(), e.fields.clone()))
            .collect(),
        diff.cancelled.iter().map(|e| e.title.clone()).collect(),
        diff.unchanged,
    )
}

#[tokio::test]
async fn shared_speakers_report_and_store_what_comparing_every_talk_does() {
    let db = TestDb::new().await;
    let ada = ("Ada Lovelace", "Ada writes engines.");
    let timetable = pretalx_json(&[
        ("AAAA11", "Engines", 9, &[ada]),
        (
            "BBBB22",
            "Looms",
            10,
            &[ada, ("Grace Hopper", "Grace writes compilers.")],
        ),
        (
            "CCCC33",
            "Cards",
            11,
            &[("Grace Hopper", "Grace writes compilers.")],
        ),
    ]);
    // One talk now gives Ada another biography: her one row can show only one of them.
    let two_bios = pretalx_json(&[
        ("AAAA11", "Engines", 9, &[ada]),
        (
            "BBBB22",
            "Looms",
            10,
            &[
                ("Ada Lovelace", "Ada, revised."),
                ("Grace Hopper", "Grace writes compilers."),
            ],
        ),
        (
            "CCCC33",
            "Cards",
            11,
            &[("Grace Hopper", "Grace writes compilers.")],
        ),
    ]);
    let moved = timetable
        .replace("T11:00:00", "T12:00:00")
        .replace("\"11:00\"", "\"12:00\"");
    let listing = "top of page\n\nTalks\n\nEngines\n\nAda Lovelace\n\nHistory, Beginner\n\n\
        Bio: Ada, as the listing tells it.\n";
    // A listing giving Ada two biographies, and one enriching a talk she shares with Grace.
    let listing_two_bios = "top of page\n\nTalks\n\nEngines\n\nAda Lovelace\n\n\
        History, Beginner\n\nBio: Ada, once.\n\n\nLooms\n\nAda Lovelace, Grace Hopper\n\n\
        Weaving, Advanced\n\nBio: Ada, twice.\n\nBio2: Grace, listed.\n";
    let steps = [
        timetable.as_str(),
        timetable.as_str(),
        listing,
        listing,
        timetable.as_str(),
        timetable.as_str(),
        two_bios.as_str(),
        two_bios.as_str(),
        two_bios.as_str(),
        timetable.as_str(),
        moved.as_str(),
        moved.as_str(),
        listing_two_bios,
        listing_two_bios,
        listing,
        listing,
        moved.as_str(),
    ];
    let mut reports = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let (settled, compared) = both(&db.pool, step).await;
        assert_eq!(settled, compared, "import {n}");
        assert_eq!(
            by_title(stored_talks(&db.pool, "settling").await),
            by_title(stored_talks(&db.pool, "comparing").await),
            "after import {n}"
        );
        reports.push(settled);
    }
    // The listing enriches one talk and is then settled. Its biography of Ada shows on both
    // of her talks, so the timetable puts its own back on both: a talk whose entry did not
    // change is still reported.
    let changed_titles =
        |n: usize| -> Vec<&str> { reports[n].1.iter().map(|(t, _)| t.as_str()).collect() };
    assert_eq!(changed_titles(2), ["Engines"], "{:?}", reports[2]);
    assert!(changed_titles(3).is_empty(), "{:?}", reports[3]);
    assert_eq!(changed_titles(4), ["Engines", "Looms"], "{:?}", reports[4]);
    assert_eq!(reports[5].3, 3, "then all three settle");
    assert_eq!(changed_titles(10), ["Cards"]);
    let settled_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM talks t JOIN conferences c ON c.id = t.conference_id
         WHERE c.slug = 'settling' AND t.source_digest IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await
    .expect("count");
    assert_eq!(
        settled_rows, 3,
        "the last timetable wrote or settled every row"
    );
}

#[tokio::test]
async fn a_new_talk_is_linked_to_people_stored_unchanged_and_to_new_ones_in_order() {
    let db = TestDb::new().await;
    let ada = ("Ada Lovelace", "Ada writes engines.");
    let grace = ("Grace Hopper", "Grace writes compilers.");
    import_text(
        &db.pool,
        "linking",
        &pretalx_json(&[("AAAA11", "Engines", 9, &[ada])]),
    )
    .await;
    let person_ids = |name: &'static str| {
        sqlx::query_scalar::<_, i64>("SELECT id FROM speakers WHERE name = $1")
            .bind(name)
            .fetch_all(&db.pool)
    };
    let ada_before = person_ids("Ada Lovelace").await.expect("ada");
    let engines_digest = digests(&db.pool).await["Engines"].clone();
    assert!(engines_digest.is_some(), "the first import settles Engines");

    // Ada's row does not change, so the upsert returns no row for her: her id is looked up.
    let both = pretalx_json(&[
        ("AAAA11", "Engines", 9, &[ada]),
        ("BBBB22", "Looms", 10, &[grace, ada]),
    ]);
    let outcome = import_text(&db.pool, "linking", &both).await;

    assert_eq!(outcome.diff.added.len(), 1, "{:?}", outcome.diff);
    assert_eq!(person_ids("Ada Lovelace").await.expect("ada"), ada_before);
    // Ada counted as changed would have cleared the digest of her other talk.
    assert_eq!(digests(&db.pool).await["Engines"], engines_digest);
    assert_eq!(person_ids("Grace Hopper").await.expect("grace").len(), 1);
    let names = speaker_names(&db.pool, "linking").await;
    assert_eq!(names["Looms"], ["Grace Hopper", "Ada Lovelace"]);
    assert_eq!(names["Engines"], ["Ada Lovelace"]);
}
