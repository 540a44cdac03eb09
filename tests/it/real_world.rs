//! Real-world exports (`tests/fixtures/real-world/`): files that repeat an id, and one pretalx
//! conference in all three of its formats.

use confbot::domain::model::ImportedSchedule;
use confbot::store::subscriptions::{self, SubscriptionRef};

use crate::fixtures::{import_text, parse, stored_talks};
use crate::harness::TestDb;

const CONGRESS_XML: &str = include_str!("../fixtures/real-world/congress-duplicate-guids.xml");
const CALENDAR_ICS: &str = include_str!("../fixtures/real-world/calendar-duplicate-uid.ics");
const DUPLICATE_JSON: &str = include_str!("../fixtures/real-world/schedule-duplicate-guid.json");
const MINICONF_ICS: &str = include_str!("../fixtures/real-world/miniconf-pretalx.ics");
const MINICONF_JSON: &str = include_str!("../fixtures/real-world/miniconf-pretalx.json");
const MINICONF_XML: &str = include_str!("../fixtures/real-world/miniconf-pretalx.xml");

/// `(title, id)` of every talk, in file order.
fn ids(schedule: &ImportedSchedule) -> Vec<(String, String)> {
    schedule
        .talks
        .iter()
        .map(|t| (t.title.clone(), t.source_id.clone().expect("an id").into()))
        .collect()
}

/// The id a talk was given, checked to be derived from `original`.
fn derived<'a>(ids: &'a [(String, String)], title: &str, original: &str) -> &'a str {
    let id = &ids.iter().find(|(t, _)| t == title).expect(title).1;
    let hash = id
        .strip_prefix(original)
        .and_then(|rest| rest.strip_prefix('#'))
        .unwrap_or_else(|| panic!("{id:?} is not derived from {original:?}"));
    assert!(
        hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    id
}

#[test]
fn a_congress_xml_that_repeats_a_guid_imports_every_event_with_stable_ids() {
    let guid = "1b2f4a7e-0000-4000-8000-00000000c0de";
    let first = parse(CONGRESS_XML);
    let again = parse(CONGRESS_XML);

    let ids = ids(&first);
    assert_eq!(ids.len(), 4);
    assert_eq!(ids[0], ("Opening Ceremony".to_owned(), guid.to_owned()));
    assert_eq!(
        ids[1],
        (
            "Hardware Hacking 101".to_owned(),
            "7c6d5e4f-0000-4000-8000-000000000002".to_owned()
        )
    );
    let stream = derived(&ids, "Opening Ceremony (stream)", guid);
    let lightning = derived(&ids, "Lightning Talks", guid);
    assert_ne!(stream, lightning);
    assert_eq!(ids, self::ids(&again), "the same file gives the same ids");
    assert_eq!(
        first.warnings,
        [
            format!("line 30: the id {guid:?} is also used by line 15; imported as {stream:?}"),
            format!("line 36: the id {guid:?} is also used by line 15; imported as {lightning:?}"),
        ]
    );
}

#[test]
fn reordering_the_repeats_does_not_swap_their_ids() {
    let guid = "1b2f4a7e-0000-4000-8000-00000000c0de";
    let stream_start = CONGRESS_XML
        .find("      <event guid=\"1b2f4a7e-0000-4000-8000-00000000c0de\" id=\"11\">\n        <date>2026-12-27T11:00")
        .and_then(|first| {
            CONGRESS_XML[first + 1..]
                .find("      <event guid=\"1b2f4a7e")
                .map(|n| n + first + 1)
        })
        .expect("the second event");
    let stream_end = stream_start
        + CONGRESS_XML[stream_start..]
            .find("</event>\n")
            .expect("end")
        + 9;
    let lightning_end =
        stream_end + CONGRESS_XML[stream_end..].find("</event>\n").expect("end") + 9;
    let swapped = format!(
        "{}{}{}{}",
        &CONGRESS_XML[..stream_start],
        &CONGRESS_XML[stream_end..lightning_end],
        &CONGRESS_XML[stream_start..stream_end],
        &CONGRESS_XML[lightning_end..]
    );

    let original = ids(&parse(CONGRESS_XML));
    let reordered = ids(&parse(&swapped));

    assert_eq!(reordered[2].0, "Lightning Talks", "the file was reordered");
    for title in ["Opening Ceremony (stream)", "Lightning Talks"] {
        assert_eq!(
            derived(&original, title, guid),
            derived(&reordered, title, guid),
            "{title}"
        );
    }
}

