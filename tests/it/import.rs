//! Importing into PostgreSQL: instants, diffs, merges and transactions against a real database.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use confbot::domain::diff::Field;
use confbot::domain::export;
use confbot::domain::import::Format;
use confbot::domain::model::{ConferenceSlug, TalkStatus};
use confbot::store;
use confbot::store::imports::{apply_import, ImportRequest};
use sqlx::PgPool;

use crate::fixtures::{
    import_schedule, import_text, import_text_confirmed, parse, seed_an_hour_later, stored_talks,
    SEED_ICS,
};
use crate::harness::TestDb;

const DEMO_ICS: &str = include_str!("../../src/cli/demo/schedule.ics");
const LISTING_001: &str = include_str!("../fixtures/seed001-listing-fundamentals.txt");
const LISTING_004: &str = include_str!("../fixtures/seed004-listing-pybay.txt");
const ANYCONF_JSON: &str = include_str!("../fixtures/pretalx-anyconf.json");
const ANYCONF_XML: &str = include_str!("../fixtures/pretalx-fosdemformat.xml");

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339 in test")
}

fn slug(s: &str) -> ConferenceSlug {
    ConferenceSlug::parse(s).expect("slug")
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn the_pretalx_seed_is_stored_at_its_true_instant_in_barn() {
    let db = TestDb::new().await;

    let outcome = import_text(&db.pool, "nbpy-2026", SEED_ICS).await;

    assert_eq!(outcome.diff.added.len(), 1);
    let stored = stored_talks(&db.pool, "nbpy-2026").await;
    let talk = &stored[0].data;
    assert_eq!(
        talk.title,
        "Python as Orchestrator: When to Glue, When to Compute"
    );
    assert_eq!(talk.room.as_deref(), Some("Barn"));
    let slot = talk.slot.expect("scheduled");
    assert_eq!(slot.start, at("2026-04-25T22:45:00Z"));
    assert_eq!(slot.end, at("2026-04-25T23:10:00Z"));
    assert_eq!(talk.speakers[0].name, "Freya Bhushan Mehta");
    let stored_start: DateTime<Utc> = sqlx::query_scalar("SELECT starts_at FROM talks")
        .fetch_one(&db.pool)
        .await
        .expect("starts_at");
    assert_eq!(stored_start, at("2026-04-25T22:45:00Z"));
}

#[tokio::test]
async fn reimporting_an_unchanged_schedule_changes_nothing() {
    let db = TestDb::new().await;
    import_text(&db.pool, "anyconf", ANYCONF_JSON).await;
    let before = stored_talks(&db.pool, "anyconf").await;
    let updated_before = count(
        &db.pool,
        "SELECT count(*) FROM talks WHERE updated_at > created_at",
    )
    .await;

    let outcome = import_text(&db.pool, "anyconf", ANYCONF_JSON).await;

    assert!(outcome.diff.is_empty(), "{:?}", outcome.diff);
    assert_eq!(outcome.diff.unchanged, before.len());
    assert_eq!(stored_talks(&db.pool, "anyconf").await, before);
    assert_eq!(
        count(
            &db.pool,
            "SELECT count(*) FROM talks WHERE updated_at > created_at"
        )
        .await,
        updated_before
    );
    assert_eq!(count(&db.pool, "SELECT count(*) FROM imports").await, 2);
}

#[tokio::test]
async fn a_moved_talk_is_reported_stored_with_its_diff_and_gets_a_new_version() {
    let db = TestDb::new().await;
    import_text(&db.pool, "nbpy-2026", SEED_ICS).await;
    let moved = seed_an_hour_later().replace("LOCATION:Barn", "LOCATION:Loft");

    let outcome = import_text(&db.pool, "nbpy-2026", &moved).await;

    assert_eq!(outcome.diff.changed.len(), 1);
    assert_eq!(
        outcome.diff.changed[0].fields,
        vec![Field::Start, Field::End, Field::Room]
    );
    let stored_diff = store::imports::diff_of(&db.pool, outcome.import_id.expect("recorded"))
        .await
        .expect("query")
        .expect("diff stored");
    assert_eq!(stored_diff, outcome.diff);
    let talk = &stored_talks(&db.pool, "nbpy-2026").await[0];
    assert_eq!(talk.schedule_version, 2);
    assert_eq!(
        talk.data.slot.map(|s| s.start),
        Some(at("2026-04-25T23:45:00Z"))
    );
    assert_eq!(talk.data.room.as_deref(), Some("Loft"));
}

#[tokio::test]
async fn a_talk_that_disappears_is_cancelled_and_kept() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let closing = DEMO_ICS
        .find("UID:pretalx-demo-conf-DEMO08")
        .expect("closing talk");
    let start = DEMO_ICS[..closing]
        .rfind("BEGIN:VEVENT")
        .expect("event start");
    let end = DEMO_ICS.find("END:VCALENDAR").expect("end");
    let without_closing = format!("{}{}", &DEMO_ICS[..start], &DEMO_ICS[end..]);

    let outcome = import_text(&db.pool, "demo", &without_closing).await;

    assert_eq!(outcome.diff.cancelled.len(), 1);
    assert_eq!(outcome.diff.cancelled[0].title, "Closing");
    assert_eq!(outcome.diff.unchanged, 7);
    let stored = stored_talks(&db.pool, "demo").await;
    assert_eq!(stored.len(), 8, "nothing is deleted");
    let closing = stored
        .iter()
        .find(|t| t.data.title == "Closing")
        .expect("kept");
    assert_eq!(closing.data.status, TalkStatus::Cancelled);
}

