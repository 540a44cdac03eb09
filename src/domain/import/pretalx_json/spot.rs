//! Where a talk is in a schedule.json (`day 2, room "Hall", talk 3`), for the messages that
//! name it.

use std::collections::HashMap;
use std::sync::Arc;

use super::DayInfo;
use crate::domain::import::frab_xml::fields::shorten;
use crate::domain::import::identity::Repeat;

/// Where a talk is, kept with its id in case a repeat must name the talk: the place's text
/// kept for every talk was 4 MB more of a 100,000-talk schedule.json; a place of shared texts
/// and word-sized numbers took 48 bytes a talk (4.8 MB), this takes 16 (1.6 MB).
#[derive(Debug, Clone, Copy)]
pub(super) struct Spot {
    /// The day's position, and the room's key, as [`Places`] numbers them.
    pub(super) day: u32,
    pub(super) room: u32,
    /// Its position in its room's list (from 0).
    pub(super) n: u32,
    /// Its position in the schedule's talks, which hold its title.
    pub(super) talk: u32,
}

/// The days' positions and the rooms' keys of [`Spot`]s, each numbered once.
#[derive(Debug, Default)]
pub(super) struct Places {
    texts: Vec<Arc<str>>,
    numbers: HashMap<Arc<str>, u32>,
}

impl Places {
    /// Where the `n`th talk of `room` on `day` is, being the schedule's `talk`th. A file
    /// bounded by the import's size limit numbers far fewer than 2³² of anything; a count past
    /// that would only make a repeat's message name the wrong place.
    pub(super) fn spot(&mut self, day: &Arc<str>, room: &Arc<str>, n: usize, talk: usize) -> Spot {
        let small = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Spot {
            day: self.number(day),
            room: self.number(room),
            n: small(n),
            talk: small(talk),
        }
    }

    fn number(&mut self, text: &Arc<str>) -> u32 {
        if let Some(&number) = self.numbers.get(text) {
            return number;
        }
        let number = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(Arc::clone(text));
        self.numbers.insert(Arc::clone(text), number);
        number
    }

    fn text(&self, number: u32) -> &str {
        usize::try_from(number)
            .ok()
            .and_then(|at| self.texts.get(at))
            .map_or("", |text| text)
    }

    /// The warning about the talk at `here` titled `title`, which repeats the id of the talk
    /// `repeat.first` titled `first_title`.
    pub(super) fn repeat_warning(
        &self,
        repeat: &Repeat<Spot>,
        here: &str,
        title: &str,
        first_title: &str,
    ) -> String {
        let first = &repeat.first;
        repeat.warning(
            format_args!("{here} ({:?})", shorten(title)),
            format_args!(
                "{} ({:?})",
                place_in(
                    self.text(first.day),
                    self.text(first.room),
                    first.n as usize
                ),
                shorten(first_title)
            ),
        )
    }
}

/// Where a talk is in the file, for messages about one without a title or id.
pub(super) fn place(day: &DayInfo, room_key: &str, n: usize) -> String {
    place_in(&day.position, room_key, n)
}

fn place_in(day: &str, room_key: &str, n: usize) -> String {
    format!("{day}, room {:?}, talk {}", shorten(room_key), n + 1)
}
