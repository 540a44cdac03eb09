//! pretalx / frab `schedule.json`: `schedule.conference` with `days[]`, each day's `rooms`
//! object mapping a room name to its talks. A talk's `date` carries its true start with an
//! offset; older exports only give the day's `date` and a wall-clock `start`.
//!
//! The JSON is read into typed structs that tolerate unknown fields, absent fields and
//! `null`s, so real exports parse and a malformed one fails with serde's line and column.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::frab_xml::fields::{
    self, parse_clock, parse_date, parse_duration, parse_stamp, shorten, Stamp,
};
use crate::domain::import::identity::Ids;
use crate::domain::import::skipped::Skipped;
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{
    ImportedSchedule, ProgrammeDay, ScheduleScope, SharedTexts, Slot, TalkData,
};
use crate::domain::text::clean_line;
use crate::domain::time::zone_by_name;
use day::{DayTalks, Held};
use rooms::room_display_names;
use spot::{place, Places, Spot};
use wire::{Day, Root, Scalar, Talk, Text};

mod day;
mod rooms;
mod spot;
mod streamed;
mod wire;

pub(in crate::domain::import) use streamed::{read, Ahead, Pass};

/// Parses a pretalx/frab `schedule.json` into the whole timetable.
pub fn parse(input: &str, options: &ImportOptions) -> Result<ImportedSchedule, ImportError> {
    // serde would read a top-level array as a struct's fields in order; say plainly instead.
    if input.trim_start().starts_with('[') {
        return Err(ImportError::at_line(
            1,
            "the JSON is a list; a pretalx/frab schedule.json is an object holding \
             schedule.conference",
        ));
    }
    let root: Root = serde_json::from_str(input).map_err(json_error)?;
    let conference = root.schedule.and_then(|s| s.conference).ok_or_else(|| {
        ImportError::msg(
            "the JSON has no schedule.conference object: is this a pretalx or frab schedule.json?",
        )
    })?;
    let file_zone = file_zone(conference.time_zone_name.as_deref())?;

    let mut schedule = Talks::new(options);
    schedule.zone(file_zone);
    schedule.room_names(room_display_names(&conference.rooms));
    schedule.days(conference.days)?;
    schedule.finish(name(
        conference.title.as_deref(),
        conference.acronym.as_deref(),
    ))
}

/// The conference's name: its title, else its acronym.
fn name(title: Option<&str>, acronym: Option<&str>) -> Option<String> {
    [title, acronym].into_iter().flatten().find_map(clean_line)
}

/// The talks of a schedule.json as its days are read: each talk converted, or noted as
/// skipped, then claimed in the order of its day's rooms by name (as the file's rooms
/// object is read into a map) whatever order it was read in.
struct Talks {
    schedule: ImportedSchedule,
    context: Context,
    ids: Ids<Spot>,
    skipped: Skipped,
    shared: SharedTexts,
    day: DayTalks,
    places: Places,
}

impl Talks {
    fn new(options: &ImportOptions) -> Self {
        Self {
            schedule: ImportedSchedule::new(ScheduleScope::Timetable),
            context: Context {
                zone: options.time_zone.or(options.stored_time_zone),
                rooms: HashMap::new(),
            },
            ids: Ids::new(),
            skipped: Skipped::default(),
            shared: SharedTexts::default(),
            day: DayTalks::default(),
            places: Places::default(),
        }
    }

    /// The zone `schedule.conference` names (given once): it wins over the caller's, which
    /// the context holds until then.
    fn zone(&mut self, zone: Option<Tz>) {
        self.schedule.time_zone = zone;
        self.context.zone = zone.or(self.context.zone);
    }

    /// The rooms' names as attendees know them ([`room_display_names`]).
    fn room_names(&mut self, names: HashMap<String, Arc<str>>) {
        self.context.rooms = names;
    }

    /// Reads `days`, the conference's zone and rooms being known.
    fn days(&mut self, days: Vec<Day>) -> Result<(), ImportError> {
        for (index, day) in days.into_iter().enumerate() {
            let fields = [&day.date, &day.day_start, &day.day_end].map(|v| v.as_deref());
            let day_info = self.day(index, fields)?;
            for (room_key, talks) in day.rooms {
                for (n, mut talk) in talks.into_iter().flatten().enumerate() {
                    self.read(&mut talk, &day_info, &room_key, n);
                }
            }
            self.end_day(&day_info);
        }
        Ok(())
    }

    /// The `index`th day (from 0), from its `date`, `day_start` and `day_end`: its talks
    /// are read next.
    fn day(&mut self, index: usize, fields: [Option<&str>; 3]) -> Result<DayInfo, ImportError> {
        let info = self.context.day(format!("day {}", index + 1), fields)?;
        self.schedule.days.extend(info.programme_day);
        self.day.begin(self.schedule.talks.len());
        Ok(info)
    }

