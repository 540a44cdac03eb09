//! The file read as a stream: what the single tree of the whole file used to give, wherever
//! the reader meets days, rooms, events and their fields.

use super::tests::{parse_err, parse_ok, schedule, utc};
use super::*;

const EVENT: &str =
    "<event id=\"1\"><start>10:00</start><duration>00:30</duration><title>T</title></event>";

#[test]
fn a_conference_after_the_days_still_gives_the_zone_title_and_day_change() {
    let xml = format!(
        "<schedule>\n<day date=\"2024-02-03\"><room name=\"A\">\n{}\n</room></day>\n\
         <conference><title>Late</title><time_zone_name>Europe/Brussels</time_zone_name>\
         <day_change>04:00</day_change></conference>\n</schedule>",
        EVENT.replace("10:00", "01:00")
    );

    let parsed = parse_ok(&xml);

    assert_eq!(parsed.name.as_deref(), Some("Late"));
    assert_eq!(parsed.time_zone, Some(Tz::Europe__Brussels));
    // 01:00 is before the 04:00 day change: the next morning, in Brussels.
    let slot = parsed.talks[0].slot.expect("scheduled");
    assert_eq!(slot.start, utc("2024-02-04T00:00:00Z"));
}

#[test]
fn errors_inside_the_conference_and_events_name_lines_of_the_whole_file() {
    let zone = "<schedule>\n\n<conference>\n<title>C</title>\n\
                <time_zone_name>Mars/Olympus</time_zone_name></conference></schedule>";
    assert_eq!(
        parse_err(zone),
        "line 5: <time_zone_name>: unknown time zone \"Mars/Olympus\""
    );

    let events =
        format!("{EVENT}\n<event id=\"2\">\n<title>T</title>\n<start>10:00</start>\n</event>");
    // The second event starts on line 8 of `schedule`'s file.
    assert_eq!(
        parse_ok(&schedule("UTC", "2024-02-03", &events)).warnings,
        ["line 8: <event id=\"2\">: missing <duration>; that event was skipped"]
    );
}

#[test]
fn malformed_xml_inside_an_event_names_its_line_in_the_file() {
    let event = |inside: &str| {
        schedule(
            "UTC",
            "2024-02-03",
            &format!("{EVENT}\n<event id=\"2\">\n<title>T</title>\n{inside}</event>"),
        )
    };
    let cases = [
        (
            "<start a=\"1\" a=\"2\">10:00</start>",
            "line 10: malformed XML: <start>: an attribute is given twice",
        ),
        (
            "<abstract>\n<p>One</p>\n<p>Two \u{1}</p></abstract>",
            "line 12: malformed XML: the text holds U+0001, a character XML does not allow",
        ),
        (
            "<persons>\n<person>&e1:68;</person></persons>",
            "line 11: malformed XML: an unknown entity &e1:68;",
        ),
        (
            "<abstract><p>Two</p></abstract>\n<2x/>",
            "line 11: malformed XML: <2x> is not an element name",
        ),
    ];

    for (inside, expected) in cases {
        assert_eq!(parse_err(&event(inside)), expected, "{inside}");
    }
    let mismatched = parse_err(&event("<description>\n<p>x</b></description>"));
    assert!(
        mismatched.starts_with("line 11: malformed XML: "),
        "{mismatched}"
    );
    assert!(
        mismatched.contains("</b>") || mismatched.contains("`b`"),
        "{mismatched}"
    );
}

#[test]
fn a_prefix_declared_around_an_event_can_be_used_inside_it() {
    let xml = "<schedule xmlns:x=\"urn:example\">\n<conference><time_zone_name>UTC</time_zone_name>\
               </conference>\n<day date=\"2024-02-03\"><room name=\"A\">\n<event id=\"1\" x:note=\"n\">\
               <x:extra>ignored</x:extra><start>10:00</start><duration>00:30</duration>\
               <title>Namespaced</title></event>\n<x:event id=\"2\">\n<title>Also read</title>\
               <start>11:00</start></x:event>\n</room></day></schedule>";

    let parsed = parse_ok(xml);

    assert_eq!(parsed.talks[0].title, "Namespaced");
    // The second event, prefixed, is read by its name's local part. It misses a duration,
    // and the warning names its own line.
    assert_eq!(
        parsed.warnings,
        ["line 5: <event id=\"2\">: missing <duration>; that event was skipped"]
    );
}

