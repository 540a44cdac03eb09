//! The importer end to end: the seed file, VEVENT fields, broken input, and never panicking.

use chrono::{DateTime, Utc};
use proptest::prelude::*;

use super::parse;
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{ScheduleScope, TalkData, TalkKind, TalkStatus};

const SEED: &str = include_str!("../../../../tests/fixtures/seed000-nbpy-pretalx.ics");

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn import(input: &str) -> Result<Vec<TalkData>, ImportError> {
    parse(input, &ImportOptions::default()).map(|s| s.talks)
}

/// A non-pretalx calendar with one event made of `props` (UTC times unless overridden).
fn calendar(props: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Example//Cal//EN\nBEGIN:VEVENT\n{props}\nEND:VEVENT\nEND:VCALENDAR\n"
    )
}

fn line_of(err: &ImportError) -> usize {
    match err {
        ImportError::AtLine { line, .. } => *line,
        other => panic!("expected a line number, got {other:?}"),
    }
}

#[test]
fn the_seed_pretalx_export_gives_exactly_its_one_talk() {
    let schedule = parse(SEED, &ImportOptions::default()).unwrap();
    assert_eq!(schedule.scope, ScheduleScope::Timetable);
    assert_eq!(schedule.talks.len(), 1);
    let talk = &schedule.talks[0];
    assert_eq!(
        talk.source_id.as_deref(),
        Some("pretalx-nbpy-2026-ERUJ9T@pretalx.northbaypython.org")
    );
    assert_eq!(
        talk.title,
        "Python as Orchestrator: When to Glue, When to Compute"
    );
    let names: Vec<&str> = talk.speakers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Freya Bhushan Mehta"]);
    assert_eq!(talk.room.as_deref(), Some("Barn"));
    let slot = talk.slot.unwrap();
    assert_eq!(
        (slot.start, slot.end),
        (utc("2026-04-25T22:45:00Z"), utc("2026-04-25T23:10:00Z"))
    );
    assert!(!slot.all_day);
    assert_eq!(
        talk.url.as_deref(),
        Some("https://pretalx.northbaypython.org/nbpy-2026/talk/ERUJ9T/")
    );
    let abstract_text = talk.abstract_text.as_deref().unwrap();
    assert!(abstract_text
        .starts_with("Python powers Netflix's recommendation engine, processes petabytes"));
    assert!(abstract_text.contains("\"What should Python be doing?\"\n\nMany developers"));
    assert_eq!(
        (talk.status, talk.kind),
        (TalkStatus::Confirmed, TalkKind::Talk)
    );
    // No X-WR-TIMEZONE: the zone that behaves like the file's `PST` VTIMEZONE.
    assert_eq!(
        schedule.time_zone,
        Some(chrono_tz::Tz::America__Los_Angeles)
    );
}

#[test]
fn the_seed_imports_the_same_with_crlf_line_endings() {
    let crlf = SEED.replace('\n', "\r\n");
    assert_eq!(import(&crlf).unwrap(), import(SEED).unwrap());
}

#[test]
fn calendar_name_and_zone_come_from_x_wr_headers() {
    let input = calendar("UID:a\nSUMMARY:x\nDTSTART:20260425T100000Z").replace(
        "VERSION:2.0\n",
        "VERSION:2.0\nX-WR-CALNAME:PyCon\\, Test\nX-WR-TIMEZONE:\"Europe/Berlin\"\n",
    );
    let schedule = parse(&input, &ImportOptions::default()).unwrap();
    assert_eq!(schedule.name.as_deref(), Some("PyCon, Test"));
    assert_eq!(schedule.time_zone, Some(chrono_tz::Tz::Europe__Berlin));
}

#[test]
fn folded_escaped_text_fields_map_onto_the_talk() {
    let input = calendar(
        "UID:t-1\r\nSUMMARY:Commas\\, semicolons\\; and back\\\\slashes - not speakers\r\n\
         DTSTART:20260425T100000Z\r\nDTEND:20260425T110000Z\r\nDESCRIPTION:Line one\\nLine\r\n  two\\Nthree\r\n\
         LOCATION:Room\\, B\r\nCATEGORIES:Web\\, APIs,Data\r\nURL:https://example.org/t/1\r\n\
         X-CONFBOT-SUBTITLE:More\r\nX-CONFBOT-LEVEL:Intermediate\r\nX-CONFBOT-TYPE:Workshop\r\n\
         X-CONFBOT-LANGUAGE:en\r\nSTATUS:CANCELLED\r\nX-UNKNOWN;FOO=bar:ignored",
    );
    let talk = &import(&input).unwrap()[0];
    assert_eq!(
        talk.title,
        "Commas, semicolons; and back\\slashes - not speakers"
    );
    assert!(talk.speakers.is_empty());
    assert_eq!(
        talk.abstract_text.as_deref(),
        Some("Line one\nLine two\nthree")
    );
    assert_eq!(talk.room.as_deref(), Some("Room, B"));
    assert_eq!(talk.track.as_deref(), Some("Web, APIs"));
    assert_eq!(talk.url.as_deref(), Some("https://example.org/t/1"));
    assert_eq!(talk.subtitle.as_deref(), Some("More"));
    assert_eq!(talk.level.as_deref(), Some("Intermediate"));
    assert_eq!(talk.talk_type.as_deref(), Some("Workshop"));
    assert_eq!(talk.language.as_deref(), Some("en"));
    assert_eq!(talk.status, TalkStatus::Cancelled);
}

