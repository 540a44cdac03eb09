//! Events read as they close (`calendar.rs`) against the same calendar read holding every
//! event: the talks, warnings and notes must be the same, whatever the calendar states after
//! its events.

use proptest::prelude::*;

use super::calendar::{Read, Stop};
use super::{parse, read};
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::ImportedSchedule;

const PST: &str = "BEGIN:VTIMEZONE\nTZID:PST\nBEGIN:STANDARD\nDTSTART:20071104T020000\n\
    TZOFFSETFROM:-0700\nTZOFFSETTO:-0800\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\n\
    END:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:20070311T020000\nTZOFFSETFROM:-0800\n\
    TZOFFSETTO:-0700\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\nEND:DAYLIGHT\nEND:VTIMEZONE\n";

/// A VTIMEZONE whose observance has no offset: an error once the calendar's zones are read.
const BROKEN_ZONE: &str =
    "BEGIN:VTIMEZONE\nTZID:Bad\nBEGIN:STANDARD\nDTSTART:20070101T000000\nEND:STANDARD\nEND:VTIMEZONE\n";

fn holding(input: &str, options: &ImportOptions) -> Result<ImportedSchedule, ImportError> {
    match read(input, options, Read::Holding) {
        Ok(schedule) => Ok(schedule),
        Err(Stop::Error(error)) => Err(error),
        Err(Stop::Reread) => panic!("a calendar read holding its events asked to be read again"),
    }
}

fn event(uid: &str, start: &str, extra: &str) -> String {
    format!("BEGIN:VEVENT\nUID:{uid}\nDTSTART{start}\nDURATION:PT30M\n{extra}END:VEVENT\n")
}

#[test]
fn a_zone_stated_after_the_events_reads_them_as_one_stated_first() {
    let events = event("a", ":20270115T090000", "SUMMARY:Floating\n")
        + &event("b", ";TZID=PST:20270115T090000", "SUMMARY:In PST\n");
    let late = format!(
        "BEGIN:VCALENDAR\nPRODID:-//pretalx//x\n{events}X-WR-TIMEZONE:Europe/Berlin\n{PST}END:VCALENDAR\n"
    );
    let early = format!(
        "BEGIN:VCALENDAR\nPRODID:-//pretalx//x\nX-WR-TIMEZONE:Europe/Berlin\n{PST}{events}END:VCALENDAR\n"
    );
    let options = ImportOptions::default();

    assert!(matches!(
        read(&late, &options, Read::AsTheyClose),
        Err(Stop::Reread)
    ));
    let from_late = parse(&late, &options).expect("imports");
    let from_early = parse(&early, &options).expect("imports");

    assert_eq!(from_late, from_early);
    let starts: Vec<String> = from_late
        .talks
        .iter()
        .filter_map(|t| t.slot)
        .map(|s| s.start.to_rfc3339())
        .collect();
    assert_eq!(
        starts,
        ["2027-01-15T08:00:00+00:00", "2027-01-15T17:00:00+00:00"],
        "09:00 in Berlin and 09:00 by the file's PST rules"
    );
}

#[test]
fn an_organiser_on_the_first_events_only_is_their_speaker() {
    let organised = |uid: &str, who: &str| {
        event(
            uid,
            ":20270115T090000Z",
            &format!("SUMMARY:Talk {uid}\nORGANIZER;CN={who}:mailto:x@example.org\n"),
        )
    };
    let same = organised("a", "Ann Lee") + &organised("b", "Ann Lee");
    let options = ImportOptions::default();

    let owned =
        parse(&format!("BEGIN:VCALENDAR\n{same}END:VCALENDAR\n"), &options).expect("imports");
    let shared = parse(
        &format!(
            "BEGIN:VCALENDAR\n{same}{}END:VCALENDAR\n",
            organised("c", "Bo Chen")
        ),
        &options,
    )
    .expect("imports");

    let speakers = |s: &ImportedSchedule| -> Vec<Vec<String>> {
        s.talks
            .iter()
            .map(|t| t.speakers.iter().map(|p| p.name.clone()).collect())
            .collect()
    };
    assert_eq!(
        speakers(&owned),
        [Vec::<String>::new(), Vec::new()],
        "the organiser of every event owns the calendar"
    );
    assert_eq!(
        speakers(&shared),
        [vec!["Ann Lee"], vec!["Ann Lee"], vec!["Bo Chen"]],
        "the events held until the third told the owner apart are read with their organiser"
    );
}

