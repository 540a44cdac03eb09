use super::wire::RoomInfo;
use super::*;
use crate::domain::model::TalkStatus;
use proptest::prelude::*;

const ANYCONF: &str = include_str!("../../../../tests/fixtures/pretalx-anyconf.json");

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid RFC 3339 in test")
}

fn parse_ok(json: &str) -> ImportedSchedule {
    parse(json, &ImportOptions::default()).expect("schedule parses")
}

fn parse_err(json: &str) -> String {
    parse(json, &ImportOptions::default())
        .expect_err("schedule is refused")
        .to_string()
}

/// A one-day schedule in `zone` whose day starts at 04:00, with `talks` in room "Main".
fn schedule(zone: &str, day: &str, talks: &str) -> String {
    format!(
        r#"{{"schedule": {{"conference": {{
  "title": "Test Conf", "time_zone_name": "{zone}",
  "days": [{{"index": 1, "date": "{day}",
    "day_start": "{day}T04:00:00+01:00", "day_end": null,
    "rooms": {{"Main": [{talks}]}}}}]
}}}}}}"#
    )
}

#[test]
fn the_anyconf_fixture_gives_its_one_talk() {
    let parsed = parse_ok(ANYCONF);

    assert_eq!(parsed.scope, ScheduleScope::Timetable);
    assert_eq!(parsed.name.as_deref(), Some("AnyConf 2024"));
    assert_eq!(parsed.time_zone, Some(Tz::Europe__Brussels));
    assert_eq!(
        parsed.days,
        vec![ProgrammeDay {
            date: "2024-02-03".parse().expect("date"),
            start: utc("2024-02-03T03:00:00Z"),
            end: utc("2024-02-04T02:59:00Z"),
        }]
    );
    let [talk] = parsed.talks.as_slice() else {
        panic!("expected one talk, got {:?}", parsed.talks);
    };
    assert_eq!(
        talk.source_id.as_deref(),
        Some("5bb0aa4e-0c0e-5ccd-9523-0ed1ca679039")
    );
    assert_eq!(talk.title, "Welcome to AnyConf 2024");
    assert_eq!(talk.subtitle, None);
    let names: Vec<&str> = talk.speakers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["AnyConf Staff", "Alice AnyConf"]);
    assert_eq!(talk.speakers[0].source_id.as_deref(), Some("37RA83"));
    assert_eq!(talk.speakers[0].biography, None);
    assert_eq!(
        talk.speakers[1].biography.as_deref(),
        Some("Alice is a test user with a big robotic brain.")
    );
    assert_eq!(talk.room.as_deref(), Some("Janson"));
    assert_eq!(
        talk.slot,
        Some(Slot {
            start: utc("2024-02-03T08:00:00Z"),
            end: utc("2024-02-03T08:25:00Z"),
            all_day: false,
        })
    );
    assert_eq!(talk.track.as_deref(), Some("Keynotes"));
    assert_eq!(talk.talk_type.as_deref(), Some("Talk"));
    assert_eq!(
        talk.abstract_text.as_deref(),
        Some("AnyConf welcome and opening talk.")
    );
    assert_eq!(talk.description, None);
    assert_eq!(talk.status, TalkStatus::Confirmed);
}

#[test]
fn null_and_missing_fields_are_tolerated() {
    let talks = r#"{"code": "ABC123", "date": "2024-05-01T10:00:00+02:00", "duration": "0:45",
        "title": "Minimal", "subtitle": null, "track": null, "abstract": null,
        "description": null, "persons": null, "links": null, "room": null,
        "unknown_field": {"nested": [1, 2]}}"#;

    let talk = &parse_ok(&schedule("Europe/Berlin", "2024-05-01", talks)).talks[0];

    assert_eq!(talk.source_id.as_deref(), Some("ABC123"));
    assert_eq!(talk.room.as_deref(), Some("Main"));
    assert_eq!(talk.track, None);
    assert_eq!(talk.speakers, vec![]);
    assert_eq!(talk.slot.map(|s| s.end), Some(utc("2024-05-01T08:45:00Z")));
}

