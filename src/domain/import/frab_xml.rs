//! frab / pentabarf `schedule.xml` (also written by pretalx): `<schedule><conference>`, then
//! `<day date start end>` → `<room name>` → `<event guid id>` with `<date>`, `<start>`,
//! `<duration>`, `<title>`, `<abstract>`, `<persons>` and friends.
//!
//! Untrusted input: DTD entity declarations are refused outright (no entity expansion at all,
//! so no "billion laughs"), and every error names the line and element.

pub(super) mod fields;
mod guards;
mod nodes;
mod rich;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use roxmltree::{Document, Node, ParsingOptions};

use crate::domain::import::identity::Ids;
use crate::domain::import::skipped::Skipped;
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{
    ImportedSchedule, ProgrammeDay, ScheduleScope, Slot, SpeakerData, TalkData,
};
use crate::domain::text::clean_line;
use crate::domain::time::zone_by_name;
use fields::{parse_clock, parse_date, parse_duration, parse_stamp, shorten};
use nodes::{child, elements, text_of, EventFields};
use rich::rich_element;

/// Parses a frab/pentabarf `schedule.xml` into the whole timetable.
pub fn parse(input: &str, options: &ImportOptions) -> Result<ImportedSchedule, ImportError> {
    guards::refuse_entity_declarations(input)?;
    guards::refuse_deep_nesting(input)?;
    // A DTD without entity declarations (a bare `<!DOCTYPE schedule>`) is harmless.
    let xml_options = ParsingOptions {
        allow_dtd: true,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(input, xml_options).map_err(|e| match e {
        roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode => {
            let (line, open) = guards::truncation(input);
            let inside = open.map_or_else(String::new, |(name, opened)| {
                format!(" inside <{name}> (opened on line {opened})")
            });
            ImportError::at_line(
                line,
                format!("malformed XML: the file ends here{inside}: it looks cut off"),
            )
        }
        e => ImportError::at_line(e.pos().row as usize, format!("malformed XML: {e}")),
    })?;
    let reader = Reader { doc: &doc };
    let root = doc.root_element();
    if root.tag_name().name() != "schedule" {
        return Err(reader.error(
            root,
            "the root element should be <schedule> (a frab/pentabarf schedule.xml)",
        ));
    }

    let conference = child(root, "conference");
    let file_zone = match conference.and_then(|c| child(c, "time_zone_name")) {
        Some(node) => {
            let name = text_of(node);
            let zone = zone_by_name(&name).ok_or_else(|| {
                reader.error(node, format!("unknown time zone {:?}", shorten(&name)))
            })?;
            Some(zone)
        }
        None => None,
    };
    let day_change = match conference.and_then(|c| child(c, "day_change")) {
        Some(node) => Some(
            parse_clock(&text_of(node))
                .ok_or_else(|| reader.error(node, "<day_change> should be a time such as 04:00"))?,
        ),
        None => None,
    };

    let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
    schedule.name = conference
        .and_then(|c| child(c, "title"))
        .and_then(|t| clean_line(&text_of(t)));
    schedule.time_zone = file_zone;
    let context = Context {
        reader,
        zone: file_zone.or(options.time_zone).or(options.stored_time_zone),
        day_change,
    };

    let mut ids = Ids::new();
    let mut skipped = Skipped::default();
    let mut lines = Lines::new(input);
    for day_node in elements(root, "day") {
        let day = context.day(day_node)?;
        schedule.days.extend(day.programme_day);
        for room in elements(day_node, "room") {
            let room_name = room.attribute("name").and_then(clean_line);
            for event in elements(room, "event") {
                skipped.events += 1;
                match context.event(event, &day, room_name.as_deref()) {
                    Ok(mut talk) => {
                        let place = format!("line {}", lines.at(event.range().start));
                        schedule.warnings.extend(ids.claim(&mut talk, &place));
                        schedule.talks.push(talk);
                    }
                    Err(error) => {
                        let id = ["guid", "id"]
                            .iter()
                            .find_map(|attr| event.attribute(*attr).and_then(clean_line));
                        skipped.note(id, error);
                    }
                }
            }
        }
    }
    skipped.conclude(&mut schedule)?;
    if schedule.talks.is_empty() {
        // Applied as the full timetable it would cancel every stored talk: a broken or
        // not-yet-filled export must never do that (the iCalendar importer refuses too).
        return Err(reader.error(
            root,
            "no <day><room><event> found: refusing to import an empty timetable",
        ));
    }
    Ok(schedule)
}

/// Line numbers of positions met in document order, counted onwards from the last one:
/// every event's line costs only the text since the previous event (asking roxmltree for
/// each would rescan the file from its start, quadratic in its size).
struct Lines<'a> {
    input: &'a str,
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(input: &'a str) -> Self {
        Self {
            input,
            at: 0,
            line: 1,
        }
    }

    fn at(&mut self, position: usize) -> usize {
        if position < self.at {
            *self = Self::new(self.input);
        }
        let between = self.input.get(self.at..position).unwrap_or_default();
        self.line += between.bytes().filter(|&b| b == b'\n').count();
        self.at = position;
        self.line
    }
}