    /// Reads the `n`th talk (from 0) of the room `room_key` on the day being read; its
    /// converted free text and speakers are moved out of `talk`.
    fn read(&mut self, talk: &mut Talk, day: &DayInfo, room_key: &str, n: usize) {
        let room = self.shared.share_str(room_key);
        let place = || place(day, room_key, n);
        let talk = match self.context.talk(talk, day, room_key, place) {
            Ok(mut data) => {
                self.shared.share_talk(&mut data);
                self.schedule.talks.push(data);
                Ok(self.schedule.talks.len() - 1)
            }
            Err(error) => {
                let id = [&talk.guid, &talk.code, &talk.id]
                    .into_iter()
                    .find_map(|v| v.as_ref().and_then(Scalar::text));
                Err(Box::new((id, error)))
            }
        };
        self.day.hold(Held::new(room, n, talk));
    }

    /// The schedule of the conference called `name`, once every day is read.
    fn finish(self, name: Option<String>) -> Result<ImportedSchedule, ImportError> {
        let Talks {
            mut schedule,
            skipped,
            ids,
            shared,
            ..
        } = self;
        // Freed before the sort below takes its keys, not with the rest after it.
        drop((ids, shared));
        schedule.name = name;
        skipped.conclude(&mut schedule)?;
        if schedule.talks.is_empty() {
            // Applied as the full timetable it would cancel every stored talk: a broken or
            // not-yet-filled export must never do that (the iCalendar importer refuses too).
            return Err(ImportError::msg(
                "the schedule.json contains no talk: refusing to import an empty timetable",
            ));
        }
        // Rooms come out of a JSON object in name order; time order reads better everywhere.
        // Grown by doubling, the list has room for up to twice its talks (10 MB of 100,000).
        schedule.talks.shrink_to_fit();
        // Keyed once per talk and stable: a key cloned per comparison cloned two room names
        // each time, and a stable sort of the talks themselves takes room for half of them
        // (16 MB of 100,000) where this takes a key and an index per talk.
        schedule
            .talks
            .sort_by_cached_key(|talk| (talk.slot.map(|s| s.start), talk.room.clone()));
        Ok(schedule)
    }
}

/// A talk named as the organiser would search for it: by title and id, else by where it is.
/// Made only for a message: a talk read without one costs no text.
fn who(title: Option<&str>, id: Option<&str>, place: &dyn Fn() -> String) -> String {
    match (title, id) {
        (Some(t), Some(id)) => format!("talk {:?} ({})", shorten(t), shorten(id)),
        (Some(t), None) => format!("{} ({:?})", place(), shorten(t)),
        (None, Some(id)) => format!("talk {}", shorten(id)),
        (None, None) => place(),
    }
}

/// The zone `time_zone_name` names, if it names one.
fn file_zone(name: Option<&str>) -> Result<Option<Tz>, ImportError> {
    match name.map(str::trim) {
        Some(name) if !name.is_empty() => zone_by_name(name).map(Some).ok_or_else(|| {
            ImportError::msg(format!(
                "schedule.conference.time_zone_name: unknown time zone {:?}",
                shorten(name)
            ))
        }),
        _ => Ok(None),
    }
}

/// serde_json's message with its position moved to the front: `line 3: column 7: expected
/// `,` or `}``.
fn json_error(e: serde_json::Error) -> ImportError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    if e.line() == 0 {
        ImportError::msg(format!("invalid JSON: {message}"))
    } else {
        ImportError::at_line(e.line(), format!("column {}: {message}", e.column()))
    }
}

struct Context {
    zone: Option<Tz>,
    rooms: HashMap<String, Arc<str>>,
}

/// A day as its talks need it.
struct DayInfo {
    /// `day 2`: where the day is in the file.
    position: Arc<str>,
    date: Option<NaiveDate>,
    /// The local time of day the programme day starts: a talk earlier than it is after midnight.
    starts_at: Option<NaiveTime>,
    programme_day: Option<ProgrammeDay>,
}

impl Context {
    /// A day from its `date`, `day_start` and `day_end`.
    fn day(&self, position: String, fields: [Option<&str>; 3]) -> Result<DayInfo, ImportError> {
        let [date, day_start, day_end] = fields;
        let stamp = |field: &str, value: Option<&str>| -> Result<Option<Stamp>, ImportError> {
            match value {
                Some(v) => parse_stamp(v).map(Some).ok_or_else(|| {
                    ImportError::msg(format!(
                        "{position}: {field} {:?} is not an ISO 8601 date-time",
                        shorten(v)
                    ))
                }),
                None => Ok(None),
            }
        };
        let start = stamp("day_start", day_start)?;
        let end = stamp("day_end", day_end)?;
        let date = match date {
            Some(v) => Some(parse_date(v).ok_or_else(|| {
                ImportError::msg(format!(
                    "{position}: date {:?} is not a date such as 2024-02-03",
                    shorten(v)
                ))
            })?),
            None => start.map(Stamp::local_date),
        };
        let starts_at = start.map(Stamp::local_time);
        // Missing bounds: the day runs from its start time (else midnight) to the same time on
        // the next calendar date, in the conference zone.
        let programme_day = fields::programme_day(date, start, end, starts_at, self.zone);
        Ok(DayInfo {
            position: position.into(),
            date,
            starts_at,
            programme_day,
        })
    }

