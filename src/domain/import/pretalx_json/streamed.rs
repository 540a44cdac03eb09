//! A schedule.json read as its bytes come (a file through a buffer), so that the file's text
//! (277 MB of a 100,000-talk export) is never held whole. Where the conference states its
//! zone and rooms before its days, as pretalx writes it, each talk is converted as serde reads
//! it and no tree of the days is held either; where it does not (a writer that sorts its
//! keys puts `days` first), the days are read whole, as [`super::parse`] reads them, and
//! converted once the conference is read. Either gives what the whole text gives. A day that
//! states its date or bounds after its rooms, and any error, is [`ReadWhole`]: the caller
//! reads the whole file, whose messages name lines and talks as they always have.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

use super::wire::{self, RoomInfo, Talk, Text};
use super::{file_zone, name, DayInfo, Talks};
use crate::domain::import::pieces::ReadWhole;
use crate::domain::import::ImportOptions;
use crate::domain::model::ImportedSchedule;
use keyed::{first_time, keys, Nullable};

mod keyed;

/// Reads a schedule.json from `reader` (without a byte-order mark). The caller checks that
/// every byte is UTF-8: serde_json checks only the strings it reads, not those it skips, and
/// the whole reading reads a file that is not UTF-8 as Windows-1252.
pub fn read(reader: impl Read, options: &ImportOptions) -> Result<ImportedSchedule, ReadWhole> {
    let mut reading = Reading {
        talks: Talks::new(options),
        title: None,
        acronym: None,
        conference: false,
        zone: false,
        rooms: false,
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
    let name = name(reading.title.as_deref(), reading.acronym.as_deref());
    reading
        .talks
        .finish(name)
        .map_err(|_| ReadWhole("a schedule that cannot be imported"))
}

/// What is known so far.
struct Reading {
    talks: Talks,
    title: Option<String>,
    acronym: Option<String>,
    /// Whether `schedule.conference` was an object.
    conference: bool,
    /// Whether the conference's zone and rooms were read: its talks are read with them.
    zone: bool,
    rooms: bool,
    /// Why the reading stopped, when it was not the JSON itself.
    stop: Option<&'static str>,
}

impl Reading {
    fn stop<E: serde::de::Error>(&mut self, why: &'static str) -> E {
        self.stop.get_or_insert(why);
        E::custom(why)
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
struct Path<'r> {
    path: &'static [&'static str],
    reading: &'r mut Reading,
}

const CONFERENCE: &[&str] = &["schedule", "conference"];

impl<'de> DeserializeSeed<'de> for Path<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Path<'_> {
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
struct Conference<'r>(&'r mut Reading);

impl<'de> Visitor<'de> for Conference<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a conference object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        const NAMES: [&str; 5] = ["acronym", "title", "time_zone_name", "rooms", "days"];
        let reading = self.0;
        reading.conference = true;
        let mut seen = [false; NAMES.len()];
        // Days met before the zone and rooms, read whole.
        let mut days: Vec<wire::Day<'de>> = Vec::new();
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
                    reading.talks.zone(zone);
                    reading.zone = true;
                }
                "rooms" => {
                    let rooms: Option<Vec<RoomInfo<'de>>> = map.next_value()?;
                    reading.talks.rooms(&rooms.unwrap_or_default());
                    reading.rooms = true;
                }
                "days" if reading.zone && reading.rooms => {
                    map.next_value_seed(Nullable(Days(&mut *reading)))?;
                }
                "days" => {
                    let read: Option<Vec<wire::Day<'de>>> = map.next_value()?;
                    days = read.unwrap_or_default();
                }
                _ => map.next_value::<IgnoredAny>().map(drop)?,
            }
            Ok(())
        })?;
        reading
            .talks
            .days(days)
            .map_err(|_| reading.stop("a day that cannot be read"))
    }
}

/// `conference.days`.
struct Days<'r>(&'r mut Reading);

impl<'de> Visitor<'de> for Days<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let reading = self.0;
        let mut index = 0;
        while let Some(()) = seq.next_element_seed(Day {
            reading: &mut *reading,
            index,
        })? {
            index += 1;
        }
        Ok(())
    }
}

/// The `index`th day (from 0): its talks are converted as they are read, and claimed in the
/// order of their rooms' names once the day ends.
struct Day<'r> {
    reading: &'r mut Reading,
    index: usize,
}

impl<'de> DeserializeSeed<'de> for Day<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Day<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a day object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        const NAMES: [&str; 4] = ["date", "day_start", "day_end", "rooms"];
        let Day { reading, index } = self;
        let mut seen = [false; NAMES.len()];
        let mut fields: [Option<String>; 3] = Default::default();
        let mut read: Option<DayInfo> = None;
        keys(map, |key, map| {
            if !first_time(&mut seen, &NAMES, key) {
                return Err(reading.stop(TWICE));
            }
            let field = NAMES[..3].iter().position(|name| *name == key);
            match (key, field) {
                (_, Some(_)) if read.is_some() => {
                    Err(reading.stop("a day's date or bounds after its rooms"))
                }
                (_, Some(at)) => {
                    let text: Option<Text<'de>> = map.next_value()?;
                    fields[at] = text.map(|text| text.to_string());
                    Ok(())
                }
                ("rooms", None) => {
                    let day = reading.day(index, &fields)?;
                    map.next_value_seed(Nullable(Rooms {
                        talks: &mut reading.talks,
                        day: &day,
                    }))?;
                    read = Some(day);
                    Ok(())
                }
                _ => map.next_value::<IgnoredAny>().map(drop),
            }
        })?;
        let day = match read {
            Some(day) => day,
            None => reading.day(index, &fields)?,
        };
        reading.talks.end_day(&day);
        Ok(())
    }
}

/// A day's `rooms`: each room's name and its talks. A name met twice keeps its last talks,
/// as a map read whole does.
struct Rooms<'r> {
    talks: &'r mut Talks,
    day: &'r DayInfo,
}

impl<'de> Visitor<'de> for Rooms<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(room_key) = map.next_key::<String>()? {
            if seen.contains(&room_key) {
                self.talks.replace_room(&room_key);
            }
            map.next_value_seed(Nullable(RoomTalks {
                talks: &mut *self.talks,
                day: self.day,
                room_key: &room_key,
            }))?;
            seen.insert(room_key);
        }
        Ok(())
    }
}

/// One room's talks, each converted as it is read.
struct RoomTalks<'r> {
    talks: &'r mut Talks,
    day: &'r DayInfo,
    room_key: &'r str,
}

impl<'de> Visitor<'de> for RoomTalks<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0;
        while let Some(mut talk) = seq.next_element::<Talk<'de>>()? {
            self.talks.read(&mut talk, self.day, self.room_key, n);
            n += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "tests_streamed.rs"]
mod tests;