/// Positions and labels for error messages.
#[derive(Clone, Copy)]
struct Reader<'a, 'input> {
    doc: &'a Document<'input>,
}

impl Reader<'_, '_> {
    fn line(&self, node: Node<'_, '_>) -> usize {
        self.doc.text_pos_at(node.range().start).row as usize
    }

    /// An error at `node`: `line 14: <event id="1235">: missing <start>`.
    fn error(&self, node: Node<'_, '_>, message: impl std::fmt::Display) -> ImportError {
        ImportError::at_line(self.line(node), format!("{}: {message}", label(node)))
    }
}

/// The element as an organiser would find it in the file: its name and identifying attribute.
fn label(node: Node<'_, '_>) -> String {
    let name = node.tag_name().name();
    ["id", "guid", "index", "name", "date"]
        .iter()
        .find_map(|attr| {
            node.attribute(*attr)
                .map(|value| format!("<{name} {attr}=\"{}\">", shorten(value)))
        })
        .unwrap_or_else(|| format!("<{name}>"))
}

/// What every day and event needs to know.
struct Context<'a, 'input> {
    reader: Reader<'a, 'input>,
    /// The conference zone: the file's, else the caller's.
    zone: Option<Tz>,
    /// frab's `<day_change>`: when one programme day ends and the next begins.
    day_change: Option<NaiveTime>,
}

/// A `<day>` as the events inside it need it.
struct Day {
    date: Option<NaiveDate>,
    /// The local time of day the programme day starts: a talk earlier than it is after midnight.
    starts_at: Option<NaiveTime>,
    programme_day: Option<ProgrammeDay>,
}

impl Context<'_, '_> {
    fn day(&self, node: Node<'_, '_>) -> Result<Day, ImportError> {
        let stamp_attr = |attr: &str| match node.attribute(attr) {
            Some(value) => parse_stamp(value).map(Some).ok_or_else(|| {
                self.reader.error(
                    node,
                    format!("{attr}=\"{}\" is not an ISO 8601 date-time", shorten(value)),
                )
            }),
            None => Ok(None),
        };
        let start = stamp_attr("start")?;
        let end = stamp_attr("end")?;
        let date = match node.attribute("date") {
            Some(value) => Some(parse_date(value).ok_or_else(|| {
                self.reader.error(
                    node,
                    format!(
                        "date=\"{}\" is not a date such as 2024-02-03",
                        shorten(value)
                    ),
                )
            })?),
            None => start.map(|s| s.local_date()),
        };
        let starts_at = start.map(|s| s.local_time()).or(self.day_change);

        // Missing bounds follow frab: the day starts at `day_change` on its date.
        let programme_day = fields::programme_day(date, start, end, self.day_change, self.zone);
        Ok(Day {
            date,
            starts_at,
            programme_day,
        })
    }

