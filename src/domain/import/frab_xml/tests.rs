use super::*;
use crate::domain::model::{ScheduleScope, TalkKind, TalkStatus};
use proptest::prelude::*;

const FOSDEM: &str = include_str!("../../../../tests/fixtures/pretalx-fosdemformat.xml");

pub(super) fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid RFC 3339 in test")
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("valid date in test")
}

pub(super) fn parse_ok(xml: &str) -> ImportedSchedule {
    parse(xml, &ImportOptions::default()).expect("schedule parses")
}

pub(super) fn parse_err(xml: &str) -> String {
    parse(xml, &ImportOptions::default())
        .expect_err("schedule is refused")
        .to_string()
}

/// A one-day schedule around the given events, in `zone`, whose days change at 04:00.
pub(super) fn schedule(zone: &str, day_date: &str, events: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<schedule>
  <conference><title>Test Conf</title><time_zone_name>{zone}</time_zone_name>
    <day_change>04:00</day_change></conference>
  <day index="1" date="{day_date}">
    <room name="Main Hall">
{events}
    </room>
  </day>
</schedule>"#
    )
}

#[test]
fn the_fosdem_format_fixture_gives_its_one_talk() {
    let parsed = parse_ok(FOSDEM);

    assert_eq!(parsed.scope, ScheduleScope::Timetable);
    assert_eq!(parsed.name.as_deref(), Some("AnyConf 2024"));
    assert_eq!(parsed.time_zone, Some(Tz::Europe__Brussels));
    assert_eq!(
        parsed.days,
        vec![ProgrammeDay {
            date: date("2024-02-03"),
            start: utc("2024-02-03T08:00:00Z"),
            end: utc("2024-02-04T07:59:00Z"),
        }]
    );
    let [talk] = parsed.talks.as_slice() else {
        panic!("expected one talk, got {:?}", parsed.talks);
    };
    assert_eq!(
        talk.source_id.as_deref(),
        Some("b8325b99-84af-45a7-806b-5819c79b6dc5")
    );
    assert_eq!(talk.title, "Welcome to AnyConf 2024");
    let names: Vec<&str> = talk.speakers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["AnyConf Staff", "Alice AnyConf"]);
    assert_eq!(talk.speakers[1].source_id.as_deref(), Some("1324"));
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
    assert_eq!(talk.talk_type.as_deref(), Some("keynote"));
    assert_eq!(talk.language.as_deref(), Some("en"));
    assert_eq!(
        talk.abstract_text.as_deref(),
        Some("AnyConf welcome and opening talk.")
    );
    assert_eq!(
        talk.url.as_deref(),
        Some("https://pretalx.example.com/conf/talk/GK99DE/")
    );
    assert_eq!(talk.status, TalkStatus::Confirmed);
    assert_eq!(talk.kind, TalkKind::Talk);
}

#[test]
fn events_without_date_use_the_day_and_the_zone_across_a_dst_change() {
    // Berlin springs forward on Sunday 2024-03-31 at 02:00: 10:00 that day is CEST (+02:00).
    let events = r#"
      <event id="1"><start>10:00</start><duration>00:30</duration><title>Sunday talk</title></event>"#;
    let xml = schedule("Europe/Berlin", "2024-03-31", events);

    let parsed = parse_ok(&xml);

    let slot = parsed.talks[0].slot.expect("scheduled");
    assert_eq!(slot.start, utc("2024-03-31T08:00:00Z"));
    assert_eq!(slot.end, utc("2024-03-31T08:30:00Z"));
    // The day runs from 04:00 CEST to 04:00 CEST the next morning.
    assert_eq!(parsed.days[0].start, utc("2024-03-31T02:00:00Z"));
    assert_eq!(parsed.days[0].end, utc("2024-04-01T02:00:00Z"));
}

#[test]
fn a_talk_after_midnight_belongs_to_the_evening_before() {
    let events = r#"
      <event id="late"><start>01:00</start><duration>1:00</duration><title>Night owls</title></event>"#;
    let xml = schedule("Europe/Berlin", "2019-12-27", events);

    let slot = parse_ok(&xml).talks[0].slot.expect("scheduled");

    // Listed under Friday the 27th, held on Saturday the 28th at 01:00 CET.
    assert_eq!(slot.start, utc("2019-12-28T00:00:00Z"));
    assert_eq!(slot.end, utc("2019-12-28T01:00:00Z"));
}

