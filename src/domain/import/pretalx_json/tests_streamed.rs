//! A schedule.json read as its bytes come, against the same text read whole: the same
//! schedule, or [`ReadWhole`], never anything else.

use std::io::{self, Read};
use std::sync::Arc;

use chrono_tz::Tz;
use proptest::prelude::*;

use super::{read, Pass};
use crate::domain::import::pieces::ReadWhole;
use crate::domain::import::pretalx_json::parse;
use crate::domain::import::ImportOptions;
use crate::domain::model::ImportedSchedule;

const ANYCONF: &str = include_str!("../../../../tests/fixtures/pretalx-anyconf.json");
const FIXTURES: [&str; 3] = [
    ANYCONF,
    include_str!("../../../../tests/fixtures/real-world/miniconf-pretalx.json"),
    include_str!("../../../../tests/fixtures/real-world/schedule-duplicate-guid.json"),
];

/// Gives its bytes `size` at a time: a reader is never handed more than it asks for.
struct Slowly<'a> {
    bytes: &'a [u8],
    size: usize,
}

impl Read for Slowly<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.size.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// `json`'s bytes, 7 at a time.
fn slowly(json: &str) -> Slowly<'_> {
    Slowly {
        bytes: json.as_bytes(),
        size: 7,
    }
}

/// `json` read as its bytes come: once, or twice when the first reading asks.
fn streamed(json: &str, options: &ImportOptions) -> Result<ImportedSchedule, ReadWhole> {
    match read(slowly(json), options, None)? {
        Pass::Schedule(schedule) => Ok(schedule),
        Pass::Again(ahead) => match read(slowly(json), options, Some(&ahead))? {
            Pass::Schedule(schedule) => Ok(schedule),
            Pass::Again(_) => panic!("read with what is ahead, the days were skipped"),
        },
    }
}

/// Whether `json`'s first reading skips its days and asks to be read again.
fn read_again(json: &str) -> bool {
    matches!(
        read(slowly(json), &ImportOptions::default(), None),
        Ok(Pass::Again(_))
    )
}

/// Read as its bytes come, `json` gives what the whole reading gives (which must be a
/// schedule), unless `why` says it cannot.
fn reads_as_whole(json: &str, options: &ImportOptions) -> Result<(), ReadWhole> {
    let whole = parse(json, options).expect("the whole reading imports it");
    let read = streamed(json, options)?;
    assert_eq!(read, whole);
    Ok(())
}

/// A person who gives several talks has one biography in memory, however the file is read.
#[test]
fn a_biography_given_on_several_talks_is_held_once() {
    let json = r#"{"schedule": {"conference": {"title": "C", "time_zone_name": "Europe/Berlin",
      "days": [{"date": "2027-03-01", "rooms": {
        "B": [{"guid": "1", "title": "One", "date": "2027-03-01T09:00:00+01:00",
               "duration": "00:30", "persons": [{"public_name": "Ann", "biography": "Writes."},
                                                {"public_name": "Bo", "biography": "Reads."}]}],
        "A": [{"guid": "2", "title": "Two", "date": "2027-03-01T10:00:00+01:00",
               "duration": "00:30", "persons": [{"public_name": "Ann", "biography": "Writes."}]}]
      }}]}}}"#;
    let options = ImportOptions::default();
    let whole = parse(json, &options).expect("the whole reading imports it");
    let read = streamed(json, &options).expect("read as it comes");
    for schedule in [whole, read] {
        let bio = |title: &str, speaker: usize| {
            let talk = schedule.talks.iter().find(|t| t.title == title);
            talk.and_then(|t| t.speakers.get(speaker)?.biography.clone())
                .unwrap_or_else(|| panic!("{title:?} has a speaker {speaker} with a biography"))
        };
        assert_eq!(&*bio("One", 0), "Writes.");
        assert!(Arc::ptr_eq(&bio("One", 0), &bio("Two", 0)));
        assert_eq!(&*bio("One", 1), "Reads.");
    }
}