#[test]
fn a_calendar_that_repeats_a_uid_imports_every_event_and_names_both_lines() {
    let uid = "session-42@calendar.example.org";
    let first = parse(CALENDAR_ICS);

    let ids = ids(&first);
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ("Morning Workshop".to_owned(), uid.to_owned()));
    assert_eq!(
        ids[1],
        (
            "Lunch Talk".to_owned(),
            "session-43@calendar.example.org".to_owned()
        )
    );
    let afternoon = derived(&ids, "Afternoon Workshop", uid);
    assert_eq!(ids, self::ids(&parse(CALENDAR_ICS)));
    assert_eq!(
        first.warnings,
        [format!(
            "line 21: the id {uid:?} is also used by line 5; imported as {afternoon:?}"
        )]
    );
}

#[test]
fn a_schedule_json_that_repeats_a_guid_imports_every_talk_and_names_both() {
    let guid = "aaaaaaaa-0000-4000-8000-000000000001";
    let first = parse(DUPLICATE_JSON);

    let ids = ids(&first);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ("Keynote".to_owned(), guid.to_owned()));
    let second = derived(&ids, "Second Keynote", guid);
    assert_eq!(ids, self::ids(&parse(DUPLICATE_JSON)));
    assert_eq!(
        first.warnings,
        [format!(
            "day 1, room \"Hall\", talk 2 (\"Second Keynote\"): the id {guid:?} is also used by \
             day 1, room \"Hall\", talk 1 (\"Keynote\"); imported as {second:?}"
        )]
    );
}

#[tokio::test]
async fn reimporting_files_that_repeat_ids_is_a_zero_diff() {
    let db = TestDb::new().await;
    for (slug, text, count) in [
        ("congress", CONGRESS_XML, 4),
        ("calendar", CALENDAR_ICS, 3),
        ("dupconf", DUPLICATE_JSON, 2),
    ] {
        let first = import_text(&db.pool, slug, text).await;
        assert_eq!(first.diff.added.len(), count, "{slug}");

        let again = import_text(&db.pool, slug, text).await;

        assert!(again.diff.is_empty(), "{slug}: {:?}", again.diff);
        assert_eq!(again.diff.unchanged, count, "{slug}");
        assert_eq!(stored_talks(&db.pool, slug).await.len(), count, "{slug}");
    }
}

#[test]
fn the_three_miniconf_files_describe_the_same_talks() {
    let summary = |s: &ImportedSchedule| {
        let mut talks: Vec<_> = s
            .talks
            .iter()
            .map(|t| {
                (
                    t.title.clone(),
                    t.slot,
                    t.room.clone(),
                    t.speakers
                        .iter()
                        .map(|p| p.name.clone())
                        .collect::<Vec<_>>(),
                    t.url.clone(),
                )
            })
            .collect();
        talks.sort_by(|a, b| a.0.cmp(&b.0));
        talks
    };
    let ics = summary(&parse(MINICONF_ICS));
    assert_eq!(ics.len(), 3);
    assert_eq!(ics, summary(&parse(MINICONF_JSON)));
    assert_eq!(ics, summary(&parse(MINICONF_XML)));
}

#[tokio::test]
async fn one_pretalx_conference_as_ics_then_json_then_xml_keeps_its_talks_and_subscriptions() {
    let db = TestDb::new().await;
    let first = import_text(&db.pool, "miniconf", MINICONF_ICS).await;
    assert_eq!(first.diff.added.len(), 3);
    let (conference, talk): (i64, i64) = sqlx::query_as(
        "SELECT conference_id, id FROM talks \
         WHERE source_id = 'pretalx-miniconf-2026-EF34GH@pretalx.example.org'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the talk is stored");
    let talk = confbot::domain::model::TalkId(talk);
    assert!(
        subscriptions::subscribe(&db.pool, conference, None, 42, SubscriptionRef::Talk(talk))
            .await
            .expect("subscribe")
    );
    let ids_before: Vec<_> = stored_talks(&db.pool, "miniconf")
        .await
        .iter()
        .map(|t| t.id)
        .collect();

    for (format, text) in [("json", MINICONF_JSON), ("xml", MINICONF_XML)] {
        let outcome = import_text(&db.pool, "miniconf", text).await;

        assert!(
            outcome.diff.added.is_empty(),
            "{format}: {:?}",
            outcome.diff
        );
        assert!(
            outcome.diff.cancelled.is_empty(),
            "{format}: {:?}",
            outcome.diff
        );
        assert!(outcome.diff.is_empty(), "{format}: {:?}", outcome.diff);
        let stored = stored_talks(&db.pool, "miniconf").await;
        assert_eq!(
            stored.iter().map(|t| t.id).collect::<Vec<_>>(),
            ids_before,
            "{format}"
        );
        let subscribers: i64 =
            sqlx::query_scalar("SELECT count(*) FROM subscriptions WHERE talk_id = $1")
                .bind(talk.0)
                .fetch_one(&db.pool)
                .await
                .expect("count");
        assert_eq!(subscribers, 1, "{format}: the subscription survives");
    }
}