#[tokio::test]
async fn a_dry_run_reports_the_diff_and_changes_nothing() {
    let db = TestDb::new().await;

    let outcome = import_schedule(&db.pool, "nbpy-2026", &parse(SEED_ICS), true).await;

    assert_eq!(outcome.diff.added.len(), 1);
    assert_eq!(outcome.import_id, None);
    assert_eq!(count(&db.pool, "SELECT count(*) FROM conferences").await, 0);
    assert_eq!(count(&db.pool, "SELECT count(*) FROM talks").await, 0);
}

#[tokio::test]
async fn a_refused_import_leaves_the_database_exactly_as_it_was() {
    let db = TestDb::new().await;
    import_text(&db.pool, "anyconf", ANYCONF_JSON).await;
    let before = stored_talks(&db.pool, "anyconf").await;
    let mut broken = parse(ANYCONF_JSON);
    let mut twin = broken.talks[0].clone();
    twin.title = "Another talk with the same id".to_owned();
    broken.talks.push(twin);

    let slug = slug("anyconf");
    let result = apply_import(
        &db.pool,
        ImportRequest {
            slug: &slug,
            source: "broken",
            format: Format::Json,
            schedule: broken,
            time_zone_override: None,
            default_time_zone: Tz::UTC,
            dry_run: false,
            allow_mass_change: false,
        },
    )
    .await;

    let error = result.expect_err("duplicate ids are refused").to_string();
    assert!(error.contains("used by two talks"), "{error}");
    assert_eq!(stored_talks(&db.pool, "anyconf").await, before);
    assert_eq!(count(&db.pool, "SELECT count(*) FROM imports").await, 1);
}

#[tokio::test]
async fn overlapping_listings_do_not_duplicate_talks() {
    let db = TestDb::new().await;
    let first = parse(LISTING_001);
    let second = parse(LISTING_004);
    let mut keys: Vec<String> = first
        .talks
        .iter()
        .chain(&second.talks)
        .map(|t| confbot::domain::text::title_key(&t.title))
        .collect();
    keys.sort();
    keys.dedup();
    assert!(
        keys.len() < first.talks.len() + second.talks.len(),
        "the samples overlap"
    );

    import_schedule(&db.pool, "pybay", &first, false).await;
    let outcome = import_schedule(&db.pool, "pybay", &second, false).await;

    assert!(outcome.diff.unchanged > 0);
    assert_eq!(stored_talks(&db.pool, "pybay").await.len(), keys.len());
    let python_103 = count(
        &db.pool,
        "SELECT count(*) FROM talks WHERE title = 'Python 103: Memory Model & Best Practices'",
    )
    .await;
    assert_eq!(python_103, 1);
}

#[tokio::test]
async fn a_listing_enriches_the_timetable_talk_with_description_and_bio() {
    let db = TestDb::new().await;
    import_text(&db.pool, "nbpy-2026", SEED_ICS).await;
    let listing = "top of page\n\nTalks\n\n\
        Python as Orchestrator: When to Glue, When to Compute\n\n\
        Freya Bhushan Mehta\n\n\
        Performant Python, Intermediate\n\n\
        Description: Where Python belongs.\n\n\
        Bio: Freya builds data systems.\n";

    let outcome = import_text(&db.pool, "nbpy-2026", listing).await;

    assert!(outcome.diff.added.is_empty(), "{:?}", outcome.diff.added);
    let stored = stored_talks(&db.pool, "nbpy-2026").await;
    assert_eq!(stored.len(), 1);
    let talk = &stored[0].data;
    assert_eq!(talk.description.as_deref(), Some("Where Python belongs."));
    assert_eq!(talk.track.as_deref(), Some("Performant Python"));
    assert_eq!(talk.level.as_deref(), Some("Intermediate"));
    assert_eq!(
        talk.speakers[0].biography.as_deref(),
        Some("Freya builds data systems.")
    );
    assert_eq!(talk.room.as_deref(), Some("Barn"), "placement untouched");
    assert_eq!(stored[0].schedule_version, 1);

    // Re-importing the timetable keeps the enrichment.
    let again = import_text(&db.pool, "nbpy-2026", SEED_ICS).await;
    assert!(again.diff.is_empty(), "{:?}", again.diff);
    let talk = &stored_talks(&db.pool, "nbpy-2026").await[0].data;
    assert_eq!(
        talk.speakers[0].biography.as_deref(),
        Some("Freya builds data systems.")
    );
}