#[test]
fn empty_days_and_rooms_and_elements_around_them_are_stepped_over() {
    let xml = format!(
        "<schedule><conference><time_zone_name>UTC</time_zone_name></conference>\
         <day date=\"2024-02-02\"/><notes><day date=\"1999-01-01\"><room name=\"X\">{EVENT}\
         </room></day></notes><day date=\"2024-02-03\"><room name=\"Empty\"/>\
         <room name=\"A\"><!-- <event> --><![CDATA[<event>]]><comment>{EVENT}</comment>{}\
         </room></day></schedule>",
        EVENT.replace("id=\"1\"", "id=\"2\"")
    );

    let parsed = parse_ok(&xml);

    let ids: Vec<_> = parsed
        .talks
        .iter()
        .map(|t| t.source_id.as_deref())
        .collect();
    assert_eq!(ids, [Some("2")]);
    let dates: Vec<_> = parsed.days.iter().map(|d| d.date.to_string()).collect();
    assert_eq!(dates, ["2024-02-02", "2024-02-03"]);
}

#[test]
fn broken_markup_in_the_outline_is_refused_with_its_line() {
    let base = schedule("UTC", "2024-02-03", EVENT);

    let after = format!("{base}\n<schedule/>");
    assert_eq!(
        parse_err(&after),
        "line 11: malformed XML: there is more after the root element's end tag"
    );
    let mismatched = base.replace("</room>", "</rooms>");
    let err = parse_err(&mismatched);
    assert!(err.starts_with("line 8: malformed XML: "), "{err}");
    assert!(err.contains("rooms"), "{err}");
    let doubled = base.replace("<day index=\"1\"", "<day date=\"2024-01-01\" index=\"1\"");
    let err = parse_err(&doubled);
    assert!(err.starts_with("line 5: malformed XML: <day>: "), "{err}");
    let entity = base.replace("name=\"Main Hall\"", "name=\"Main &unknown; Hall\"");
    assert!(parse_err(&entity).starts_with("line 6: malformed XML: <room>: "));
    assert_eq!(
        parse_err(""),
        "line 1: malformed XML: the file holds no element"
    );
}

#[test]
fn attributes_of_days_and_rooms_are_unescaped_and_normalised() {
    let xml = schedule("UTC", "2024-02-03", EVENT)
        .replace("name=\"Main Hall\"", "name=\"Barn &amp; &#x4F;ven\n Room\"");

    let parsed = parse_ok(&xml);

    assert_eq!(parsed.talks[0].room.as_deref(), Some("Barn & Oven Room"));
}

#[test]
fn a_c3voc_schema_declaration_on_the_root_is_accepted() {
    let xml = schedule("UTC", "2024-02-03", EVENT).replace(
        "<schedule>",
        "<schedule xsi:noNamespaceSchemaLocation=\"https://c3voc.de/schedule/schema.xsd\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">",
    );

    assert_eq!(parse_ok(&xml).talks[0].title, "T");
}

#[test]
fn what_lies_between_elements_is_checked_too() {
    let base = schedule("UTC", "2024-02-03", EVENT);
    let cases = [
        (
            format!("junk\n{base}"),
            "line 1: malformed XML: text outside the root element",
        ),
        (
            base.replace(
                "<room name=\"Main Hall\">",
                "<room name=\"Main Hall\">&nbsp;",
            ),
            "line 6: malformed XML: an unknown entity &nbsp;",
        ),
        (
            base.replace("<room name=", "<room name:="),
            "line 6: malformed XML: <room>: \"name:\" is not an attribute name",
        ),
        (
            base.replace("<room ", "<1x/><room "),
            "line 6: malformed XML: <1x> is not an element name",
        ),
        (
            base.replace("</schedule>", "</schedule>\n\n  trailing"),
            "line 12: malformed XML: there is more after the root element's end tag",
        ),
        (
            base.replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", "")
                .replace("<conference>", "<?xml version=\"1.0\"?><conference>"),
            "line 2: malformed XML: an XML declaration after the start",
        ),
        (
            format!("&amp;{base}"),
            "line 1: malformed XML: text outside the root element",
        ),
        (
            base.replace("name=\"Main Hall\"", "name=\"A < B\""),
            "line 6: malformed XML: <room>: the value of name holds a `<`",
        ),
        (
            base.replace("<room ", "<a%b/><room "),
            "line 6: malformed XML: <a%b> is not an element name",
        ),
        (
            base.replace("<room ", "<a\u{1}b/><room "),
            "line 6: malformed XML: <a\\u{1}b> is not an element name",
        ),
        (
            base.replace("<room ", "&#0;<room "),
            "line 6: malformed XML: &#0; is a character reference to no character XML allows",
        ),
        (
            base.replace("<schedule>", "<schedule xmlns:xml=\"urn:wrong\">"),
            "line 2: malformed XML: <schedule>: the prefix xml is bound to the wrong namespace",
        ),
        (
            base.replace(
                "<room name=\"Main Hall\">",
                "<room name=\"Main Hall\"><!-- open",
            ),
            "line 6: malformed XML: this comment never closes (or the file is cut off)",
        ),
        (
            base.replace("<day index=\"1\"", "<day index=\"1\"\n index=\"2\""),
            "line 6: malformed XML: <day>: an attribute is given twice",
        ),
    ];

    for (xml, expected) in cases {
        assert_eq!(parse_err(&xml), expected, "{xml}");
    }
    // A character reference and the five named entities are XML's own.
    let fine = base.replace(
        "<room name=\"Main Hall\">",
        "<room name=\"Main Hall\">&#x20;&amp;",
    );
    assert_eq!(parse_ok(&fine).talks.len(), 1);
}