#[test]
fn events_without_date_use_the_callers_zone_when_the_file_names_none() {
    let xml = r#"<schedule><day date="2024-07-01"><room name="A">
        <event id="7"><start>09:00</start><duration>00:45:00</duration><title>T</title></event>
      </room></day></schedule>"#;
    let options = ImportOptions {
        time_zone: Some(Tz::America__New_York),
        ..ImportOptions::default()
    };

    let parsed = parse(xml, &options).expect("parses");

    assert_eq!(parsed.time_zone, None);
    let slot = parsed.talks[0].slot.expect("scheduled");
    assert_eq!(slot.start, utc("2024-07-01T13:00:00Z"));
    assert_eq!(slot.end, utc("2024-07-01T13:45:00Z"));
}

#[test]
fn events_without_date_or_zone_are_refused_with_the_reason() {
    let xml = "<schedule>\n<day date=\"2024-07-01\"><room name=\"A\">\n<event id=\"7\">\
               <start>09:00</start><duration>00:45</duration><title>T</title></event>\
               </room></day></schedule>";

    let err = parse_err(xml);

    assert!(err.starts_with("line 3: <event id=\"7\">: "), "{err}");
    assert!(err.contains("no time zone"), "{err}");
}

#[test]
fn a_cancelled_title_prefix_or_status_marks_the_talk_cancelled() {
    let events = r#"
      <event guid="g1"><date>2024-05-01T10:00:00+02:00</date><duration>00:30</duration>
        <title>CANCELLED Rust in space</title></event>
      <event guid="g2"><date>2024-05-01T11:00:00+02:00</date><duration>00:30</duration>
        <title>Still on</title><status>Canceled</status></event>
      <event guid="g3"><date>2024-05-01T12:00:00+02:00</date><duration>00:30</duration>
        <title>Cancelled Culture</title></event>"#;

    let talks = parse_ok(&schedule("Europe/Berlin", "2024-05-01", events)).talks;

    let summary: Vec<(&str, TalkStatus)> =
        talks.iter().map(|t| (t.title.as_str(), t.status)).collect();
    assert_eq!(
        summary,
        [
            ("Rust in space", TalkStatus::Cancelled),
            ("Still on", TalkStatus::Cancelled),
            ("Cancelled Culture", TalkStatus::Confirmed),
        ]
    );
}

#[test]
fn an_escaped_html_abstract_becomes_plain_text() {
    let events = r#"
      <event id="9"><date>2024-05-01T10:00:00+02:00</date><duration>00:30</duration>
        <title>T</title>
        <abstract>&lt;p&gt;Fast &amp;amp; safe.&lt;/p&gt;&lt;ul&gt;&lt;li&gt;one&lt;/li&gt;&lt;li&gt;two&lt;/li&gt;&lt;/ul&gt;</abstract>
        <description><![CDATA[<p>See <a href="https://example.org/x">slides</a></p>]]></description>
      </event>"#;

    let talk = &parse_ok(&schedule("Europe/Berlin", "2024-05-01", events)).talks[0];

    assert_eq!(
        talk.abstract_text.as_deref(),
        Some("Fast & safe.\n\n• one\n• two")
    );
    assert_eq!(
        talk.description.as_deref(),
        Some("See slides (https://example.org/x)")
    );
}

#[test]
fn a_plain_text_abstract_keeps_its_paragraphs() {
    let events = "<event id=\"9\"><date>2024-05-01T10:00:00+02:00</date><duration>00:30</duration>\
        <title>T</title><abstract>\n        First paragraph\n        goes on.\n\n        Second.\n      </abstract></event>";

    let talk = &parse_ok(&schedule("Europe/Berlin", "2024-05-01", events)).talks[0];

    assert_eq!(
        talk.abstract_text.as_deref(),
        Some("First paragraph\ngoes on.\n\nSecond.")
    );
}

#[test]
fn an_entity_bomb_is_refused_before_parsing() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<schedule>&lol2;</schedule>"#;

    assert_eq!(
        parse_err(xml),
        "line 3: DTD entities are not accepted: remove the <!ENTITY ...> declarations"
    );
}

#[test]
fn a_doctype_without_entities_is_accepted() {
    let xml = schedule(
        "UTC",
        "2024-02-03",
        "<event id=\"1\"><start>10:00</start><duration>00:30</duration><title>T</title></event>",
    )
    .replace(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<!DOCTYPE schedule>",
    );

    assert_eq!(parse_ok(&xml).name.as_deref(), Some("Test Conf"));
}

#[test]
fn malformed_xml_names_the_line() {
    let xml =
        "<schedule>\n  <day date=\"2024-01-01\">\n    <room name=\"A\">\n  </day>\n</schedule>";

    let err = parse_err(xml);

    assert!(err.starts_with("line 4: malformed XML: "), "{err}");
    assert!(err.contains("room"), "{err}");
}

