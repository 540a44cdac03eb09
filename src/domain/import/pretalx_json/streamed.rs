//! A schedule.json read as its bytes come (a file through a buffer), so that the file's text
//! (277 MB of a 100,000-talk export) is never held whole. Each talk is converted as serde
//! reads it, with the conference's zone and rooms, and no tree of the days is held. Where the
//! conference states its zone and rooms before its days, as pretalx writes it, one reading
//! does. Where it does not (a writer that sorts its keys puts `days` first; an export that
//! names no zone or lists no rooms), the first reading skips the days and gives
//! [`Pass::Again`] with the zone and rooms it found; the caller reads the file again from its
//! start with these [`Ahead`], and that reading converts the days as they come and checks
//! that the conference still states the same.
//! Either gives what the whole text gives. A day that states its date or bounds after its
//! rooms, and any error, is [`ReadWhole`]: the caller reads the whole file, whose messages
//! name lines and talks as they always have.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::Arc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserializer;

use chrono_tz::Tz;

use super::rooms::room_display_names;
use super::wire::{RoomInfo, Text};
use super::{file_zone, name, DayInfo, Talks};
use crate::domain::import::pieces::ReadWhole;
use crate::domain::import::ImportOptions;
use crate::domain::model::ImportedSchedule;
use days::Days;
use keyed::{first_time, keys, Nullable};

mod days;
mod keyed;

/// What the conference states that its talks are read with: its zone (`None` when it names
/// none) and its rooms' names as attendees know them.
#[derive(Debug, PartialEq)]
pub struct Ahead {
    zone: Option<Tz>,
    rooms: HashMap<String, Arc<str>>,
}

/// What a reading of a schedule.json gave.
#[derive(Debug, PartialEq)]
pub enum Pass {
    /// The days were read: the schedule.
    Schedule(ImportedSchedule),
    /// The days came before the conference's zone or rooms, and were skipped: read the file
    /// again from its start with these.
    Again(Ahead),
}

/// Reads a schedule.json from `reader` (without a byte-order mark), knowing what `ahead`
/// holds from a reading before (whose days were skipped; the conference must state the same
/// again). The caller checks that every byte is UTF-8: serde_json checks only the strings it
/// reads, not those it skips, and the whole reading reads a file that is not UTF-8 as
/// Windows-1252.
pub fn read(
    reader: impl Read,
    options: &ImportOptions,
    ahead: Option<&Ahead>,
) -> Result<Pass, ReadWhole> {
    let mut talks = Talks::new(options);
    if let Some(ahead) = ahead {
        talks.zone(ahead.zone);
        talks.room_names(ahead.rooms.clone());
    }
    let mut reading = Reading {
        talks,
        ahead,
        title: None,
        acronym: None,
        conference: false,
        zone: None,
        rooms: None,
        days_skipped: false,
        stop: None,
    };
    let mut json = serde_json::Deserializer::from_reader(reader);
    let read = Path {
        path: CONFERENCE,
        reading: &mut reading,
    }
    .deserialize(&mut json)
    .and_then(|()| json.end());
    if read.is_err() {
        return Err(ReadWhole(
            reading.stop.unwrap_or("JSON this reading cannot read"),
        ));
    }
    if !reading.conference {
        return Err(ReadWhole("no schedule.conference"));
    }
    let found = Ahead {
        zone: reading.zone.flatten(),
        rooms: reading.rooms.unwrap_or_default(),
    };
    if reading.days_skipped {
        return Ok(Pass::Again(found));
    }
    if ahead.is_some_and(|ahead| *ahead != found) {
        return Err(ReadWhole(
            "the conference's zone or rooms changed between two readings",
        ));
    }
    let name = name(reading.title.as_deref(), reading.acronym.as_deref());
    reading
        .talks
        .finish(name)
        .map(Pass::Schedule)
        .map_err(|_| ReadWhole("a schedule that cannot be imported"))
}

/// What is known so far.
struct Reading<'a> {
    talks: Talks,
    /// What a reading before found; its talks are read with it.
    ahead: Option<&'a Ahead>,
    title: Option<String>,
    acronym: Option<String>,
    /// Whether `schedule.conference` was an object.
    conference: bool,
    /// The conference's zone once read (`Some(None)`: it names none), and its rooms.
    zone: Option<Option<Tz>>,
    rooms: Option<HashMap<String, Arc<str>>>,
    /// Whether the days came before the zone and rooms (without [`Self::ahead`]) and were
    /// skipped.
    days_skipped: bool,
    /// Why the reading stopped, when it was not the JSON itself.
    stop: Option<&'static str>,
}