#[test]
fn a_numeric_id_is_the_last_resort_for_the_source_id() {
    let talks = r#"{"guid": "", "id": 4711, "date": "2024-05-01T10:00:00+02:00",
        "duration": "00:30:00", "title": "By number"}"#;

    let talk = &parse_ok(&schedule("Europe/Berlin", "2024-05-01", talks)).talks[0];

    assert_eq!(talk.source_id.as_deref(), Some("4711"));
    assert_eq!(talk.slot.map(|s| s.end), Some(utc("2024-05-01T08:30:00Z")));
}

#[test]
fn talks_without_date_use_the_day_and_the_zone_across_a_dst_change() {
    // Berlin springs forward on Sunday 2024-03-31 at 02:00: 10:00 that day is CEST (+02:00).
    let talks = r#"{"guid": "g", "start": "10:00", "duration": "00:30", "title": "Sunday"}"#;
    let json = schedule("Europe/Berlin", "2024-03-31", talks);

    let slot = parse_ok(&json).talks[0].slot.expect("scheduled");

    assert_eq!(slot.start, utc("2024-03-31T08:00:00Z"));
    assert_eq!(slot.end, utc("2024-03-31T08:30:00Z"));
}

#[test]
fn a_talk_after_midnight_belongs_to_the_evening_before() {
    // 36C3 style: listed under 2019-12-27 (day starts 04:00), held on the 28th at 01:00 CET.
    let talks = r#"{"guid": "late", "start": "01:00", "duration": "01:00", "title": "Night"}"#;
    let json = schedule("Europe/Berlin", "2019-12-27", talks);

    let slot = parse_ok(&json).talks[0].slot.expect("scheduled");

    assert_eq!(slot.start, utc("2019-12-28T00:00:00Z"));
}

#[test]
fn html_abstracts_become_text_and_markdown_stays() {
    let talks = r###"{"guid": "h", "date": "2024-05-01T10:00:00+02:00", "duration": "00:30",
        "title": "T", "abstract": "<p>Fast &amp; <b>safe</b>.</p><p>Really.</p>",
        "description": "## Outline\n\n* `Vec<T>` basics"}"###;

    let talk = &parse_ok(&schedule("Europe/Berlin", "2024-05-01", talks)).talks[0];

    assert_eq!(
        talk.abstract_text.as_deref(),
        Some("Fast & safe.\n\nReally.")
    );
    assert_eq!(
        talk.description.as_deref(),
        Some("## Outline\n\n* `Vec<T>` basics")
    );
}

#[test]
fn a_cancelled_prefix_marks_the_talk_cancelled() {
    let talks = r#"{"guid": "c", "date": "2024-05-01T10:00:00+02:00", "duration": "00:30",
        "title": "CANCELLED Rust in space"}"#;

    let talk = &parse_ok(&schedule("Europe/Berlin", "2024-05-01", talks)).talks[0];

    assert_eq!(
        (talk.title.as_str(), talk.status),
        ("Rust in space", TalkStatus::Cancelled)
    );
}

#[test]
fn a_missing_or_bad_duration_names_the_talk() {
    let missing = r#"{"guid": "g1", "date": "2024-05-01T10:00:00+02:00", "title": "No length"}"#;
    let bad = r#"{"guid": "g2", "date": "2024-05-01T10:00:00+02:00", "title": "Odd",
        "duration": "30 min"}"#;

    assert_eq!(
        parse_err(&schedule("Europe/Berlin", "2024-05-01", missing)),
        "talk \"No length\" (g1): has no duration"
    );
    assert_eq!(
        parse_err(&schedule("Europe/Berlin", "2024-05-01", bad)),
        "talk \"Odd\" (g2): duration \"30 min\" should be HH:MM or HH:MM:SS"
    );
}