#[test]
fn tentative_and_confirmed_statuses_are_confirmed() {
    for status in ["TENTATIVE", "CONFIRMED"] {
        let input = calendar(&format!(
            "UID:a\nSUMMARY:x\nDTSTART:20260425T100000Z\nSTATUS:{status}"
        ));
        assert_eq!(import(&input).unwrap()[0].status, TalkStatus::Confirmed);
    }
}

#[test]
fn confbot_speaker_properties_win_over_summary_splitting() {
    let input = calendar(
        "UID:a\nSUMMARY:Title - with dash\nX-CONFBOT-SPEAKER:Ana\\, PhD\nX-CONFBOT-SPEAKER:Bo\n\
         X-CONFBOT-KIND:other\nX-CONFBOT-TRACK:Core\nCATEGORIES:Ignored\nDTSTART:20260425T100000Z",
    )
    .replace("-//Example//Cal//EN", "-//pretalx//x//Y");
    let talk = &import(&input).unwrap()[0];
    assert_eq!(talk.title, "Title - with dash");
    let names: Vec<&str> = talk.speakers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Ana, PhD", "Bo"]);
    assert_eq!(talk.kind, TalkKind::Other);
    assert_eq!(talk.track.as_deref(), Some("Core"));
}

#[test]
fn an_event_without_uid_gets_a_stable_generated_id() {
    let input = calendar("SUMMARY:Lunch\nDTSTART:20260425T120000Z");
    let first = String::from(import(&input).unwrap()[0].source_id.clone().unwrap());
    assert!(
        first.starts_with("generated-") && first.len() == "generated-".len() + 16,
        "{first}"
    );
    assert_eq!(
        import(&input).unwrap()[0].source_id.as_deref(),
        Some(first.as_str())
    );
    let next_day = input.replace("20260425", "20260426");
    assert_ne!(
        import(&next_day).unwrap()[0].source_id.as_deref(),
        Some(first.as_str())
    );
}

#[test]
fn unknown_components_are_ignored_and_an_empty_calendar_is_refused() {
    let input = calendar(
        "UID:a\nSUMMARY:x\nDTSTART:20260425T100000Z\nBEGIN:VALARM\nTRIGGER:-PT5M\nEND:VALARM",
    )
    .replace(
        "END:VCALENDAR",
        "BEGIN:VTODO\nSUMMARY:todo\nEND:VTODO\nEND:VCALENDAR",
    );
    assert_eq!(import(&input).unwrap().len(), 1);
    let empty = "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VTODO\nEND:VTODO\nEND:VCALENDAR\n";
    assert!(import(empty).unwrap_err().to_string().contains("no VEVENT"));
}