    /// The talk's converted free text and speakers are moved out of `talk`, not copied.
    /// `place` says where it is, and is asked only for a message.
    fn talk(
        &self,
        talk: &mut Talk,
        day: &DayInfo,
        room_key: &str,
        place: impl Fn() -> String,
    ) -> Result<TalkData, ImportError> {
        let raw_title = talk.title.as_deref().unwrap_or_default();
        let (title, title_cancelled) = fields::split_cancelled(raw_title);
        let title = clean_line(title);
        let source_id = [&talk.guid, &talk.code, &talk.id]
            .into_iter()
            .find_map(|v| v.as_ref().and_then(Scalar::text));
        let failed = |title: Option<&str>, id: Option<&str>, message: &str| {
            ImportError::msg(format!("{}: {message}", who(title, id, &place)))
        };
        let Some(source_id) = source_id else {
            return Err(failed(title.as_deref(), None, "has no guid, code or id"));
        };
        let Some(title) = title else {
            return Err(failed(None, Some(&source_id), "has no title"));
        };
        let fail = |message: String| failed(Some(&title), Some(&source_id), &message);

        let start = self.talk_start(talk, day).map_err(fail)?;
        let duration_text = talk
            .duration
            .as_deref()
            .ok_or_else(|| fail("has no duration".into()))?;
        let duration = parse_duration(duration_text).ok_or_else(|| {
            fail(format!(
                "duration {:?} should be HH:MM or HH:MM:SS",
                shorten(duration_text)
            ))
        })?;
        let end = start
            .checked_add_signed(duration)
            .ok_or_else(|| fail("ends out of range".into()))?;

        let line = |v: &Option<Text>| v.as_deref().and_then(clean_line);
        let room_name = talk.room.as_deref().unwrap_or(room_key);
        let talk_type = line(&talk.talk_type);
        let status_text = talk.status.as_deref().or(talk.state.as_deref());
        Ok(TalkData {
            source_id: Some(source_id.into()),
            title,
            subtitle: line(&talk.subtitle).map(Into::into),
            abstract_text: talk.abstract_text.take(),
            description: talk.description.take(),
            speakers: std::mem::take(&mut talk.persons),
            track: line(&talk.track).map(Arc::from),
            level: None,
            kind: fields::kind_for_type(talk_type.as_deref()),
            talk_type: talk_type.map(Arc::from),
            language: line(&talk.language).map(Arc::from),
            room: self
                .rooms
                .get(room_name.trim())
                .cloned()
                .or_else(|| clean_line(room_name).map(Arc::from)),
            slot: Some(Slot {
                start,
                end,
                all_day: false,
            }),
            status: fields::status(title_cancelled, status_text),
            url: talk
                .url
                .as_deref()
                .and_then(fields::web_url)
                .map(Into::into),
        })
    }

    /// The true start: `date` when given (it carries its offset), else the day's date and
    /// `start` in the conference zone.
    fn talk_start(&self, talk: &Talk, day: &DayInfo) -> Result<DateTime<Utc>, String> {
        let no_zone = "has no offset and the schedule names no time zone: add \
                       time_zone_name or choose the conference's time zone";
        if let Some(value) = talk.date.as_deref().filter(|v| !v.trim().is_empty()) {
            let stamp = parse_stamp(value)
                .ok_or_else(|| format!("date {:?} is not an ISO 8601 date-time", shorten(value)))?;
            return stamp
                .to_utc(self.zone)
                .ok_or_else(|| format!("date {no_zone}"));
        }
        let start_text = talk.start.as_deref().ok_or("has neither date nor start")?;
        let clock = parse_clock(start_text).ok_or_else(|| {
            format!(
                "start {:?} should be a time such as 09:30",
                shorten(start_text)
            )
        })?;
        let date = day.date.ok_or("has no date, and neither has its day")?;
        let zone = self.zone.ok_or_else(|| format!("start {no_zone}"))?;
        fields::start_from_day(date, clock, day.starts_at, zone)
            .ok_or_else(|| "the date is out of range".to_owned())
    }
}

#[cfg(test)]
mod tests;