#[test]
fn a_talk_without_any_id_names_its_position() {
    let talks = r#"{"guid": null, "date": "2024-05-01T10:00:00+02:00", "duration": "00:30",
        "title": "Anonymous"}"#;

    assert_eq!(
        parse_err(&schedule("Europe/Berlin", "2024-05-01", talks)),
        "day 1, room \"Main\", talk 1 (\"Anonymous\"): has no guid, code or id"
    );
}

#[test]
fn a_syntax_error_names_line_and_column() {
    let json = "{\"schedule\": {\n  \"conference\": {\n    \"title\": \"X\"\n    \"days\": []\n}}}";

    assert_eq!(parse_err(json), "line 4: column 5: expected `,` or `}`");
}

#[test]
fn a_wrongly_typed_field_says_what_was_expected() {
    let json = "{\"schedule\": {\"conference\": {\n\"title\": 42}}}";

    assert_eq!(
        parse_err(json),
        "line 2: column 11: invalid type: integer `42`, expected a string"
    );
    assert_eq!(
        parse_err("{\"schedule\": \"soon\"}"),
        "line 1: column 19: invalid type: string \"soon\", expected a schedule object"
    );
    assert_eq!(
        parse_err(" [1, 2]"),
        "line 1: the JSON is a list; a pretalx/frab schedule.json is an object holding \
         schedule.conference"
    );
}

#[test]
fn valid_json_of_another_shape_is_refused_clearly() {
    assert_eq!(
        parse_err(r#"{"talks": []}"#),
        "the JSON has no schedule.conference object: is this a pretalx or frab schedule.json?"
    );
}

#[test]
fn a_schedule_without_talks_is_refused_rather_than_cancelling_everything() {
    assert_eq!(
        parse_err(&schedule("Europe/Brussels", "2024-05-01", "")),
        "the schedule.json contains no talk: refusing to import an empty timetable"
    );
}

#[test]
fn an_unknown_zone_is_named() {
    assert_eq!(
        parse_err(&schedule("Mars/Olympus", "2024-05-01", "")),
        "schedule.conference.time_zone_name: unknown time zone \"Mars/Olympus\""
    );
}

#[test]
fn pretalx_room_descriptions_do_not_replace_proper_names() {
    let rooms = [
        RoomInfo {
            name: Some("Room A".into()),
            description: Some("Take the stairs".into()),
        },
        RoomInfo {
            name: Some("j1106".into()),
            description: Some("J.1.106".into()),
        },
        RoomInfo {
            name: Some("k".into()),
            description: Some("A long description\nthat spans lines".into()),
        },
    ];

    let names = room_display_names(&rooms);

    assert_eq!(&*names["Room A"], "Room A");
    assert_eq!(&*names["j1106"], "J.1.106");
    assert_eq!(&*names["k"], "k");
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(128))]

    #[test]
    fn arbitrary_input_never_panics(input in "\\PC*") {
        let _ = parse(&input, &ImportOptions::default());
    }

    #[test]
    fn truncated_fixtures_never_panic(at in 0usize..2600) {
        let _ = parse(crate::test_support::prefix_at(ANYCONF, at), &ImportOptions::default());
    }

    #[test]
    fn mutated_fixtures_never_panic(
        edits in proptest::collection::vec((0usize..2600, "[{}\\[\\]:,\"0-9a-z .+-]{0,3}"), 1..6)
    ) {
        let json = crate::test_support::with_insertions(ANYCONF, edits);
        let _ = parse(&json, &ImportOptions { time_zone: Some(Tz::UTC), ..ImportOptions::default() });
        let undated = json.replace("\"date\": \"2024-02-03T", "\"x\": \"");
        let _ = parse(&undated, &ImportOptions::default());
    }
}

#[test]
fn the_fixture_without_talk_dates_gives_the_same_instants() {
    let undated = ANYCONF.replace("\"date\": \"2024-02-03T09:00:00+01:00\",", "");
    assert_ne!(undated, ANYCONF);

    let slot = parse_ok(&undated).talks[0].slot.expect("scheduled");

    assert_eq!(slot.start, utc("2024-02-03T08:00:00Z"));
    assert_eq!(slot.end, utc("2024-02-03T08:25:00Z"));
}