#[test]
fn broken_events_are_errors_naming_their_line() {
    let cases = [
        ("UID:a\nSUMMARY:x", 4, "VEVENT without DTSTART"),
        (
            "UID:a\nSUMMARY:x\nDTSTART:20260231T100000Z",
            7,
            "is not a date-time",
        ),
        (
            "UID:a\nSUMMARY:  \nDTSTART:20260425T100000Z",
            6,
            "without a title",
        ),
        ("UID:a\nDTSTART:20260425T100000Z", 4, "without a title"),
        (
            "UID:a\nSUMMARY:x\nDTSTART:20260425T100000Z\nX-CONFBOT-KIND:keynote",
            8,
            "neither talk nor other",
        ),
        (
            "UID:a\nSUMMARY:x\nDTSTART;VALUE=DATE:20260425\nDTEND:20260426T100000Z",
            8,
            "both must be dates",
        ),
    ];
    for (props, line, needle) in cases {
        let err = parse(
            &calendar(props),
            &ImportOptions {
                time_zone: Some(chrono_tz::UTC),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(line_of(&err), line, "{props:?}: {err}");
        assert!(err.to_string().contains(needle), "{props:?}: {err}");
    }
}

#[test]
fn a_truncated_seed_names_the_unclosed_component() {
    let cut = &SEED[..SEED.find("END:VEVENT").unwrap()];
    let err = import(cut).unwrap_err();
    assert_eq!(line_of(&err), 35, "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
    let without_end = SEED.trim_end().trim_end_matches("END:VCALENDAR");
    assert_eq!(line_of(&import(without_end).unwrap_err()), 1);
}

/// One edit of the seed: at a position (per mille of its length), delete some characters
/// and insert a fragment that is likely to matter to the parser.
fn edit() -> impl Strategy<Value = (usize, usize, String)> {
    let fragment = prop_oneof![
        Just(String::new()),
        Just("\n".to_owned()),
        Just("\r\n ".to_owned()),
        Just(":".to_owned()),
        Just(";TZID=\"".to_owned()),
        Just("BEGIN:VEVENT\n".to_owned()),
        Just("END:VTIMEZONE\n".to_owned()),
        Just("RRULE:FREQ=SECONDLY\n".to_owned()),
        Just("DURATION:P99999W\n".to_owned()),
        "[0-9TZ+-]{1,16}",
        any::<String>(),
    ];
    (0usize..1000, 0usize..20, fragment)
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(64))]

    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        let _ = parse(&input, &ImportOptions::default());
    }

    #[test]
    fn icalendar_shaped_noise_never_panics(
        input in "(BEGIN:VCALENDAR\n|BEGIN:VEVENT\n|BEGIN:VTIMEZONE\n|BEGIN:STANDARD\n|END:[A-Z]{1,9}\n|DTSTART(;TZID=[A-Z]{1,3})?:[0-9TZ]{0,16}\n|RRULE:FREQ=YEARLY;BYDAY=-1SU\n|TZOFFSET(FROM|TO):[+-][0-9]{4}\n|SUMMARY:[a-z ]{0,8}\n| [a-z]{0,3}\n){0,40}"
    ) {
        let _ = parse(&input, &ImportOptions { time_zone: Some(chrono_tz::UTC), ..Default::default() });
    }

    #[test]
    fn random_vtimezone_rules_never_panic(
        start in "[0-9]{8}T[0-9]{6}",
        rule in "(FREQ=(YEARLY|MONTHLY|WEEKLY|DAILY|HOURLY|SECONDLY|X);)?(BYMONTH=[0-9]{1,2};)?\
                 (BYDAY=[+-]?[0-9]{0,3}(SU|MO|X);)?(BYMONTHDAY=-?[0-9]{1,2};)?\
                 (UNTIL=[0-9]{8}(T[0-9]{6}Z?)?;)?(COUNT=[0-9]{1,10};)?(INTERVAL=[0-9]{1,5};)?\
                 (BYSETPOS=-?[0-9]{1,3};)?(BYYEARDAY=-?[0-9]{1,3};)?(BYWEEKNO=-?[0-9]{1,2};)?\
                 (WKST=(MO|SU);)?(BYHOUR=[0-9]{1,2};)?",
        local in "20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])T[0-2][0-9]0000",
    ) {
        let input = SEED
            .replace("DTSTART:20071104T030000", &format!("DTSTART:{start}"))
            .replace("RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", &format!("RRULE:{rule}"))
            .replace("DTSTART;TZID=PST:20260425T154500", &format!("DTSTART;TZID=PST:{local}"))
            .replace("DTEND;TZID=PST:20260425T161000", "DURATION:PT25M");
        let _ = parse(&input, &ImportOptions::default());
    }

    #[test]
    fn mutated_or_truncated_seeds_never_panic(edits in prop::collection::vec(edit(), 0..4), cut in 0usize..=1000) {
        let mut text: Vec<char> = SEED.chars().collect();
        for (at, delete, insert) in edits {
            let at = at * text.len() / 1000;
            let end = (at + delete).min(text.len());
            text.splice(at..end, insert.chars());
        }
        text.truncate(cut * text.len() / 1000 + usize::from(cut == 1000));
        let input: String = text.into_iter().collect();
        if let Err(ImportError::AtLine { line, .. }) = parse(&input, &ImportOptions::default()) {
            prop_assert!(line >= 1 && line <= input.split('\n').count());
        }
    }
}

#[test]
fn unreadable_lines_are_noted_before_lines_outside_the_calendar() {
    let input = "BEGIN:VCALENDAR\nBAD NAME:x\nBEGIN:VEVENT\nUID:a\n\
                 DTSTART:20270301T100000Z\nDTEND:20270301T110000Z\nSUMMARY:Talk\nEND:VEVENT\n\
                 END:VCALENDAR\nSUMMARY:after\nBAD NAME2:y\n";

    let schedule = parse(input, &ImportOptions::default()).expect("imports");

    let lines: Vec<&str> = schedule
        .warnings
        .iter()
        .map(|w| w.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        lines,
        ["line 2", "line 11", "line 10"],
        "{:?}",
        schedule.warnings
    );
    assert!(schedule.warnings[2].contains("SUMMARY is outside BEGIN:VCALENDAR"));
}
