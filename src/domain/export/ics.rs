//! The stored programme as an iCalendar file, for calendar apps and for re-import.
//!
//! Built with the `icalendar` crate, which folds lines at 75 octets on character boundaries
//! and escapes TEXT values (`\\` `\,` `\;` `\n`), including `X-` properties and each
//! CATEGORIES item. It does not escape a carriage return and writes URL values verbatim, so
//! both are sanitised here before they reach it.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use icalendar::{Alarm, Calendar, Component, Event, EventLike, EventStatus, Property, Trigger};

use crate::domain::model::{Conference, StoredTalk, TalkStatus};

/// The PRODID of every export; the importer recognises our own files by their
/// `X-CONFBOT-*` properties, not by this.
pub const PRODID: &str = "-//confbot//confbot//EN";

/// Renders the programme as an iCalendar file (CRLF line endings).
///
/// Each talk with a slot becomes a VEVENT: UID = the talk's source id (or
/// `confbot-talk-<id>`), DTSTART/DTEND in UTC, or as `VALUE=DATE` conference-local dates for
/// all-day entries; SUMMARY = title; one `X-CONFBOT-SPEAKER` per speaker; LOCATION, CATEGORIES
/// (track), DESCRIPTION (abstract), URL, STATUS, `X-CONFBOT-SUBTITLE/LEVEL/TYPE/LANGUAGE/KIND`;
/// SEQUENCE = the schedule version, so calendar apps notice a moved talk.
///
/// Talks without a slot (catalogue entries not yet scheduled) are left out: a VEVENT needs a
/// start, and inventing one would put a fake session in people's calendars.
///
/// DTSTAMP is `stamp`, the time the file is made (RFC 5545: when the iCalendar object was
/// created), given by the caller since the domain has no clock.
pub fn to_ics(conference: &Conference, talks: &[StoredTalk], stamp: DateTime<Utc>) -> String {
    calendar(conference, talks, stamp, Extras::default())
}

/// What a live feed adds to an export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// A display alarm this long before each timed talk that takes place (a personal
    /// feed's reminder lead time). Cancelled talks and all-day entries get none.
    pub alarm: Option<chrono::Duration>,
    /// How often calendar apps should fetch the feed again (RFC 7986 REFRESH-INTERVAL, and
    /// X-PUBLISHED-TTL, which Outlook and Apple Calendar read).
    pub refresh: Option<chrono::Duration>,
}

/// [`to_ics`] with a live feed's [`Extras`].
pub fn calendar(
    conference: &Conference,
    talks: &[StoredTalk],
    stamp: DateTime<Utc>,
    extras: Extras,
) -> String {
    let name = one_line(&conference.name);
    // RFC 7986 NAME is TEXT, but the crate does not know it and would write it unescaped
    // (`Calendar::name` does): an explicit VALUE=TEXT makes it escape the value.
    let calendar_name = Property::new("NAME", &name)
        .add_parameter("VALUE", "TEXT")
        .done();
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .append_property(calendar_name)
        .append_property(Property::new("X-WR-CALNAME", &name))
        .append_property(Property::new("X-WR-TIMEZONE", conference.time_zone.name()));
    if let Some(refresh) = extras.refresh {
        let period = format!("PT{}M", refresh.num_minutes().max(1));
        calendar
            .append_property(
                Property::new("REFRESH-INTERVAL", &period)
                    .add_parameter("VALUE", "DURATION")
                    .done(),
            )
            .append_property(Property::new("X-PUBLISHED-TTL", &period));
    }
    for talk in talks {
        if let Some((mut event, uid)) = event(talk, conference.time_zone, stamp) {
            let timed = talk.data.slot.is_some_and(|slot| !slot.all_day);
            let confirmed = talk.data.status == TalkStatus::Confirmed;
            if let Some(lead) = extras.alarm.filter(|_| timed && confirmed) {
                // The crate gives a component without a UID or DTSTAMP a random UID and the
                // current time: set both, so the same feed is the same text (RFC 9074 allows
                // an alarm UID).
                let alarm = Alarm::display(&alarm_text(talk), Trigger::before_start(lead))
                    .uid(&format!("{uid}-alarm"))
                    .timestamp(stamp)
                    .done();
                event.alarm(alarm);
            }
            calendar.push(event);
        }
    }
    calendar.to_string()
}