/// Two days; the first lists its rooms out of name order, with a talk in two of them that has
/// the same guid, a talk that cannot be read, a room of `null` and a room given twice.
fn two_days(
    conference_head: &str,
    conference_tail: &str,
    day_head: &str,
    day_tail: &str,
) -> String {
    format!(
        r#"{{"version": "1", "schedule": {{"conference": {{{conference_head}
  "days": [
    {{{day_head} "rooms": {{
      "Zebra": [{{"guid": "same", "title": "Late in the alphabet", "start": "10:00",
                  "duration": "00:30", "persons": [{{"public_name": "Ann"}}]}},
                {{"guid": "broken", "title": "No duration", "start": "11:00"}}],
      "Aardvark": [{{"guid": "same", "title": "Early in the alphabet", "start": "10:00",
                     "duration": "00:45", "abstract": "<p>One &amp; two</p>"}}],
      "Null": null,
      "Aardvark": [{{"guid": "kept", "title": "The last of a key given twice",
                     "start": "12:00", "duration": "00:30"}}],
      "Spare": [{{"guid": "a", "title": "A", "start": "09:00", "duration": "00:30"}},
                {{"guid": "same", "title": "B", "start": "09:30", "duration": "00:30"}}]
    }}{day_tail}}},
    {{"date": "2027-03-02", "rooms": {{"j1106": [{{"code": "XYZ", "title": "Second day",
      "date": "2027-03-02T09:00:00+01:00", "duration": "01:00"}}]}}}}
  ]{conference_tail}
}}}}}}"#
    )
}

const HEAD: &str = r#""title": "Streamed", "time_zone_name": "Europe/Brussels",
  "rooms": [{"name": "j1106", "description": "J.1.106"}],"#;
const DAY: &str = r#""index": 1, "date": "2027-03-01", "day_start": "2027-03-01T04:00:00+01:00","#;

#[test]
fn the_fixtures_read_as_they_come_as_the_whole_text_does() {
    for fixture in FIXTURES {
        reads_as_whole(fixture, &ImportOptions::default()).expect("read as it comes");
    }
}

#[test]
fn talks_are_claimed_in_the_order_of_their_rooms_names_as_the_whole_reading_claims_them() {
    let json = two_days(HEAD, "", DAY, "");

    reads_as_whole(&json, &ImportOptions::default()).expect("read as it comes");

    let read = streamed(&json, &ImportOptions::default()).expect("read as it comes");
    let titles: Vec<&str> = read.talks.iter().map(|t| t.title.as_str()).collect();
    assert!(
        titles.contains(&"The last of a key given twice"),
        "{titles:?}"
    );
    assert!(!titles.contains(&"Early in the alphabet"), "{titles:?}");
    assert!(read.warnings.iter().any(|w| w.contains("No duration")));
    let twice = read.warnings.iter().find(|w| w.contains("\"same\""));
    assert!(
        twice.is_some_and(|w| w.contains("Late in the alphabet")),
        "the room later by name holds the second: {:?}",
        read.warnings
    );
    assert_eq!(read.unreadable, ["broken"]);
    assert_eq!(read.days.len(), 2);
    let room = read.talks.iter().find(|t| t.title == "Second day");
    assert_eq!(room.and_then(|t| t.room.as_deref()), Some("J.1.106"));
}

