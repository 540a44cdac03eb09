//! Every reader, whole or as it comes, holds a repeated label (room, track, level, type,
//! language) or biography once: equal texts are one `Arc`, whichever field and talk holds them.

use std::collections::HashMap;
use std::sync::Arc;

use super::tests::in_pieces;
use crate::domain::import::{parse, ImportOptions};
use crate::domain::model::{ImportedSchedule, TalkData};

/// Twelve talks in three rooms, two tracks, types and languages, given by four people with
/// biographies (where the format has them), as an iCalendar file, a schedule.json (with its
/// conference's rooms before its days, read once as it comes, and without, read twice) and a
/// schedule.xml.
fn generated() -> [(&'static str, String); 4] {
    let talks = 0..12;
    let room = |i: usize| format!("Room {}", i % 3);
    let track = |i: usize| ["Web", "Data"][i % 2];
    let kind = |i: usize| ["Talk", "Workshop"][i % 2];
    let language = |i: usize| ["en", "de"][i / 6];
    let hour = |i: usize| 9 + i / 3;
    let mut ics = String::from("BEGIN:VCALENDAR\nPRODID:-//gen//\nX-WR-TIMEZONE:UTC\n");
    let mut json = Vec::new();
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<schedule><conference><title>Gen</title>\
         <time_zone_name>UTC</time_zone_name></conference><day index=\"1\" date=\"2027-01-15\">",
    );
    for i in talks {
        ics += &format!(
            "BEGIN:VEVENT\nUID:t{i}@gen\nDTSTART:20270115T{:02}0000Z\nDURATION:PT30M\n\
             SUMMARY:Talk {i}\nLOCATION:{}\nCATEGORIES:{}\nX-CONFBOT-TYPE:{}\n\
             X-CONFBOT-LEVEL:Beginner\nX-CONFBOT-LANGUAGE:{}\nEND:VEVENT\n",
            hour(i),
            room(i),
            track(i),
            kind(i),
            language(i)
        );
        let person = |p: usize| {
            format!(r#"{{"code": "P{p}", "public_name": "Person {p}", "biography": "Bio {p}."}}"#)
        };
        json.push((
            room(i),
            format!(
                r#"{{"guid": "g{i}", "title": "Talk {i}", "start": "{:02}:00", "duration": "00:30", "track": "{}", "type": "{}", "language": "{}", "persons": [{}, {}]}}"#,
                hour(i),
                track(i),
                kind(i),
                language(i),
                person(i % 4),
                person((i + 1) % 4)
            ),
        ));
        xml += &format!(
            "<room name=\"{}\"><event guid=\"g{i}\"><title>Talk {i}</title>\
             <start>{:02}:00</start><duration>00:30</duration><track>{}</track>\
             <type>{}</type><language>{}</language></event></room>",
            room(i),
            hour(i),
            track(i),
            kind(i),
            language(i)
        );
    }
    ics += "END:VCALENDAR\n";
    xml += "</day></schedule>\n";
    let rooms: Vec<String> = (0..3)
        .map(|r| {
            let name = format!("Room {r}");
            let talks: Vec<&str> = json
                .iter()
                .filter(|(room, _)| *room == name)
                .map(|(_, talk)| talk.as_str())
                .collect();
            format!(r#""{name}": [{}]"#, talks.join(", "))
        })
        .collect();
    let json = |conference_rooms: &str| {
        format!(
            r#"{{"schedule": {{"conference": {{"title": "Gen", "time_zone_name": "UTC", {conference_rooms}"days": [{{"date": "2027-01-15", "rooms": {{{}}}}}]}}}}}}"#,
            rooms.join(", ")
        )
    };
    [
        ("calendar", ics),
        ("schedule.json", json(r#""rooms": [], "#)),
        ("schedule.json read twice", json("")),
        ("schedule.xml", xml),
    ]
}

/// Every shared text of `talk`: its labels and its speakers' biographies.
fn shared_texts(talk: &TalkData) -> impl Iterator<Item = &Arc<str>> {
    [
        &talk.room,
        &talk.track,
        &talk.level,
        &talk.talk_type,
        &talk.language,
    ]
    .into_iter()
    .flatten()
    .chain(talk.speakers.iter().filter_map(|s| s.biography.as_ref()))
}

/// Asserts that equal texts are one `Arc` across `schedule`, and returns how many repeats
/// there were (a fixture that repeats nothing proves nothing).
fn repeats_shared(name: &str, schedule: &ImportedSchedule) -> usize {
    let mut first: HashMap<&str, &Arc<str>> = HashMap::new();
    let mut repeats = 0;
    for talk in &schedule.talks {
        for text in shared_texts(talk) {
            match first.get(&**text) {
                Some(known) => {
                    assert!(
                        Arc::ptr_eq(known, text),
                        "{name}: {text:?} is held twice ({:?})",
                        talk.title
                    );
                    repeats += 1;
                }
                None => {
                    first.insert(text, text);
                }
            }
        }
    }
    repeats
}

#[test]
fn every_reader_holds_a_repeated_label_once() {
    for (name, text) in generated() {
        let bytes = text.as_bytes();
        let whole = parse(bytes, None, &ImportOptions::default()).expect("imports");
        assert_eq!(whole.talks.len(), 12, "{name}");
        // Rooms, tracks, types, levels and languages: 12 talks with 3 + 2 + 2 + 2 (+ 1)
        // distinct labels; and biographies where there are any.
        let repeats = repeats_shared(name, &whole);
        assert!(
            repeats >= 12 * 4 - 9,
            "{name}: only {repeats} repeated labels"
        );
        let (read, _) = in_pieces(bytes, 256, vec![100]);
        let (_, piecewise) =
            read.unwrap_or_else(|e| panic!("{name}: left to the whole reading ({e:?})"));
        assert_eq!(piecewise, whole, "{name}");
        repeats_shared(name, &piecewise);
    }
    let listing = include_bytes!("../../../tests/fixtures/seed004-listing-pybay.txt");
    let whole = parse(listing, None, &ImportOptions::default()).expect("imports");
    // A track and a level each for 37 talks, of a handful of labels.
    assert_eq!(whole.talks.len(), 37, "the listing");
    let repeats = repeats_shared("the listing", &whole);
    assert!(repeats > 37, "the listing: only {repeats} repeated labels");
}
