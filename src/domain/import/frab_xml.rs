//! frab / pentabarf `schedule.xml` (also written by pretalx): `<schedule><conference>`, then
//! `<day date start end>` → `<room name>` → `<event guid id>` with `<date>`, `<start>`,
//! `<duration>`, `<title>`, `<abstract>`, `<persons>` and friends.
//!
//! The file is read as a stream ([`outline`]): each `<event>`'s fields are read as the reader
//! passes them, and no tree of the file, or of an event, is ever built.
//!
//! Untrusted input: DTD entity declarations are refused outright (no entity expansion at all,
//! so no "billion laughs"), and every error names the line (and the element, where the
//! problem is in one rather than in the XML itself).

mod content;
mod days;
mod errors;
pub(super) mod fields;
mod guards;
mod lexical;
mod outline;
mod reading;
mod rich;

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

pub(super) use days::read;

use content::{EventFields, Field};
use errors::error_in;
use outline::{Element, Outline};
use reading::Reading;

use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{ImportedSchedule, ProgrammeDay, Slot, TalkData};
use crate::domain::text::clean_line;
use crate::domain::time::zone_by_name;
use fields::{parse_clock, parse_date, parse_duration, parse_stamp, shorten};

/// Parses a frab/pentabarf `schedule.xml` into the whole timetable.
pub fn parse(input: &str, options: &ImportOptions) -> Result<ImportedSchedule, ImportError> {
    // quick-xml skips a byte-order mark without counting it in its positions.
    let input = input.trim_start_matches('\u{feff}');
    guards::refuse_entity_declarations(input)?;
    let mut outline = Outline::new(input);
    let root = outline.root()?;
    check_root(&root)?;
    let mut reading = Reading::new(Conference::find(input)?, options);
    while let Some(day_element) = children(&mut outline, &root, "day")? {
        reading.day(&mut outline, &day_element)?;
    }
    outline.finish()?;
    reading.finish(&root)
}

fn check_root(root: &Element<'_>) -> Result<(), ImportError> {
    if root.name != "schedule" {
        return Err(error_in(
            root,
            "the root element should be <schedule> (a frab/pentabarf schedule.xml)",
        ));
    }
    Ok(())
}