#[test]
fn a_conference_that_states_its_zone_or_rooms_after_its_days_reads_as_the_whole_text_does() {
    let zone_late = two_days(
        r#""title": "Late", "rooms": [],"#,
        r#", "time_zone_name": "Europe/Brussels""#,
        DAY,
        "",
    );
    let rooms_late = two_days(
        r#""time_zone_name": "Europe/Brussels","#,
        r#", "rooms": [{"name": "j1106", "description": "J.1.106"}]"#,
        DAY,
        "",
    );
    let options = ImportOptions::default();

    for json in [&zone_late, &rooms_late] {
        assert!(read_again(json), "the days are skipped the first time");
        reads_as_whole(json, &options).expect("read as it comes");
    }
    assert!(!read_again(&two_days(HEAD, "", DAY, "")), "read once");
    // Read talk by talk, the first day's talks would have been read without the zone (they
    // give only a wall-clock start) and the second's room by its slug.
    let read = streamed(&zone_late, &options).expect("read as it comes");
    assert_eq!(read.time_zone, Some(chrono_tz::Europe::Brussels));
    assert_eq!(read.talks.len(), 5);
    let read = streamed(&rooms_late, &options).expect("read as it comes");
    let room = read.talks.iter().find(|t| t.title == "Second day");
    assert_eq!(room.and_then(|t| t.room.as_deref()), Some("J.1.106"));
}

/// A file that changed between its two readings: read with what the first found, the second
/// must find the same zone and rooms, or the file is read whole.
#[test]
fn a_second_reading_that_finds_another_zone_or_other_rooms_is_left_to_the_whole_reading() {
    let sorted = two_days(
        r#""rooms": [{"name": "j1106", "description": "J.1.106"}],"#,
        r#", "time_zone_name": "Europe/Brussels""#,
        DAY,
        "",
    );
    let options = ImportOptions::default();
    let Ok(Pass::Again(found)) = read(slowly(&sorted), &options, None) else {
        panic!("the days come first: read again");
    };
    let same = read(slowly(&sorted), &options, Some(&found));
    assert_eq!(
        same,
        Ok(Pass::Schedule(parse(&sorted, &options).expect("imports")))
    );

    let changed =
        [("Europe/Brussels", "Europe/Lisbon"), ("J.1.106", "J.1.107")].map(|(stated, instead)| {
            let other = sorted.replace(stated, instead);
            let read = read(slowly(&other), &options, Some(&found));
            (stated, read)
        });
    for (stated, read) in changed {
        assert_eq!(
            read,
            Err(ReadWhole(
                "the conference's zone or rooms changed between two readings"
            )),
            "{stated} changed"
        );
    }
}

#[test]
fn a_conference_that_names_no_zone_and_lists_no_rooms_is_read_twice_as_the_whole_text_does() {
    let neither = two_days(r#""title": "Neither","#, "", DAY, "").replace(
        r#""date": "2027-03-02T09:00:00+01:00""#,
        r#""start": "09:00""#,
    );
    let options = ImportOptions {
        time_zone: Some(chrono_tz::Europe::Brussels),
        ..ImportOptions::default()
    };

    assert!(
        read_again(&neither),
        "nothing says the days can be read yet"
    );
    reads_as_whole(&neither, &options).expect("read as it comes");
    let read = streamed(&neither, &options).expect("read as it comes");
    assert_eq!(read.time_zone, None, "the file names none");
    assert_eq!(read.talks.len(), 5);
}

