//! Recurring events (`recurrence.rs`) on a shared calendar of open spaces beside a
//! programme: occurrences within the conference's days, on the wall clock across a DST
//! change, EXDATE, RDATE and an override, each with a stable id.

use chrono::{DateTime, Utc};

use super::parse;
use crate::domain::import::ImportOptions;
use crate::domain::model::TalkData;

const OPEN_SPACES: &str =
    include_str!("../../../../tests/fixtures/real-world/recurring-open-spaces.ics");

fn rows(talks: &[TalkData]) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = talks
        .iter()
        .map(|t| {
            let slot = t.slot.expect("timed");
            (
                slot.start.format("%Y-%m-%dT%H:%MZ").to_string(),
                t.title.clone(),
                t.source_id.as_deref().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn recurring_events_become_one_talk_per_occurrence_within_the_conference_days() {
    let schedule = parse(OPEN_SPACES, &ImportOptions::default()).expect("imports");

    let row = |at: &str, title: &str, id: &str| (at.to_owned(), title.to_owned(), id.to_owned());
    assert_eq!(
        rows(&schedule.talks),
        [
            row(
                "2027-03-26T08:00Z",
                "Opening keynote",
                "keynote@summit.example.org"
            ),
            // Thursday's is before the conference; 13:00 Berlin is 12:00Z in winter time...
            row(
                "2027-03-26T12:00Z",
                "Open space",
                "open-space@summit.example.org/20270326T120000Z"
            ),
            row(
                "2027-03-26T18:00Z",
                "Social",
                "social@summit.example.org/20270326T180000Z"
            ),
            // ...Saturday's is an EXDATE; the RDATE adds Saturday's social.
            row(
                "2027-03-27T18:00Z",
                "Social",
                "social@summit.example.org/20270327T180000Z"
            ),
            // Sunday (summer time from 02:00) moved to 14:00 = 12:00Z, keeping the id of the
            // 13:00 (11:00Z) occurrence it replaces.
            row(
                "2027-03-28T12:00Z",
                "Open space (moved)",
                "open-space@summit.example.org/20270328T110000Z"
            ),
            row("2027-03-28T15:00Z", "Closing", "closing@summit.example.org"),
        ]
    );
    let social = schedule
        .talks
        .iter()
        .find(|t| t.title == "Social")
        .expect("social");
    let slot = social.slot.expect("timed");
    assert_eq!(slot.end - slot.start, chrono::Duration::hours(3));
    assert_eq!(social.room.as_deref(), Some("Roof"));
}

#[test]
fn an_import_of_the_same_calendar_gives_the_same_ids_whatever_the_event_order() {
    let first = parse(OPEN_SPACES, &ImportOptions::default()).expect("imports");
    // The override before its master, the programme last.
    let blocks: Vec<&str> = OPEN_SPACES.split("BEGIN:VEVENT").collect();
    let reordered = format!(
        "{}BEGIN:VEVENT{}BEGIN:VEVENT{}BEGIN:VEVENT{}BEGIN:VEVENT{}BEGIN:VEVENT{}",
        blocks[0],
        blocks[4],
        blocks[3],
        blocks[5].trim_end_matches("END:VCALENDAR\r\n"),
        blocks[1],
        blocks[2].to_owned() + "END:VCALENDAR\r\n"
    );

    let second = parse(&reordered, &ImportOptions::default()).expect("imports");

    assert_eq!(rows(&first.talks), rows(&second.talks));
}

#[test]
fn a_repeating_event_without_a_programme_is_bounded_and_says_so() {
    let calendar = "BEGIN:VCALENDAR\r\nPRODID:x\r\nX-WR-TIMEZONE:Europe/Berlin\r\n\
        BEGIN:VEVENT\r\nUID:standup\r\nDTSTART;TZID=Europe/Berlin:20270104T093000\r\n\
        DURATION:PT15M\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Stand-up\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";

    let schedule = parse(calendar, &ImportOptions::default()).expect("imports");

    assert_eq!(schedule.talks.len(), 31);
    let last: DateTime<Utc> = schedule.talks[30].slot.expect("timed").start;
    assert_eq!(last.to_rfc3339(), "2027-02-03T08:30:00+00:00");
    assert!(
        schedule
            .warnings
            .iter()
            .any(|w| w.contains("no one-off events")),
        "{:?}",
        schedule.warnings
    );
}

#[test]
fn an_unreadable_rule_skips_its_event_with_a_warning_naming_its_line() {
    let calendar = OPEN_SPACES.replace("RRULE:FREQ=DAILY;COUNT=10", "RRULE:FREQ=SOMETIMES");

    let schedule = parse(&calendar, &ImportOptions::default()).expect("the rest imports");

    assert!(
        schedule.warnings[0].starts_with("line 24: RRULE: cannot read it")
            && schedule.warnings[0].ends_with("; that event was skipped"),
        "{:?}",
        schedule.warnings
    );
    assert!(!schedule.talks.iter().any(|t| t.title == "Open space"));
    assert_eq!(schedule.unreadable, ["open-space@summit.example.org"]);
}
