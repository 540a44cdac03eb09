//! Speakers of generic calendars (`speakers.rs`): each rule on a file shaped like a real
//! generator's, talk by talk, and the note that says which rule found them.

use super::parse;
use crate::domain::import::ImportOptions;
use crate::domain::model::{ImportedSchedule, TalkData};

const ATTENDEES_AND_LINES: &str =
    include_str!("../../../../tests/fixtures/real-world/speakers-attendee-description.ics");
const IN_SUMMARY: &str =
    include_str!("../../../../tests/fixtures/real-world/speakers-in-summary.ics");

fn import(input: &str, summary_speakers: bool) -> ImportedSchedule {
    let options = ImportOptions {
        summary_speakers,
        ..ImportOptions::default()
    };
    parse(input, &options).expect("imports")
}

fn names(talk: &TalkData) -> Vec<&str> {
    talk.speakers.iter().map(|s| s.name.as_str()).collect()
}

#[test]
fn attendees_and_speaker_lines_name_the_speakers_and_the_calendar_owner_does_not() {
    let schedule = import(ATTENDEES_AND_LINES, false);

    let talks = &schedule.talks;
    assert_eq!(talks.len(), 4);
    assert_eq!(talks[0].title, "Streaming joins without tears");
    assert_eq!(
        names(&talks[0]),
        ["Zoë Ødegård", "Sven Åberg"],
        "no NON-PARTICIPANT"
    );
    assert_eq!(
        talks[1].title, "Columnar files - a field guide",
        "a dash is no speaker"
    );
    assert_eq!(names(&talks[1]), ["Ingrid Lund", "Matti Virtanen"]);
    assert_eq!(
        talks[1].abstract_text.as_deref(),
        Some("Parquet, ORC and Arrow compared."),
        "the speaker line leaves the abstract"
    );
    assert_eq!(names(&talks[2]), ["Ana Lima", "Bo Chen", "Chidi Okafor"]);
    assert_eq!(
        talks[2].abstract_text.as_deref(),
        Some("Five minutes each.")
    );
    assert_eq!(talks[3].title, "Lunch - Fjord Hall foyer");
    assert!(
        talks[3].speakers.is_empty(),
        "the organiser of every event is the owner"
    );
    assert_eq!(
        schedule.notes,
        [
            "speakers of 3 of 4 events: 1 from ATTENDEE CN, 2 from a \"Speaker:\" line in \
             DESCRIPTION"
        ]
    );
}

#[test]
fn a_plain_calendar_keeps_its_summary_whole_unless_told_it_names_speakers() {
    let plain = import(IN_SUMMARY, false);
    let switched = import(IN_SUMMARY, true);

    assert_eq!(
        plain.talks[0].title,
        "Rust - the good parts - Ana Lima, Bo Chen"
    );
    assert!(plain.talks[0].speakers.is_empty());
    assert!(
        plain.notes[0].starts_with("speakers: none found in 2 events")
            && plain.notes[0].contains("--summary-speakers"),
        "{:?}",
        plain.notes
    );
    assert_eq!(switched.talks[0].title, "Rust - the good parts");
    assert_eq!(names(&switched.talks[0]), ["Ana Lima", "Bo Chen"]);
    assert_eq!(switched.talks[1].title, "Typed SQL");
    assert_eq!(names(&switched.talks[1]), ["João Gonçalves"]);
    assert_eq!(
        switched.notes,
        [
            "speakers of 2 of 2 events: 2 from the SUMMARY \"Title - Speaker\" (as asked with \
          --summary-speakers)"
        ]
    );
}

#[test]
fn an_organiser_on_one_event_only_is_its_speaker() {
    let calendar = "BEGIN:VCALENDAR\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:a\r\n\
        DTSTART:20270101T100000Z\r\nDTEND:20270101T110000Z\r\nSUMMARY:Keynote\r\n\
        ORGANIZER;CN=Grace Hopper:mailto:grace@example.org\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\n\
        UID:b\r\nDTSTART:20270101T110000Z\r\nDTEND:20270101T120000Z\r\nSUMMARY:Break\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";

    let schedule = import(calendar, false);

    assert_eq!(names(&schedule.talks[0]), ["Grace Hopper"]);
    assert!(
        schedule.notes[0].contains("1 from ORGANIZER CN"),
        "{:?}",
        schedule.notes
    );
}

#[test]
fn pretalx_files_still_split_their_summary_and_say_so() {
    let seed = include_str!("../../../../tests/fixtures/seed000-nbpy-pretalx.ics");

    let schedule = import(seed, false);

    assert!(!schedule.talks[0].speakers.is_empty());
    assert_eq!(
        schedule.notes,
        ["speakers of 1 of 1 events: 1 from the SUMMARY \"Title - Speaker\" (a pretalx file)"]
    );
}

#[test]
fn a_talks_speaker_list_holds_no_room_for_speakers_it_does_not_have() {
    for schedule in [import(ATTENDEES_AND_LINES, false), import(IN_SUMMARY, true)] {
        for talk in &schedule.talks {
            assert_eq!(
                talk.speakers.capacity(),
                talk.speakers.len(),
                "{}: talks are held until the import is written",
                talk.title
            );
        }
        assert!(schedule.talks.iter().any(|t| !t.speakers.is_empty()));
    }
}
