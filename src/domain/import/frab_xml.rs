//! frab / pentabarf `schedule.xml` (also written by pretalx): `<schedule><conference>`, then
//! `<day date start end>` → `<room name>` → `<event guid id>` with `<date>`, `<start>`,
//! `<duration>`, `<title>`, `<abstract>`, `<persons>` and friends.
//!
//! The file is read as an outline ([`outline`]), and each `<event>` is built into a tree of
//! its own, read and dropped: a large schedule is never one tree.
//!
//! Untrusted input: DTD entity declarations are refused outright (no entity expansion at all,
//! so no "billion laughs"), and every error names the line (and the element, where the
//! problem is in one rather than in the XML itself).

pub(super) mod fields;
mod guards;
mod lexical;
mod nodes;
mod outline;
mod rich;
mod tree;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use roxmltree::Node;

use outline::{Element, Outline};

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
use tree::{error_at, with_tree, Prefixes, Tree};

/// Parses a frab/pentabarf `schedule.xml` into the whole timetable.
pub fn parse(input: &str, options: &ImportOptions) -> Result<ImportedSchedule, ImportError> {
    // quick-xml skips a byte-order mark without counting it in its positions.
    let input = input.trim_start_matches('\u{feff}');
    guards::refuse_entity_declarations(input)?;
    guards::refuse_deep_nesting(input)?;
    let mut outline = Outline::new(input);
    let root = outline.root()?;
    if root.name != "schedule" {
        return Err(error_at(
            root.line,
            &root,
            "the root element should be <schedule> (a frab/pentabarf schedule.xml)",
        ));
    }

    let root_prefixes = Prefixes::of(&root);
    let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
    let conference = match outline::conference(input)? {
        Some(fragment) => Some(with_tree(fragment, &root_prefixes, Conference::read)??),
        None => None,
    };
    let conference = conference.unwrap_or_default();
    schedule.name = conference.title;
    schedule.time_zone = conference.zone;
    let context = Context {
        zone: conference
            .zone
            .or(options.time_zone)
            .or(options.stored_time_zone),
        day_change: conference.day_change,
    };

    let mut ids = Ids::new();
    let mut skipped = Skipped::default();
    while let Some(day_element) = children(&mut outline, &root, "day")? {
        let day = context.day(&day_element)?;
        schedule.days.extend(day.programme_day);
        let day_prefixes = root_prefixes.with(&day_element);
        while let Some(room) = children(&mut outline, &day_element, "room")? {
            let room_name = room.attribute("name").and_then(clean_line);
            let prefixes = day_prefixes.with(&room);
            while let Some(event) = children(&mut outline, &room, "event")? {
                let fragment = outline.fragment(&event)?;
                skipped.events += 1;
                let read = with_tree(fragment, &prefixes, |tree, node| {
                    let read = context.event(tree, node, &day, room_name.as_deref());
                    (read, event_id(node))
                })?;
                match read {
                    (Ok(mut talk), _) => {
                        let place = format!("line {}", fragment.line);
                        schedule.warnings.extend(ids.claim(&mut talk, &place));
                        schedule.talks.push(talk);
                    }
                    (Err(error), id) => skipped.note(id, error),
                }
            }
        }
    }
    outline.finish()?;
    skipped.conclude(&mut schedule)?;
    if schedule.talks.is_empty() {
        // Applied as the full timetable it would cancel every stored talk: a broken or
        // not-yet-filled export must never do that (the iCalendar importer refuses too).
        return Err(error_at(
            root.line,
            &root,
            "no <day><room><event> found: refusing to import an empty timetable",
        ));
    }
    Ok(schedule)
}

/// The next child of `parent` called `name`, stepping over any other; `None` once `parent`
/// ends (at once for an empty element).
fn children<'i>(
    outline: &mut Outline<'i>,
    parent: &Element<'i>,
    name: &str,
) -> Result<Option<Element<'i>>, ImportError> {
    if parent.is_empty() {
        return Ok(None);
    }
    while let Some(child) = outline.next_child()? {
        if child.name == name {
            return Ok(Some(child));
        }
        outline.skip(&child)?;
    }
    Ok(None)
}

/// What `<conference>` says about the whole schedule.
#[derive(Default)]
struct Conference {
    title: Option<String>,
    zone: Option<Tz>,
    day_change: Option<NaiveTime>,
}

impl Conference {
    fn read(tree: Tree<'_, '_>, conference: Node<'_, '_>) -> Result<Self, ImportError> {
        let zone = match child(conference, "time_zone_name") {
            Some(node) => {
                let name = text_of(node);
                let zone = zone_by_name(&name).ok_or_else(|| {
                    tree.error(node, format!("unknown time zone {:?}", shorten(&name)))
                })?;
                Some(zone)
            }
            None => None,
        };
        let day_change =
            match child(conference, "day_change") {
                Some(node) => Some(parse_clock(&text_of(node)).ok_or_else(|| {
                    tree.error(node, "<day_change> should be a time such as 04:00")
                })?),
                None => None,
            };
        Ok(Self {
            title: child(conference, "title").and_then(|t| clean_line(&text_of(t))),
            zone,
            day_change,
        })
    }
}

/// What every day and event needs to know.
struct Context {
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

impl Context {
    fn day(&self, node: &Element<'_>) -> Result<Day, ImportError> {
        let stamp_attr = |attr: &str| match node.attribute(attr) {
            Some(value) => parse_stamp(value).map(Some).ok_or_else(|| {
                error_at(
                    node.line,
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
                error_at(
                    node.line,
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
        r: Tree<'_, '_>,
        node: Node<'_, '_>,
        day: &Day,
        room_name: Option<&str>,
    ) -> Result<TalkData, ImportError> {
        let found = EventFields::of(node);
        let source_id =
            event_id(node).ok_or_else(|| r.error(node, "the event has no guid or id attribute"))?;
        let raw_title = found.title.map(text_of).unwrap_or_default();
        let (title, title_cancelled) = fields::split_cancelled(&raw_title);
        let title = clean_line(title).ok_or_else(|| r.error(node, "missing <title>"))?;
        let status_text = found.status.or(found.state).map(text_of);
        let start = self.event_start(r, node, &found, day)?;
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
        r: Tree<'_, '_>,
        node: Node<'_, '_>,
        found: &EventFields<'_, '_>,
        day: &Day,
    ) -> Result<DateTime<Utc>, ImportError> {
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

/// The event's id as the source gives it: `guid`, else `id`.
fn event_id(node: Node<'_, '_>) -> Option<String> {
    ["guid", "id"]
        .iter()
        .find_map(|attr| node.attribute(*attr).and_then(clean_line))
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
#[cfg(test)]
mod tests_outline;