/// The talk's VEVENT and its UID.
fn event(talk: &StoredTalk, zone: Tz, stamp: DateTime<Utc>) -> Option<(Event, String)> {
    let data = &talk.data;
    let slot = data.slot?;
    let mut event = Event::new();
    let uid = data
        .source_id
        .as_deref()
        .and_then(|id| Some(one_line(id)).filter(|id| !id.is_empty()))
        .unwrap_or_else(|| format!("confbot-talk-{}", talk.id.0));
    event
        .uid(&uid)
        .timestamp(stamp)
        .sequence(u32::try_from(talk.schedule_version).unwrap_or(0))
        .summary(&one_line(&data.title));
    if slot.all_day {
        let first = local_date(slot.start, zone);
        let end = local_date(slot.end, zone);
        // DTEND is exclusive: a slot ending after local midnight covers that day too.
        let ends_at_midnight = slot.end.with_timezone(&zone).time() == NaiveTime::MIN;
        let next_day = |date: NaiveDate| date.checked_add_days(Days::new(1)).unwrap_or(date);
        let last = if ends_at_midnight { end } else { next_day(end) };
        event.starts(first).ends(last.max(next_day(first)));
    } else {
        event.starts(slot.start).ends(slot.end);
    }
    for speaker in &data.speakers {
        event.add_multi_property("X-CONFBOT-SPEAKER", &one_line(&speaker.name));
    }
    if let Some(room) = &data.room {
        event.location(&one_line(room));
    }
    if let Some(track) = &data.track {
        event.categories([one_line(track)]);
    }
    if let Some(text) = &data.abstract_text {
        event.description(&multi_line(text));
    }
    if let Some(url) = &data.url {
        // URL is written verbatim by the crate: white space or a line break would corrupt
        // the file, and a URL never legitimately contains either.
        let url: String = url
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect();
        event.url(&url);
    }
    event.status(match data.status {
        TalkStatus::Confirmed => EventStatus::Confirmed,
        TalkStatus::Cancelled => EventStatus::Cancelled,
    });
    let extras = [
        ("X-CONFBOT-SUBTITLE", data.subtitle.as_deref()),
        ("X-CONFBOT-LEVEL", data.level.as_deref()),
        ("X-CONFBOT-TYPE", data.talk_type.as_deref()),
        ("X-CONFBOT-LANGUAGE", data.language.as_deref()),
        ("X-CONFBOT-KIND", Some(data.kind.as_str())),
    ];
    for (name, value) in extras {
        if let Some(value) = value {
            event.add_property(name, one_line(value));
        }
    }
    Some((event.done(), uid))
}

/// What the alarm says: the title, and the room when there is one.
fn alarm_text(talk: &StoredTalk) -> String {
    let title = one_line(&talk.data.title);
    match talk.data.room.as_deref().map(one_line) {
        Some(room) if !room.is_empty() => format!("{title} ({room})"),
        _ => title,
    }
}

/// The stamp of a calendar rendered before its stamp is known ([`stamped`] sets it).
pub const UNSTAMPED: DateTime<Utc> = DateTime::UNIX_EPOCH;

/// `ics` (rendered with [`UNSTAMPED`]) with every DTSTAMP set to `stamp`: a feed hashes the
/// unstamped text to tell whether anything changed, then stamps it with when it did. Only a
/// DTSTAMP property can begin a line with that text: schedule text is escaped onto its own
/// property lines, and folded continuations begin with a space.
pub fn stamped(ics: &str, stamp: DateTime<Utc>) -> String {
    let unstamped = format!("\r\nDTSTAMP:{}\r\n", UNSTAMPED.format("%Y%m%dT%H%M%SZ"));
    let stamped = format!("\r\nDTSTAMP:{}\r\n", stamp.format("%Y%m%dT%H%M%SZ"));
    ics.replace(&unstamped, &stamped)
}

/// The conference-local date of an instant.
fn local_date(instant: DateTime<Utc>, zone: Tz) -> NaiveDate {
    instant.with_timezone(&zone).date_naive()
}