impl Reading<'_> {
    fn stop<E: serde::de::Error>(&mut self, why: &'static str) -> E {
        self.stop.get_or_insert(why);
        E::custom(why)
    }

    /// Whether the talks can be read now: with the zone and rooms ahead, else read.
    fn ready(&self) -> bool {
        self.ahead.is_some() || (self.zone.is_some() && self.rooms.is_some())
    }

    /// The `index`th day, from its `date`, `day_start` and `day_end`.
    fn day<E: serde::de::Error>(
        &mut self,
        index: usize,
        fields: &[Option<String>; 3],
    ) -> Result<DayInfo, E> {
        self.talks
            .day(index, fields.each_ref().map(Option::as_deref))
            .map_err(|_| self.stop("a day that cannot be read"))
    }
}

/// A key met twice: serde's derived readers refuse the file, so only the whole reading can
/// give its message.
const TWICE: &str = "a key given twice";

/// The objects on the way to the conference, from the top: of each, the key `path` names
/// next is read and every other is skipped.
struct Path<'r, 'a> {
    path: &'static [&'static str],
    reading: &'r mut Reading<'a>,
}

const CONFERENCE: &[&str] = &["schedule", "conference"];

impl<'de> DeserializeSeed<'de> for Path<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Path<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object holding {}", self.path.join("."))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let Path { path, reading } = self;
        let Some((&wanted, rest)) = path.split_first() else {
            return Err(reading.stop("an empty path"));
        };
        let mut seen = [false];
        keys(map, |key, map| {
            if !first_time(&mut seen, &[wanted], key) {
                return Err(reading.stop(TWICE));
            }
            if key != wanted {
                return map.next_value::<IgnoredAny>().map(drop);
            }
            let reading = &mut *reading;
            match rest {
                [] => map.next_value_seed(Nullable(Conference(reading))),
                _ => map.next_value_seed(Nullable(Path {
                    path: rest,
                    reading,
                })),
            }
            .map(drop)
        })
    }
}

/// `schedule.conference`.
struct Conference<'r, 'a>(&'r mut Reading<'a>);

impl<'de> Visitor<'de> for Conference<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a conference object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        const NAMES: [&str; 5] = ["acronym", "title", "time_zone_name", "rooms", "days"];
        let reading = self.0;
        reading.conference = true;
        let mut seen = [false; NAMES.len()];
        keys(map, |key, map| {
            if !first_time(&mut seen, &NAMES, key) {
                return Err(reading.stop(TWICE));
            }
            let text = |map: &mut A| {
                let text: Option<Text<'de>> = map.next_value()?;
                Ok(text.map(|text| text.to_string()))
            };
            match key {
                "acronym" => reading.acronym = text(map)?,
                "title" => reading.title = text(map)?,
                "time_zone_name" => {
                    let zone = file_zone(text(map)?.as_deref())
                        .map_err(|_| reading.stop("an unknown time zone"))?;
                    if reading.ahead.is_none() {
                        reading.talks.zone(zone);
                    }
                    reading.zone = Some(zone);
                }
                "rooms" => {
                    let rooms: Option<Vec<RoomInfo<'de>>> = map.next_value()?;
                    let names = room_display_names(&rooms.unwrap_or_default());
                    if reading.ahead.is_none() {
                        reading.talks.room_names(names.clone());
                    }
                    reading.rooms = Some(names);
                }
                "days" if reading.ready() => {
                    map.next_value_seed(Nullable(Days(&mut *reading)))?;
                }
                // Not held as a tree (290 MB of a 100,000-talk file's days): skipped, and
                // converted by a second reading, once the zone and rooms are known.
                "days" => {
                    map.next_value::<IgnoredAny>()?;
                    reading.days_skipped = true;
                }
                _ => map.next_value::<IgnoredAny>().map(drop)?,
            }
            Ok(())
        })
    }
}

#[cfg(test)]
#[path = "tests_streamed.rs"]
mod tests;