    fn event(
        &self,
        node: Node<'_, '_>,
        day: &Day,
        room_name: Option<&str>,
    ) -> Result<TalkData, ImportError> {
        let r = self.reader;
        let found = EventFields::of(node);
        let source_id = ["guid", "id"]
            .iter()
            .filter_map(|attr| node.attribute(*attr).and_then(clean_line))
            .next()
            .ok_or_else(|| r.error(node, "the event has no guid or id attribute"))?;
        let raw_title = found.title.map(text_of).unwrap_or_default();
        let (title, title_cancelled) = fields::split_cancelled(&raw_title);
        let title = clean_line(title).ok_or_else(|| r.error(node, "missing <title>"))?;
        let status_text = found.status.or(found.state).map(text_of);
        let start = self.event_start(node, &found, day)?;
        let duration_node = found
            .duration
            .ok_or_else(|| r.error(node, "missing <duration>"))?;
        let duration_text = text_of(duration_node);
        let duration = parse_duration(&duration_text).ok_or_else(|| {
            r.error(
                node,
                format!(
                    "<duration> \"{}\" should be HH:MM or HH:MM:SS",
                    shorten(&duration_text)
                ),
            )
        })?;
        let end = start
            .checked_add_signed(duration)
            .ok_or_else(|| r.error(node, "the event ends out of range"))?;
        let line_field = |node: Option<Node<'_, '_>>| node.and_then(|n| clean_line(&text_of(n)));
        let talk_type = line_field(found.talk_type);
        Ok(TalkData {
            source_id: Some(source_id),
            title,
            subtitle: line_field(found.subtitle),
            abstract_text: found.abstract_text.and_then(rich_element),
            description: found.description.and_then(rich_element),
            speakers: found.persons.map(persons).unwrap_or_default(),
            track: line_field(found.track),
            level: None,
            kind: fields::kind_for_type(talk_type.as_deref()),
            talk_type,
            language: line_field(found.language),
            room: room_name
                .map(str::to_owned)
                .or_else(|| line_field(found.room)),
            slot: Some(Slot {
                start,
                end,
                all_day: false,
            }),
            status: fields::status(title_cancelled, status_text.as_deref()),
            url: found.url.and_then(|n| fields::web_url(&text_of(n))),
        })
    }

    /// The true start: `<date>` when given (it carries its offset), else the day's date and
    /// `<start>` in the conference zone.
    fn event_start(
        &self,
        node: Node<'_, '_>,
        found: &EventFields<'_, '_>,
        day: &Day,
    ) -> Result<DateTime<Utc>, ImportError> {
        let r = self.reader;
        let no_zone = "has no offset and the schedule names no time zone: add <time_zone_name> \
                       or choose the conference's time zone";
        if let Some(date_node) = found.date.filter(|n| !text_of(*n).trim().is_empty()) {
            let value = text_of(date_node);
            let stamp = parse_stamp(&value).ok_or_else(|| {
                r.error(
                    node,
                    format!(
                        "<date> \"{}\" is not an ISO 8601 date-time",
                        shorten(&value)
                    ),
                )
            })?;
            return stamp
                .to_utc(self.zone)
                .ok_or_else(|| r.error(node, format!("<date> {no_zone}")));
        }
        let start_node = found
            .start
            .ok_or_else(|| r.error(node, "missing <start>"))?;
        let start_text = text_of(start_node);
        let clock = parse_clock(&start_text).ok_or_else(|| {
            r.error(
                node,
                format!(
                    "<start> \"{}\" should be a time such as 09:30",
                    shorten(&start_text)
                ),
            )
        })?;
        let date = day.date.ok_or_else(|| {
            r.error(
                node,
                "the event has no <date>, and its <day> has no date attribute",
            )
        })?;
        let zone = self
            .zone
            .ok_or_else(|| r.error(node, format!("the event's <start> {no_zone}")))?;
        fields::start_from_day(date, clock, day.starts_at, zone)
            .ok_or_else(|| r.error(node, "the event's date is out of range"))
    }
}

/// `<persons><person id="2">Name</person></persons>`.
fn persons(list: Node<'_, '_>) -> Vec<SpeakerData> {
    elements(list, "person")
        .filter_map(|person| {
            let name = clean_line(&text_of(person))?;
            Some(SpeakerData {
                source_id: person.attribute("id").and_then(clean_line),
                name,
                biography: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