/// Text for a one-line property: runs of white space (line breaks included) become one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text that may keep its line breaks: CR LF and lone CR become LF (the crate escapes LF but
/// would write a CR raw), other control characters are dropped.
fn multi_line(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::import::{ics, ImportOptions};
    use crate::domain::model::{
        ConferenceSlug, Slot, SpeakerData, TalkData, TalkId, TalkKind, TalkStatus,
    };

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// When the test's file is made.
    fn stamp() -> DateTime<Utc> {
        "2026-12-04T10:00:00Z".parse().expect("instant")
    }

    fn conference() -> Conference {
        Conference {
            slug: ConferenceSlug::parse("nbpy-2026").unwrap(),
            name: "North Bay Python; 2026, \"Barn\" edition".to_owned(),
            time_zone: Tz::America__Los_Angeles,
            source_url: None,
        }
    }

    fn stored(id: i64, data: TalkData) -> StoredTalk {
        StoredTalk {
            id: TalkId(id),
            schedule_version: 3,
            data,
        }
    }

    fn speaker(name: &str) -> SpeakerData {
        SpeakerData {
            name: name.to_owned(),
            ..SpeakerData::default()
        }
    }

    const HOSTILE: &str =
        "Commas, semicolons; \"quotes\" \\ back\\slash: @everyone <@&123> ünïcödé 🎉 \
                           and a title long enough to be folded over more than one physical line";

    fn talks() -> Vec<StoredTalk> {
        vec![
            stored(
                1,
                TalkData {
                    source_id: Some("pretalx-nbpy-2026-ERUJ9T@pretalx.northbaypython.org".into()),
                    title: HOSTILE.to_owned(),
                    subtitle: Some("A subtitle, with; punctuation".into()),
                    abstract_text: Some(
                        "Line one, with; specials \\n\n\nLine three\twith a tab".into(),
                    ),
                    speakers: vec![speaker("Freya Bhushan Mehta"), speaker("Doe, Jane; PhD")],
                    track: Some("Web, APIs".into()),
                    level: Some("Intermediate".into()),
                    talk_type: Some("Talk".into()),
                    language: Some("en".into()),
                    room: Some("Barn; upstairs, left".into()),
                    slot: Some(Slot {
                        start: utc("2026-04-25T22:45:00Z"),
                        end: utc("2026-04-25T23:10:00Z"),
                        all_day: false,
                    }),
                    url: Some(
                        "https://pretalx.northbaypython.org/nbpy-2026/talk/ERUJ9T/?a=1,2;b".into(),
                    ),
                    ..TalkData::default()
                },
            ),
            stored(
                2,
                TalkData {
                    title: "Registration open".to_owned(),
                    slot: Some(Slot {
                        start: utc("2026-04-25T07:00:00Z"),
                        end: utc("2026-04-27T07:00:00Z"),
                        all_day: true,
                    }),
                    kind: TalkKind::Other,
                    ..TalkData::default()
                },
            ),
            stored(
                3,
                TalkData {
                    source_id: Some("cancelled-1".into()),
                    title: "Cancelled break".to_owned(),
                    slot: Some(Slot {
                        start: utc("2026-04-26T18:00:00Z"),
                        end: utc("2026-04-26T18:30:00Z"),
                        all_day: false,
                    }),
                    status: TalkStatus::Cancelled,
                    kind: TalkKind::Other,
                    ..TalkData::default()
                },
            ),
            stored(
                4,
                TalkData {
                    title: "Not yet scheduled".to_owned(),
                    ..TalkData::default()
                },
            ),
        ]
    }

    #[test]
    fn exporting_then_importing_round_trips_every_field() {
        let talks = talks();
        let exported = to_ics(&conference(), &talks, stamp());
        let imported = ics::parse(&exported, &ImportOptions::default()).unwrap();

        assert_eq!(
            imported.name.as_deref(),
            Some("North Bay Python; 2026, \"Barn\" edition")
        );
        assert_eq!(imported.time_zone, Some(Tz::America__Los_Angeles));
        let mut expected: Vec<TalkData> = talks.iter().take(3).map(|t| t.data.clone()).collect();
        expected[1].source_id = Some("confbot-talk-2".into());
        assert_eq!(imported.talks, expected);
    }

    #[test]
    fn all_day_items_are_written_as_conference_local_dates() {
        let exported = to_ics(&conference(), &talks(), stamp());
        assert!(
            exported.contains("DTSTART;VALUE=DATE:20260425\r\n"),
            "{exported}"
        );
        assert!(
            exported.contains("DTEND;VALUE=DATE:20260427\r\n"),
            "{exported}"
        );
        assert!(
            exported.contains("DTSTART:20260425T224500Z\r\n"),
            "{exported}"
        );
    }

    #[test]
    fn talks_without_a_slot_are_left_out() {
        let exported = to_ics(&conference(), &talks(), stamp());
        assert_eq!(exported.matches("BEGIN:VEVENT").count(), 3);
        assert!(!exported.contains("Not yet scheduled"));
    }

    #[test]
    fn the_file_is_folded_crlf_text_with_no_stray_carriage_returns() {
        let mut talks = talks();
        talks[0].data.title = "Carriage\r\nreturn\rtitle".to_owned();
        talks[0].data.abstract_text = Some("a\r\nb\rc".into());
        talks[0].data.url = Some("https://example.org/\r\nX-INJECTED:1".into());
        let exported = to_ics(&conference(), &talks, stamp());

        let body = exported.strip_suffix("\r\n").unwrap();
        for line in body.split("\r\n") {
            assert!(line.len() <= 75, "line over 75 octets: {line:?}");
            assert!(
                !line.contains('\r') && !line.contains('\n'),
                "stray line break in {line:?}"
            );
        }
        assert!(!body.split("\r\n").any(|l| l.starts_with("X-INJECTED")));
        let imported = ics::parse(&exported, &ImportOptions::default()).unwrap();
        assert_eq!(imported.talks[0].title, "Carriage return title");
        assert_eq!(imported.talks[0].abstract_text.as_deref(), Some("a\nb\nc"));
    }

    #[test]
    fn the_calendar_header_names_the_product_and_the_export_is_deterministic() {
        let exported = to_ics(&conference(), &talks(), stamp());
        assert!(exported
            .starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//confbot//confbot//EN\r\n"));
        assert!(exported.contains("X-WR-TIMEZONE:America/Los_Angeles\r\n"));
        let escaped_name = "North Bay Python\\; 2026\\, \"Barn\" edition\r\n";
        assert!(
            exported.contains(&format!("NAME;VALUE=TEXT:{escaped_name}")),
            "{exported}"
        );
        assert!(
            exported.contains(&format!("X-WR-CALNAME:{escaped_name}")),
            "{exported}"
        );
        assert!(exported.contains("SEQUENCE:3\r\n"));
        assert_eq!(exported, to_ics(&conference(), &talks(), stamp()));
    }
}
