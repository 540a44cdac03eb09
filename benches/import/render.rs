//! The generated programme written the way the real exporters write it: pretalx's .ics
//! (VTIMEZONE with TZID=PST, folded CRLF lines, TEXT escapes, "Title - Speakers" summaries),
//! pretalx's schedule.json ([`super::render_json`]), frab's schedule.xml and a scraped
//! talk-listing page.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use super::generate::{Conference, Talk};

pub const HOST: &str = "pretalx.example.org";

/// pretalx's VTIMEZONE for US Pacific time, as in tests/fixtures/seed000-nbpy-pretalx.ics.
const PST_VTIMEZONE: &str = "BEGIN:VTIMEZONE\r
TZID:PST\r
BEGIN:STANDARD\r
DTSTART:20001029T030000\r
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10;UNTIL=20061029T100000Z\r
TZNAME:PST\r
TZOFFSETFROM:-0700\r
TZOFFSETTO:-0800\r
END:STANDARD\r
BEGIN:STANDARD\r
DTSTART:20071104T030000\r
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r
TZNAME:PST\r
TZOFFSETFROM:-0700\r
TZOFFSETTO:-0800\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:20000402T030000\r
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4;UNTIL=20060402T110000Z\r
TZNAME:PDT\r
TZOFFSETFROM:-0800\r
TZOFFSETTO:-0700\r
END:DAYLIGHT\r
BEGIN:DAYLIGHT\r
DTSTART:20070311T030000\r
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r
TZNAME:PDT\r
TZOFFSETFROM:-0800\r
TZOFFSETTO:-0700\r
END:DAYLIGHT\r
END:VTIMEZONE\r
";

fn speaker_names(conf: &Conference, talk: &Talk) -> Vec<String> {
    talk.speakers
        .iter()
        .filter_map(|&p| conf.people.get(p))
        .map(|p| p.name.clone())
        .collect()
}

pub fn talk_url(conf: &Conference, talk: &Talk) -> String {
    format!("https://{HOST}/{}/talk/{}/", conf.acronym, talk.code)
}

pub fn room_name(conf: &Conference, talk: &Talk) -> String {
    conf.rooms.get(talk.room).cloned().unwrap_or_default()
}

/// A local wall-clock time with its offset (`2026-10-28T08:00:00-07:00`). The generated
/// times never fall into a DST gap or overlap (the programme runs 08:00-23:00).
pub fn with_offset(zone: Tz, local: NaiveDateTime) -> String {
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t: DateTime<Tz>| t.to_rfc3339())
        .unwrap_or_default()
}

