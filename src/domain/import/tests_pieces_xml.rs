//! A schedule.xml imported an element at a time, through the hash and the checks the whole reading
//! makes of its bytes: the same schedule and the same bytes hashed, or [`ReadWhole`].

use proptest::prelude::*;

use super::tests::in_pieces;
use super::ReadWhole;
use crate::domain::import::{parse, Format, ImportOptions};
use crate::domain::model::ImportedSchedule;

const FIXTURES: [(&str, &str); 3] = [
    (
        "pretalx-fosdemformat.xml",
        include_str!("../../../tests/fixtures/pretalx-fosdemformat.xml"),
    ),
    (
        "congress-duplicate-guids.xml",
        include_str!("../../../tests/fixtures/real-world/congress-duplicate-guids.xml"),
    ),
    (
        "miniconf-pretalx.xml",
        include_str!("../../../tests/fixtures/real-world/miniconf-pretalx.xml"),
    ),
];

/// `bytes` read `piece` bytes at a time from reads of `sizes`: the schedule if it was read a
/// element at a time, which must then be the whole reading's, with every byte hashed; `None` if
/// it was left to the whole reading.
fn by_elements(
    name: &str,
    bytes: &[u8],
    piece: usize,
    sizes: Vec<usize>,
) -> Option<ImportedSchedule> {
    let (read, hashed) = in_pieces(bytes, piece, sizes);
    let (format, read) = read.ok()?;
    let whole = parse(bytes, None, &ImportOptions::default());
    assert_eq!(format, Format::Xml, "{name}");
    assert_eq!(Ok(&read), whole.as_ref(), "{name}");
    assert_eq!(hashed, bytes, "{name}: the hash saw other bytes");
    Some(read)
}

/// `days` days, each with an event in two rooms: one that reads, and one without a duration
/// (skipped, with a warning naming its line); every day's first guid is the same, so each
/// repeat is renamed with a warning naming both lines.
fn many_days(days: usize) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<schedule>\n  <conference>\n    <title>Many</title>\n    \
         <days>2</days>\n    <time_zone_name>Europe/Berlin</time_zone_name>\n  \
         </conference>\n",
    );
    for day in 1..=days {
        let date = format!("2027-03-{day:02}");
        xml.push_str(&format!(
            "  <day index=\"{day}\" date=\"{date}\">\n    <room name=\"Barn\">\n      \
             <event guid=\"same\"><title>Talk {day}</title><start>09:00</start>\
             <duration>00:30</duration>\n        <abstract>Line one.\n\nLine two.</abstract>\
             </event>\n    </room>\n    <room name=\"Loft\">\n      <event guid=\"g{day}\">\
             <title>No duration</title><start>10:00</start></event>\n    </room>\n  </day>\n"
        ));
    }
    xml.push_str("</schedule>\n");
    xml
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn a_schedule_xml_in_reads_of_any_size_reads_as_the_whole_text_does(
        bom in any::<bool>(),
        piece in 1usize..2_000,
        sizes in proptest::collection::vec(1usize..300, 1..5),
    ) {
        let many = many_days(12);
        let files = FIXTURES
            .iter()
            .map(|(name, text)| (*name, *text))
            .chain([("many days", many.as_str())]);
        for (name, text) in files {
            let mut bytes = text.as_bytes().to_vec();
            if bom {
                bytes.splice(0..0, *b"\xEF\xBB\xBF");
            }
            let read = by_elements(name, &bytes, piece, sizes.clone());
            prop_assert!(read.is_some(), "{} was left to the whole reading", name);
        }
    }

    /// However a file is broken or odd, an element at a time it reads as the whole reading does or
    /// is left to it: never another schedule, never one the whole reading refuses.
    #[test]
    fn an_edited_schedule_xml_reads_as_the_whole_text_does_or_is_left_to_it(
        fixture in 0usize..4,
        edits in proptest::collection::vec((0.0f64..1.0, 0usize..18, 0usize..40), 1..4),
        piece in 1usize..300,
    ) {
        const SNIPPETS: [&str; 18] = [
            "</day>", "<day>", "<day/>", "<!--", "-->", "<![CDATA[", "]]>", "</schedule>",
            "<conference><title>Late</title></conference>", "\n", "<!ENTITY x \"y\">", "&amp;",
            "\r", "</schedule ", "</day ", "</room x>", "<x:day>", "<days>",
        ];
        let many = many_days(4);
        let text = FIXTURES.get(fixture).map_or(many.as_str(), |(_, text)| *text);
        let mut bytes = text.as_bytes().to_vec();
        for (at, snippet, cut) in edits {
            // Edits land on character boundaries: the fixtures are UTF-8, and a file that is
            // not is read whole before it is ever cut into days.
            let mut at = (at * bytes.len() as f64) as usize;
            while !text_boundary(&bytes, at) {
                at -= 1;
            }
            let mut end = (at + cut).min(bytes.len());
            while !text_boundary(&bytes, end) {
                end += 1;
            }
            bytes.splice(at..end, SNIPPETS[snippet].bytes());
        }
        by_elements("an edited file", &bytes, piece, vec![97]);
    }
}

/// `text` with `depth` elements nested in its first abstract: with the root, day, room, event
/// and abstract around them, 123 is as deep as a file may nest.
fn nested(text: &str, depth: usize) -> String {
    let inner = format!("{}deep{}", "<b>".repeat(depth), "</b>".repeat(depth));
    text.replacen("</abstract>", &format!("{inner}</abstract>"), 1)
}

fn text_boundary(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_none_or(|&b| (b as i8) >= -0x40)
}

