//! An import's record, its diff streamed into `COPY imports` as it is encoded
//! (`store::imports`): what is stored reads back as the diff the import returned, whatever
//! its text holds and however many pieces it takes.

use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Tz;
use confbot::domain::import::Format;
use confbot::domain::model::{ConferenceSlug, ImportedSchedule, ScheduleScope, Slot, TalkData};
use confbot::store;
use confbot::store::imports::{apply_import, ImportOutcome, ImportRequest};

use crate::harness::TestDb;

/// Text that `COPY`'s text format would read as structure if it were not escaped, and JSON
/// escapes of its own.
const AWKWARD: &str = "C:\\talks\\new \"quoted\"\tTabbed ünï 🎉 \\N \\. end";

fn schedule(talks: usize) -> ImportedSchedule {
    let start = Utc
        .with_ymd_and_hms(2027, 3, 1, 9, 0, 0)
        .single()
        .expect("a time");
    let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
    schedule.talks = (0..talks)
        .map(|i| TalkData {
            source_id: Some(format!("id\\{i}\t\"x\"").into()),
            title: format!("{AWKWARD} {i}"),
            room: Some(format!("Room \\{}", i % 7).into()),
            slot: Some(Slot {
                start: start + Duration::minutes(i as i64),
                end: start + Duration::minutes(i as i64 + 30),
                all_day: false,
            }),
            ..TalkData::default()
        })
        .collect();
    schedule
}

/// Imports `talks` generated talks into `slug` from `source`.
async fn import(db: &TestDb, slug: &str, source: &str, talks: usize) -> ImportOutcome {
    let slug = ConferenceSlug::parse(slug).expect("slug");
    apply_import(
        &db.pool,
        ImportRequest {
            slug: &slug,
            source,
            format: Format::Ics,
            schedule: schedule(talks),
            time_zone_override: None,
            default_time_zone: Tz::UTC,
            dry_run: false,
            allow_mass_change: false,
        },
    )
    .await
    .expect("imports")
}

#[tokio::test]
async fn a_diff_of_many_pieces_and_awkward_text_is_stored_as_the_import_returned_it() {
    let db = TestDb::new().await;
    let source = "/tmp/a\tpath\\with\nbreaks.ics";
    // About 250 bytes of JSON a talk: over a megabyte, several pieces.
    let outcome = import(&db, "awkward", source, 5_000).await;

    let id = outcome.import_id.expect("recorded");
    let stored = store::imports::diff_of(&db.pool, id)
        .await
        .expect("query")
        .expect("the record is there under the id returned");
    assert_eq!(outcome.diff.added.len(), 5_000);
    assert_eq!(stored, outcome.diff);
    let (stored_source, format, added): (String, String, i32) =
        sqlx::query_as("SELECT source, format, added FROM imports WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("the record");
    assert_eq!(
        (stored_source.as_str(), format.as_str(), added),
        (source, "ics", 5_000)
    );
    let length: i32 = sqlx::query_scalar("SELECT length(diff::text) FROM imports WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .expect("its length");
    assert!(
        length > 1 << 20,
        "the diff took {length} bytes, fewer than two pieces"
    );
}

#[tokio::test]
async fn a_second_import_records_a_second_row_under_its_own_id() {
    let db = TestDb::new().await;
    let mut ids = Vec::new();
    for talks in [3, 4] {
        let outcome = import(&db, "twice", "twice.ics", talks).await;
        let id = outcome.import_id.expect("recorded");
        let stored = store::imports::diff_of(&db.pool, id)
            .await
            .expect("query")
            .expect("stored");
        assert_eq!(stored, outcome.diff);
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    let added: Vec<i32> = sqlx::query_scalar("SELECT added FROM imports ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .expect("records");
    assert_eq!(added, [3, 1]);
}