pub fn hh_mm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// pretalx's .ics export.
pub fn ics(conf: &Conference) -> String {
    let mut out = String::with_capacity(conf.talks.len() * 1_400);
    out.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    push_folded(
        &mut out,
        &format!("PRODID:-//pretalx//{HOST}//{}", conf.acronym),
    );
    out.push_str(PST_VTIMEZONE);
    let stamp = "20261001T081117Z";
    for talk in &conf.talks {
        let fmt = |t: NaiveDateTime| t.format("%Y%m%dT%H%M%S").to_string();
        out.push_str("BEGIN:VEVENT\r\n");
        push_folded(
            &mut out,
            &format!("UID:pretalx-{}-{}@{HOST}", conf.acronym, talk.code),
        );
        push_folded(&mut out, &format!("DTSTART;TZID=PST:{}", fmt(talk.start)));
        push_folded(&mut out, &format!("DTEND;TZID=PST:{}", fmt(talk.end())));
        push_folded(
            &mut out,
            &format!("DESCRIPTION:{}", ics_escape(&talk.abstract_text)),
        );
        push_folded(&mut out, &format!("DTSTAMP:{stamp}"));
        push_folded(
            &mut out,
            &format!("LOCATION:{}", ics_escape(&room_name(conf, talk))),
        );
        let summary = format!("{} - {}", talk.title, speaker_names(conf, talk).join(", "));
        push_folded(&mut out, &format!("SUMMARY:{}", ics_escape(&summary)));
        push_folded(&mut out, &format!("URL:{}", talk_url(conf, talk)));
        out.push_str("END:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// RFC 5545 TEXT escapes.
fn ics_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (never inside a UTF-8 sequence) and ends it with CRLF.
fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

pub fn at(date: NaiveDate, hour: u32, minute: u32) -> NaiveDateTime {
    date.and_hms_opt(hour, minute, 0).unwrap_or_default()
}

/// frab's schedule.xml (the shape of tests/fixtures/pretalx-fosdemformat.xml).
pub fn xml(conf: &Conference) -> String {
    let zone = conf.zone;
    let mut out = String::with_capacity(conf.talks.len() * 1_600);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<schedule>\n");
    out.push_str(
        "  <generator name=\"pretalx\" version=\"2024.3.1\"/>\n  <version>1.0</version>\n",
    );
    let _ = write!(
        out,
        "  <conference>\n    <acronym>{}</acronym>\n    <title>{}</title>\n    <start>{}</start>\n    \
         <end>{}</end>\n    <days>{}</days>\n    <timeslot_duration>00:05:00</timeslot_duration>\n    \
         <base_url>https://{HOST}/{}/schedule/</base_url>\n    <time_zone_name>{}</time_zone_name>\n  \
         </conference>\n",
        esc(&conf.acronym),
        esc(&conf.title),
        conf.days.first().map(ToString::to_string).unwrap_or_default(),
        conf.days.last().map(ToString::to_string).unwrap_or_default(),
        conf.days.len(),
        esc(&conf.acronym),
        zone.name()
    );
    out.push_str("  <tracks>\n");
    for track in super::words::TRACKS {
        let _ = writeln!(out, "    <track online_qa=\"false\">{}</track>", esc(track));
    }
    out.push_str("  </tracks>\n");
    for (d, date) in conf.days.iter().enumerate() {
        let _ = writeln!(
            out,
            "  <day index=\"{}\" date=\"{date}\" start=\"{}\" end=\"{}\">",
            d + 1,
            with_offset(zone, at(*date, 4, 0)),
            with_offset(zone, at(*date + Duration::days(1), 3, 59))
        );
        for (r, room) in conf.rooms.iter().enumerate() {
            let talks: Vec<&Talk> = conf
                .talks
                .iter()
                .filter(|t| t.day == d && t.room == r)
                .collect();
            if talks.is_empty() {
                continue;
            }
            let _ = writeln!(out, "    <room name=\"{}\" guid=\"\">", esc(room));
            for talk in talks {
                xml_event(&mut out, conf, talk);
            }
            out.push_str("    </room>\n");
        }
        out.push_str("  </day>\n");
    }
    out.push_str("</schedule>\n");
    out
}

fn xml_event(out: &mut String, conf: &Conference, talk: &Talk) {
    let _ = writeln!(
        out,
        "      <event guid=\"{}\" id=\"{}\">",
        talk.guid, talk.id
    );
    let field = |out: &mut String, name: &str, value: &str| {
        let _ = writeln!(out, "        <{name}>{}</{name}>", esc(value));
    };
    field(out, "date", &with_offset(conf.zone, talk.start));
    field(out, "start", &talk.start.format("%H:%M").to_string());
    field(out, "duration", &hh_mm(talk.minutes));
    field(out, "room", &room_name(conf, talk));
    field(out, "slug", &format!("{}-{}", conf.acronym, talk.id));
    field(out, "url", &talk_url(conf, talk));
    field(out, "title", &talk.title);
    out.push_str("        <subtitle/>\n");
    field(out, "track", talk.track);
    field(out, "type", talk.talk_type);
    field(out, "language", talk.language);
    out.push_str("        <abstract>");
    for paragraph in talk.abstract_text.split("\n\n") {
        let _ = write!(out, "<p>{}</p>", esc(paragraph));
    }
    out.push_str("</abstract>\n");
    field(out, "description", &talk.summary);
    out.push_str("        <logo/>\n        <persons>\n");
    for person in talk.speakers.iter().filter_map(|&p| conf.people.get(p)) {
        let _ = writeln!(
            out,
            "          <person id=\"{}\">{}</person>",
            person.id,
            esc(&person.name)
        );
    }
    out.push_str("        </persons>\n        <links/>\n        <attachments/>\n      </event>\n");
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A talk-listing page as scraped from a conference website (the shape of
/// tests/fixtures/seed004-listing-pybay.txt): title, speakers, "Track, Level", then
/// `Description:`, `Abstract:` and one `Bio:`/`Bio2:`/... per speaker; two blank lines
/// between talks.
pub fn listing(conf: &Conference) -> String {
    let mut out = String::with_capacity(conf.talks.len() * 1_800);
    let _ = write!(out, "top of page\n\n{} Talks\n\n", conf.title);
    for talk in &conf.talks {
        let _ = write!(
            out,
            "{}\n\n{}\n\n{}, {}\n\nDescription: {}\n\n",
            talk.title,
            speaker_names(conf, talk).join(", "),
            talk.track,
            talk.level,
            talk.summary
        );
        let _ = write!(out, "Abstract: {}\n\n", talk.abstract_text);
        for (n, person) in talk
            .speakers
            .iter()
            .filter_map(|&p| conf.people.get(p))
            .enumerate()
        {
            let label = if n == 0 {
                "Bio".to_owned()
            } else {
                format!("Bio{}", n + 1)
            };
            let _ = write!(out, "{label}: {}\n\n", person.bio);
        }
        out.push('\n');
    }
    out.push_str("bottom of page\n");
    out
}
