//! A schedule.json's days read as they come, each talk converted as serde reads it.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

use super::keyed::{first_time, keys, Nullable};
use super::{Reading, TWICE};
use crate::domain::import::pretalx_json::wire::{Talk, Text};
use crate::domain::import::pretalx_json::{DayInfo, Talks};

/// `conference.days`.
pub(super) struct Days<'r, 'a>(pub(super) &'r mut Reading<'a>);

impl<'de> Visitor<'de> for Days<'_, '_> {
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
struct Day<'r, 'a> {
    reading: &'r mut Reading<'a>,
    index: usize,
}

impl<'de> DeserializeSeed<'de> for Day<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Day<'_, '_> {
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