#[test]
fn a_missing_start_names_the_line_and_event() {
    let xml = schedule(
        "Europe/Brussels",
        "2024-02-03",
        "<event id=\"1235\"><duration>00:25</duration><title>T</title></event>",
    );

    assert_eq!(
        parse_err(&xml),
        "line 7: <event id=\"1235\">: missing <start>"
    );
}

#[test]
fn a_missing_or_bad_duration_is_refused() {
    let missing = schedule(
        "Europe/Brussels",
        "2024-02-03",
        "<event guid=\"g\"><start>10:00</start><title>T</title></event>",
    );
    let bad = schedule(
        "Europe/Brussels",
        "2024-02-03",
        "<event guid=\"g\"><start>10:00</start><duration>half an hour</duration><title>T</title></event>",
    );

    assert_eq!(
        parse_err(&missing),
        "line 7: <event guid=\"g\">: missing <duration>"
    );
    assert_eq!(
        parse_err(&bad),
        "line 7: <event guid=\"g\">: <duration> \"half an hour\" should be HH:MM or HH:MM:SS"
    );
}

#[test]
fn events_need_an_id_and_a_repeated_id_gets_one_of_its_own() {
    let event = "<event><start>10:00</start><duration>00:10</duration><title>T</title></event>";
    let twice = "<event id=\"5\"><start>10:00</start><duration>00:10</duration><title>A</title></event>\n\
                 <event id=\"5\"><start>11:00</start><duration>00:10</duration><title>B</title></event>";

    assert_eq!(
        parse_err(&schedule("Europe/Brussels", "2024-02-03", event)),
        "line 7: <event>: the event has no guid or id attribute"
    );
    let parsed = parse(
        &schedule("Europe/Brussels", "2024-02-03", twice),
        &ImportOptions::default(),
    )
    .unwrap();
    let ids: Vec<_> = parsed.talks.iter().map(|t| t.source_id.clone()).collect();
    let second = ids[1].clone().unwrap();
    assert_eq!(ids[0].as_deref(), Some("5"));
    assert!(second.starts_with("5#"), "{second}");
    assert_eq!(
        parsed.warnings,
        [format!(
            "line 8: the id \"5\" is also used by line 7; imported as {second:?}"
        )]
    );
}

#[test]
fn an_unknown_zone_and_a_wrong_root_are_named() {
    assert_eq!(
        parse_err("<schedule>\n<conference><time_zone_name>Mars/Olympus</time_zone_name></conference></schedule>"),
        "line 2: <time_zone_name>: unknown time zone \"Mars/Olympus\""
    );
    assert_eq!(
        parse_err("<html><body/></html>"),
        "line 1: <html>: the root element should be <schedule> (a frab/pentabarf schedule.xml)"
    );
}

#[test]
fn a_schedule_without_events_is_refused_rather_than_cancelling_everything() {
    assert_eq!(
        parse_err(&schedule("Europe/Brussels", "2024-02-03", "")),
        "line 2: <schedule>: no <day><room><event> found: refusing to import an empty timetable"
    );
}

#[test]
fn a_break_is_listed_but_not_a_talk() {
    let events = "<event id=\"b\"><start>12:00</start><duration>01:00</duration><title>Lunch</title><type>break</type></event>";

    let talk = &parse_ok(&schedule("Europe/Brussels", "2024-02-03", events)).talks[0];

    assert_eq!(talk.kind, TalkKind::Other);
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(128))]

    #[test]
    fn arbitrary_input_never_panics(input in "\\PC*") {
        let _ = parse(&input, &ImportOptions::default());
    }

    #[test]
    fn truncated_fixtures_never_panic(at in 0usize..2000) {
        let _ = parse(crate::test_support::prefix_at(FOSDEM, at), &ImportOptions::default());
    }

    #[test]
    fn mutated_fixtures_never_panic(
        edits in proptest::collection::vec((0usize..2000, "[<>/&;:0-9a-z\"' \n-]{0,3}"), 1..6)
    ) {
        let xml = crate::test_support::with_insertions(FOSDEM, edits);
        let _ = parse(&xml, &ImportOptions { time_zone: Some(Tz::UTC), ..ImportOptions::default() });
        let stripped = xml.replace("<date>", "<x>").replace("</date>", "</x>");
        let _ = parse(&stripped, &ImportOptions::default());
    }
}

#[test]
fn the_fixture_without_event_dates_gives_the_same_instants() {
    let undated = FOSDEM.replace("<date>2024-02-03T09:00:00+01:00</date>", "");
    assert_ne!(undated, FOSDEM);

    let slot = parse_ok(&undated).talks[0].slot.expect("scheduled");

    assert_eq!(slot.start, utc("2024-02-03T08:00:00Z"));
    assert_eq!(slot.end, utc("2024-02-03T08:25:00Z"));
}