#[test]
fn a_stray_quote_is_placed_at_its_tag_and_a_cut_tag_at_the_end_of_the_file() {
    let base = schedule("UTC", "2024-02-03", EVENT);

    let stray = base.replace("<room name=\"Main Hall\">", "<room name=\"Main Hall>");
    assert_eq!(
        parse_err(&stray),
        "line 6: malformed XML: this tag never closes: a stray quote or `<` in it? \
         (or the file is cut off)"
    );
    let cut = base
        .get(..base.find("Main Hall").unwrap_or_default())
        .unwrap_or_default();
    assert_eq!(
        parse_err(cut),
        "line 6: malformed XML: the file ends here inside <day> (opened on line 5): it looks cut off"
    );
}

#[test]
fn byte_order_marks_before_the_file_do_not_shift_it() {
    let xml = format!("\u{feff}\u{feff}{}", schedule("UTC", "2024-02-03", EVENT));

    let parsed = parse_ok(&xml);

    assert_eq!(parsed.talks[0].title, "T");
    assert_eq!(parsed.name.as_deref(), Some("Test Conf"));
}

#[test]
fn deeply_nested_abstract_markup_does_not_exhaust_the_stack() {
    let nested = format!("{}deep{}", "<span>".repeat(5_000), "</span>".repeat(5_000));
    let events = format!(
        "<event id=\"d\"><start>12:00</start><duration>01:00</duration><title>T</title><abstract>{nested}</abstract></event>"
    );

    let err = parse_err(&schedule("Europe/Brussels", "2024-02-03", &events));

    assert_eq!(
        err,
        "line 7: elements are nested more than 128 levels deep; a schedule needs far fewer"
    );
}

#[test]
fn nesting_is_counted_where_the_file_is_read_and_comments_and_quotes_do_not_count() {
    let abstract_of = |depth: usize| {
        // An empty element nests nothing, and neither do the skipped siblings before it.
        let nested = format!(
            "{}deep<br/>{}",
            "<a x=\"/>\">".repeat(depth),
            "</a>".repeat(depth)
        );
        let notes = "<notes><n>x</n></notes><notes/>".repeat(200);
        let events = format!(
            "<event id=\"d\">{notes}<start>12:00</start><duration>01:00</duration>\
             <title>T</title><abstract>{nested}</abstract></event>"
        );
        schedule("Europe/Brussels", "2024-02-03", &events).replacen(
            "<schedule>",
            &format!("<!-- {} --><schedule>", "</a>".repeat(500)),
            1,
        )
    };

    // The schedule and its day, room, event and abstract are five levels.
    let err = parse_err(&abstract_of(124));
    assert!(err.contains("more than 128 levels"), "{err}");
    assert_eq!(
        parse_ok(&abstract_of(123)).talks[0]
            .abstract_text
            .as_deref(),
        Some("deep")
    );
    assert!(parse_err("<schedule/>").contains("empty timetable"));
    // Not read, so not refused: an unknown element is stepped over without recursion.
    let skipped = format!(
        "<notes>{}{}</notes>",
        "<n>".repeat(5_000),
        "</n>".repeat(5_000)
    );
    let events = format!("{skipped}<event id=\"e\"><start>12:00</start><duration>01:00</duration><title>T</title></event>");
    assert_eq!(
        parse_ok(&schedule("UTC", "2024-02-03", &events))
            .talks
            .len(),
        1
    );
}