#[test]
fn lines_are_counted_across_days_as_the_whole_reading_counts_them() {
    let xml = many_days(30);
    let read =
        by_elements("many days", xml.as_bytes(), 64, vec![50]).expect("read an element at a time");
    assert_eq!(read.talks.len(), 30);
    // Each day is 11 lines from line 8; the last day's repeat of the first guid names both
    // events' lines.
    let repeat = read.warnings.iter().rev().find(|w| w.contains("\"same\""));
    assert!(
        repeat.is_some_and(|w| w.starts_with("line 329: ") && w.contains("used by line 10;")),
        "{:?}",
        read.warnings
    );
}

/// Read alone, an event would take these as the whole reading does not; every byte is checked
/// for them as it is taken.
#[test]
fn an_entity_declaration_or_a_lone_cr_inside_an_event_is_left_to_the_whole_reading() {
    let (_, text) = FIXTURES[0];
    let cases = [
        (
            "<!-- <!ENTITY x \"y\"> -->",
            ReadWhole("an entity declaration"),
        ),
        ("one\rtwo", ReadWhole("a CR that ends no line")),
    ];
    for (inserted, why) in cases {
        let xml = text.replacen("</abstract>", &format!("{inserted}</abstract>"), 1);
        let (read, _) = in_pieces(xml.as_bytes(), 64, vec![37]);
        assert_eq!(read, Err(why), "{inserted:?}");
    }
}

#[test]
fn an_odd_schedule_xml_reads_as_the_whole_text_does_or_is_left_to_it() {
    let (_, text) = FIXTURES[0];
    let day_end = text.find("</day>").expect("a day") + "</day>".len();
    let event_end = text.find("</event>").expect("an event") + "</event>".len();
    let room_start = text.find("<room ").expect("a room");
    let (head, days) = text.split_at(text.find("  <day ").expect("a day"));
    let after = |at: usize, inserted: &str| format!("{}{inserted}{}", &text[..at], &text[at..]);
    let cases: [(&str, String, bool); 29] = [
        ("CRLF", text.replace('\n', "\r\n"), true),
        ("lone CRs", text.replace('\n', "\r"), false),
        (
            "a comment and a DOCTYPE in the head",
            {
                let head = head.replacen(
                    "<schedule>",
                    "<!DOCTYPE schedule>\n<!-- made by hand -->\n<schedule>",
                    1,
                );
                format!("{head}{days}")
            },
            true,
        ),
        (
            "end tags spaced out",
            text.replace("</day>", "</day \n >")
                .replace("</schedule>", "</schedule >"),
            true,
        ),
        ("two BOMs", format!("\u{feff}\u{feff}{text}"), false),
        (
            "the conference after the days",
            {
                let conference = &head[head.find("  <conference>").expect("a conference")..];
                let head = head.replace(conference, "");
                format!(
                    "{head}{}",
                    days.replace("</schedule>", &format!("{conference}</schedule>"))
                )
            },
            false,
        ),
        (
            "a comment between the days",
            after(day_end, "<!-- two -->"),
            false,
        ),
        (
            "a comment between the events",
            after(event_end, "<!-- two -->"),
            false,
        ),
        (
            "an empty room",
            after(room_start, "<room name=\"Empty\"/>\n"),
            true,
        ),
        (
            "an empty event",
            after(event_end, "<event guid=\"e\"/>"),
            true,
        ),
        (
            "an unknown element in a room",
            after(event_end, "<note/>"),
            false,
        ),
        (
            "an unknown element in an event",
            text.replacen("</abstract>", "</abstract><note>n</note>", 1),
            true,
        ),
        ("text after the root", format!("{text}trailing"), false),
        (
            "a comment after the root",
            format!("{text}<!-- end -->\n"),
            false,
        ),
        (
            "an entity declaration",
            format!("<!DOCTYPE s [<!ENTITY x \"y\">]>\n{text}"),
            false,
        ),
        (
            "`</day>` in a CDATA section",
            text.replacen("</abstract>", "<![CDATA[</day>]]></abstract>", 1),
            true,
        ),
        (
            "`</event>` in a CDATA section",
            text.replacen("</abstract>", "<![CDATA[</event>]]></abstract>", 1),
            false,
        ),
        (
            "an empty day among the days",
            after(day_end, "<day date=\"2024-02-05\"/>"),
            true,
        ),
        (
            "a day cut off",
            text[..text.rfind("</day>").expect("a day")].to_owned(),
            false,
        ),
        (
            "no talk",
            format!("{head}  <day date=\"2024-02-03\"></day>\n</schedule>\n"),
            false,
        ),
        (
            "a malformed root end tag",
            text.replace("</schedule>", "</schedule x></schedule>"),
            false,
        ),
        (
            "a malformed day end tag",
            text.replacen("</day>", "</day x></day>", 1),
            false,
        ),
        (
            "a malformed room end tag",
            text.replacen("</room>", "</room/></room>", 1),
            false,
        ),
        (
            "an entity declaration among the events",
            after(event_end, "<!ENTITY x \"y\">"),
            false,
        ),
        (
            "`</day>` in a comment in an event",
            text.replacen("</abstract>", "</abstract><!-- </day> -->", 1),
            true,
        ),
        (
            "another root",
            text.replace("schedule>", "programme>"),
            false,
        ),
        ("nesting to the limit in an event", nested(text, 123), true),
        (
            "nesting past the limit in an event",
            nested(text, 124),
            false,
        ),
        (
            "an unknown element among the days",
            after(day_end, "<note/>"),
            false,
        ),
    ];
    for (name, xml, by_elements_expected) in cases {
        let read = by_elements(name, xml.as_bytes(), 64, vec![37]);
        assert_eq!(read.is_some(), by_elements_expected, "{name}");
    }
}