#[tokio::test]
async fn schedule_json_and_xml_of_one_conference_agree() {
    let db = TestDb::new().await;

    import_text(&db.pool, "from-json", ANYCONF_JSON).await;
    import_text(&db.pool, "from-xml", ANYCONF_XML).await;

    let (json, xml) = (
        stored_talks(&db.pool, "from-json").await,
        stored_talks(&db.pool, "from-xml").await,
    );
    assert_eq!(json.len(), 1);
    assert_eq!(xml.len(), 1);
    for talk in [&json[0].data, &xml[0].data] {
        assert_eq!(talk.title, "Welcome to AnyConf 2024");
        assert_eq!(talk.slot.map(|s| s.start), Some(at("2024-02-03T08:00:00Z")));
        assert_eq!(talk.slot.map(|s| s.end), Some(at("2024-02-03T08:25:00Z")));
        let names: Vec<&str> = talk.speakers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["AnyConf Staff", "Alice AnyConf"]);
    }
    let mut conn = db.pool.acquire().await.expect("connection");
    let conference = store::conferences::find(&mut conn, &slug("from-json"))
        .await
        .expect("query")
        .expect("exists");
    assert_eq!(conference.conference.time_zone, Tz::Europe__Brussels);
    assert_eq!(conference.conference.name, "AnyConf 2024");
    let days = store::conferences::days(&mut conn, conference.id)
        .await
        .expect("days");
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].start, at("2024-02-03T03:00:00Z"));
}

#[tokio::test]
async fn the_ics_export_reimports_as_an_unchanged_schedule() {
    let db = TestDb::new().await;
    import_text(&db.pool, "nbpy-2026", SEED_ICS).await;
    // Another conference's file on purpose: a programme with talks of both.
    import_text_confirmed(&db.pool, "nbpy-2026", ANYCONF_JSON).await;
    let stored = stored_talks(&db.pool, "nbpy-2026").await;
    let mut conn = db.pool.acquire().await.expect("connection");
    let conference = store::conferences::find(&mut conn, &slug("nbpy-2026"))
        .await
        .expect("query")
        .expect("exists")
        .conference;

    let ics = export::ics::to_ics(&conference, &stored, chrono::Utc::now());
    let outcome = import_text(&db.pool, "nbpy-2026", &ics).await;

    assert!(outcome.diff.is_empty(), "{:?}", outcome.diff);
    assert_eq!(stored_talks(&db.pool, "nbpy-2026").await, stored);
}

/// Backslashes, tabs, newlines and a literal `\N` (escapes and NULL in `COPY`'s text format,
/// and in many a hand-rolled encoder) come back from the database as they were imported.
#[tokio::test]
async fn backslashes_tabs_newlines_and_a_literal_backslash_n_are_stored_as_imported() {
    let db = TestDb::new().await;
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\n\
               UID:escapes-1\r\nDTSTART:20261028T090000Z\r\nDTEND:20261028T093000Z\r\n\
               SUMMARY:C:\\\\temp\\\\N and \\\\t - Ada \\\\N Lovelace\r\n\
               DESCRIPTION:line one\\nline two\twith a tab\\n\\\\N\r\n\
               LOCATION:Room \\\\N\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let parsed = parse(ics);
    let imported = &parsed.talks[0];
    assert!(
        imported.title.contains(r"C:\temp\N"),
        "{:?}",
        imported.title
    );
    assert!(imported
        .abstract_text
        .as_deref()
        .is_some_and(|a| a.contains('\t') && a.contains('\n') && a.ends_with(r"\N")));

    import_schedule(&db.pool, "escapes", &parsed, false).await;

    let stored = stored_talks(&db.pool, "escapes").await;
    let talk = &stored[0].data;
    assert_eq!(talk.title, imported.title);
    assert_eq!(talk.abstract_text, imported.abstract_text);
    assert_eq!(talk.room.as_deref(), Some(r"Room \N"));
    assert_eq!(talk.speakers, imported.speakers);
    assert!(import_text(&db.pool, "escapes", ics).await.diff.is_empty());
}