/// One piece of a calendar: an event, or something the calendar states.
fn piece() -> impl Strategy<Value = String> {
    let uid = prop_oneof![Just("a"), Just("b"), Just("c"), Just("d")];
    let start = prop_oneof![
        Just(":20270115T090000".to_owned()),
        Just(":20270115T090000Z".to_owned()),
        Just(";TZID=PST:20270115T100000".to_owned()),
        Just(";TZID=Europe/Lisbon:20270116T110000".to_owned()),
        Just(";VALUE=DATE:20270117".to_owned()),
        Just(":2027011".to_owned()),
    ];
    let summary = prop_oneof![
        Just("SUMMARY:Rust at scale - Ann Lee\n"),
        Just("SUMMARY:Plain title\n"),
        Just(""),
    ];
    let organiser = prop_oneof![
        Just(""),
        Just("ORGANIZER;CN=Ann Lee:mailto:a@example.org\n"),
        Just("ORGANIZER;CN=Bo Chen:mailto:b@example.org\n"),
    ];
    let repeat = prop_oneof![
        4 => Just(""),
        1 => Just("RRULE:FREQ=DAILY;COUNT=2\n"),
        1 => Just("RECURRENCE-ID:20270116T090000Z\n"),
    ];
    let vevent = (uid, start, summary, organiser, repeat, any::<bool>()).prop_map(
        |(u, s, m, o, r, lower)| {
            let event = event(u, &s, &format!("{m}{o}{r}"));
            if lower {
                event
                    .replace("BEGIN:VEVENT", "begin:vevent")
                    .replace("END:VEVENT", "end:Vevent")
            } else {
                event
            }
        },
    );
    prop_oneof![
        6 => vevent,
        1 => Just(PST.to_owned()),
        1 => Just(BROKEN_ZONE.to_owned()),
        1 => Just("X-WR-TIMEZONE:America/New_York\n".to_owned()),
        1 => Just("PRODID:-//pretalx//example\n".to_owned()),
        1 => Just("X-WR-CALNAME:Example\n".to_owned()),
        1 => Just("BAD NAME:x\n".to_owned()),
        1 => Just("END:VCALENDAR\nBEGIN:VCALENDAR\n".to_owned()),
    ]
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(256))]

    #[test]
    fn reading_events_as_they_close_gives_what_holding_them_gives(
        pieces in prop::collection::vec(piece(), 0..14),
        closed in prop::bool::weighted(0.9),
        summary_speakers in any::<bool>(),
        zone in prop_oneof![Just(None), Just(Some(chrono_tz::Asia::Tokyo))],
    ) {
        let end = if closed { "END:VCALENDAR\n" } else { "" };
        let input = format!("BEGIN:VCALENDAR\n{}{end}", pieces.concat());
        let options = ImportOptions { summary_speakers, time_zone: zone, ..ImportOptions::default() };
        let held = holding(&input, &options);
        // Whether each calendar states everything its events are read with before them.
        let stated_first = input.split("BEGIN:VCALENDAR").all(|calendar| {
            let first_event = calendar.to_ascii_uppercase().find("BEGIN:VEVENT").unwrap_or(calendar.len());
            let after = calendar.get(first_event..).unwrap_or_default();
            !["TZID:PST", "X-WR-TIMEZONE", "PRODID"].iter().any(|s| after.contains(s))
        }) && !input.contains(BROKEN_ZONE);

        match read(&input, &options, Read::AsTheyClose) {
            Ok(streamed) => prop_assert_eq!(Ok(streamed), held.clone()),
            Err(Stop::Error(error)) => prop_assert_eq!(Err(error), held.clone()),
            Err(Stop::Reread) => prop_assert!(!stated_first, "read again although nothing came late"),
        }
        prop_assert_eq!(parse(&input, &options), held);
    }
}

#[test]
fn a_late_zone_that_the_organisers_own_overrides_is_no_reason_to_read_again() {
    let input = format!(
        "BEGIN:VCALENDAR\n{}X-WR-TIMEZONE:Europe/Berlin\nEND:VCALENDAR\n",
        event("a", ":20270115T090000", "SUMMARY:Floating\n")
    );
    let options = ImportOptions {
        time_zone: Some(chrono_tz::Asia::Tokyo),
        ..ImportOptions::default()
    };

    let read_once = read(&input, &options, Read::AsTheyClose);

    let Ok(schedule) = read_once else {
        panic!("read again or refused: {read_once:?}");
    };
    assert_eq!(Ok(schedule), holding(&input, &options));
}

#[test]
fn the_talk_list_is_sized_by_events_that_begin_a_line_and_never_beyond_the_text() {
    let real = event(
        "a",
        ":20270115T090000Z",
        "SUMMARY:A\nDESCRIPTION:a long abstract, \n ...\n",
    );
    let calendar = format!("BEGIN:VCALENDAR\n{}{}END:VCALENDAR\n", real.repeat(3), PST);
    assert_eq!(super::vevent_hint(&calendar), 3);

    // One event whose description repeats BEGIN:VEVENT, and a file of empty events.
    let quoted = format!("{}DESCRIPTION:{}\n", real, "BEGIN:VEVENT".repeat(10_000));
    assert_eq!(super::vevent_hint(&quoted), 1);
    let empty = "BEGIN:VEVENT\nEND:VEVENT\n".repeat(10_000);
    assert_eq!(
        super::vevent_hint(&empty),
        empty.len() / super::MIN_EVENT_BYTES
    );
}