/// The next child of `parent` called `name`, stepping over any other; `None` once `parent`
/// ends (at once for an empty element).
fn children<'i>(
    outline: &mut Outline<'i>,
    parent: &Element<'i>,
    name: &str,
) -> Result<Option<Element<'i>>, ImportError> {
    while let Some(child) = outline.child_of(parent)? {
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
    /// The `<conference>` child of the root, wherever it is: a file whose days come first is
    /// read twice, as every day needs the zone it names.
    fn find(input: &str) -> Result<Self, ImportError> {
        let mut outline = Outline::new(input);
        let root = outline.root()?;
        while let Some(child) = outline.child_of(&root)? {
            if child.name == "conference" {
                return Self::read(&mut outline, &child);
            }
            outline.skip(&child)?;
        }
        Ok(Self::default())
    }

    fn read<'i>(outline: &mut Outline<'i>, conference: &Element<'i>) -> Result<Self, ImportError> {
        let [title, zone, day_change] = content::fields(
            outline,
            conference,
            ["title", "time_zone_name", "day_change"],
        )?;
        let zone = zone
            .map(|(node, name): Field<'_>| {
                zone_by_name(&name).ok_or_else(|| {
                    error_in(&node, format!("unknown time zone {:?}", shorten(&name)))
                })
            })
            .transpose()?;
        let day_change = day_change
            .map(|(node, text): Field<'_>| {
                parse_clock(&text)
                    .ok_or_else(|| error_in(&node, "<day_change> should be a time such as 04:00"))
            })
            .transpose()?;
        Ok(Self {
            title: title.and_then(|(_, text)| clean_line(&text)),
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
                error_in(
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
                error_in(
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
        event: &Element<'_>,
        found: EventFields<'_>,
        day: &Day,
        room_name: Option<&str>,
    ) -> Result<TalkData, ImportError> {
        let source_id = event_id(event)
            .ok_or_else(|| error_in(event, "the event has no guid or id attribute"))?;
        let raw_title = found.title.unwrap_or_default();
        let (title, title_cancelled) = fields::split_cancelled(&raw_title);
        let title = clean_line(title).ok_or_else(|| error_in(event, "missing <title>"))?;
        let start = self.event_start(event, found.date.as_deref(), found.start.as_deref(), day)?;
        let status_text = found.status.or(found.state);
        let duration_text = found
            .duration
            .ok_or_else(|| error_in(event, "missing <duration>"))?;
        let duration = parse_duration(&duration_text).ok_or_else(|| {
            error_in(
                event,
                format!(
                    "<duration> \"{}\" should be HH:MM or HH:MM:SS",
                    shorten(&duration_text)
                ),
            )
        })?;
        let end = start
            .checked_add_signed(duration)
            .ok_or_else(|| error_in(event, "the event ends out of range"))?;
        let line_field = |text: Option<Cow<'_, str>>| text.and_then(|t| clean_line(&t));
        let talk_type = line_field(found.talk_type);
        Ok(TalkData {
            source_id: Some(source_id.into()),
            title,
            subtitle: line_field(found.subtitle).map(Into::into),
            abstract_text: found.abstract_text.flatten().map(Into::into),
            description: found.description.flatten().map(Into::into),
            speakers: found.persons.unwrap_or_default(),
            track: line_field(found.track).map(Arc::from),
            level: None,
            kind: fields::kind_for_type(talk_type.as_deref()),
            talk_type: talk_type.map(Arc::from),
            language: line_field(found.language).map(Arc::from),
            room: room_name
                .map(Arc::from)
                .or_else(|| line_field(found.room).map(Arc::from)),
            slot: Some(Slot {
                start,
                end,
                all_day: false,
            }),
            status: fields::status(title_cancelled, status_text.as_deref()),
            url: found.url.and_then(|t| fields::web_url(&t)).map(Into::into),
        })
    }

    /// The true start: `<date>` when given (it carries its offset), else the day's date and
    /// `<start>` in the conference zone.
    fn event_start(
        &self,
        event: &Element<'_>,
        date: Option<&str>,
        start: Option<&str>,
        day: &Day,
    ) -> Result<DateTime<Utc>, ImportError> {
        let no_zone = "has no offset and the schedule names no time zone: add <time_zone_name> \
                       or choose the conference's time zone";
        if let Some(value) = date.filter(|t| !t.trim().is_empty()) {
            let stamp = parse_stamp(value).ok_or_else(|| {
                error_in(
                    event,
                    format!("<date> \"{}\" is not an ISO 8601 date-time", shorten(value)),
                )
            })?;
            return stamp
                .to_utc(self.zone)
                .ok_or_else(|| error_in(event, format!("<date> {no_zone}")));
        }
        let start_text = start.ok_or_else(|| error_in(event, "missing <start>"))?;
        let clock = parse_clock(start_text).ok_or_else(|| {
            error_in(
                event,
                format!(
                    "<start> \"{}\" should be a time such as 09:30",
                    shorten(start_text)
                ),
            )
        })?;
        let date = day.date.ok_or_else(|| {
            error_in(
                event,
                "the event has no <date>, and its <day> has no date attribute",
            )
        })?;
        let zone = self
            .zone
            .ok_or_else(|| error_in(event, format!("the event's <start> {no_zone}")))?;
        fields::start_from_day(date, clock, day.starts_at, zone)
            .ok_or_else(|| error_in(event, "the event's date is out of range"))
    }
}

fn room_name(room: &Element<'_>) -> Option<String> {
    room.attribute("name").and_then(clean_line)
}

/// The event's id as the source gives it: `guid`, else `id`.
fn event_id(event: &Element<'_>) -> Option<String> {
    ["guid", "id"]
        .iter()
        .find_map(|attr| event.attribute(attr).and_then(clean_line))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_outline;