#[test]
fn a_day_that_states_its_date_after_its_rooms_is_left_to_the_whole_reading() {
    let day_late = two_days(HEAD, "", "", r#", "date": "2027-03-01""#);

    assert_eq!(
        reads_as_whole(&day_late, &ImportOptions::default()),
        Err(ReadWhole("a day's date or bounds after its rooms"))
    );
}

#[test]
fn a_key_given_twice_or_a_file_the_whole_reading_refuses_is_left_to_it() {
    let options = ImportOptions::default();
    let twice = two_days(&format!("{HEAD} \"title\": \"Again\","), "", DAY, "");
    assert!(parse(&twice, &options).is_err(), "serde refuses it");
    assert_eq!(
        streamed(&twice, &options),
        Err(ReadWhole("a key given twice"))
    );

    for refused in [
        "[]",
        "{}",
        r#"{"schedule": null}"#,
        r#"{"schedule": {"conference": {"days": []}}}"#,
        r#"{"schedule": {"conference": {"time_zone_name": "Mars/Olympus", "days": []}}}"#,
        &two_days(HEAD, "", DAY, "").replace("\"Streamed\"", "5"),
        &format!("{} trailing", two_days(HEAD, "", DAY, "")),
    ] {
        assert!(parse(refused, &options).is_err(), "{refused}");
        assert!(streamed(refused, &options).is_err(), "{refused}");
    }
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(128))]

    #[test]
    fn a_mutated_fixture_reads_as_the_whole_text_does_or_is_left_to_it(
        edits in proptest::collection::vec((0usize..2600, "[{}\\[\\]:,\"0-9a-z .+-]{0,3}"), 1..6),
        size in 1usize..64,
    ) {
        let json = crate::test_support::with_insertions(ANYCONF, edits);
        let options = ImportOptions { time_zone: Some(Tz::UTC), ..ImportOptions::default() };
        let slowly = || Slowly { bytes: json.as_bytes(), size };
        let read = match read(slowly(), &options, None) {
            Ok(Pass::Again(ahead)) => read(slowly(), &options, Some(&ahead)),
            first => first,
        };
        if let Ok(Pass::Schedule(read)) = read {
            prop_assert_eq!(Ok(read), parse(&json, &options));
        }
    }

    #[test]
    fn a_cut_fixture_is_never_read_as_it_comes(at in 0usize..2600) {
        let json = crate::test_support::prefix_at(ANYCONF, at);
        prop_assume!(json.trim_end() != ANYCONF.trim_end());
        prop_assert!(streamed(json, &ImportOptions::default()).is_err());
    }
}

/// A day's `rooms` object: each entry a room key (a few, so that keys repeat) given as
/// `null`, as an empty list or as talks, some unreadable, some sharing a guid.
fn rooms_object() -> impl Strategy<Value = String> {
    // Mostly readable: a day of mostly unreadable talks is refused by both readings alike.
    let readable = prop::bool::weighted(0.75);
    let talk = (0usize..4, 0u32..4, readable).prop_map(|(guid, hour, readable)| {
        let duration = if readable { r#", "duration": "00:30""# } else { "" };
        format!(
            r#"{{"guid": "g{guid}", "title": "Talk {guid} at {hour}", "start": "1{hour}:00"{duration}}}"#
        )
    });
    let room = (
        prop::sample::select(vec!["Hall", "Annex", "Barn", "Zebra"]),
        prop::option::of(proptest::collection::vec(talk, 0..4)),
    )
        .prop_map(|(key, talks)| match talks {
            None => format!(r#""{key}": null"#),
            Some(talks) => format!(r#""{key}": [{}]"#, talks.join(", ")),
        });
    proptest::collection::vec(room, 0..8).prop_map(|rooms| rooms.join(", "))
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(256))]

    /// Rooms out of name order, given twice or more (the last giving kept), `null` or empty,
    /// with unreadable talks and repeated ids: read as it comes, the day is the whole
    /// reading's, its talks, warnings, skipped ids and all.
    #[test]
    fn a_day_of_rooms_in_any_order_and_repeated_reads_as_the_whole_text_does(
        first in rooms_object(),
        second in rooms_object(),
    ) {
        let json = format!(
            r#"{{"schedule": {{"conference": {{"title": "Rooms", "time_zone_name": "Europe/Vienna",
              "rooms": [], "days": [{{"date": "2027-03-01", "rooms": {{{first}}}}},
                                    {{"date": "2027-03-02", "rooms": {{{second}}}}}]}}}}}}"#
        );
        let options = ImportOptions::default();
        let whole = parse(&json, &options);
        let read = streamed(&json, &options);
        match whole {
            Ok(whole) => prop_assert_eq!(read, Ok(whole)),
            Err(_) => prop_assert!(read.is_err()),
        }
    }
}
