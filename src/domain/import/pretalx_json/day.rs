//! A schedule.json day's talks as they are read: each goes into the schedule at once, and
//! once the day ends they are put, and their ids claimed, in the order of their rooms' names
//! (as the file's `rooms` object is read into a map) whatever order the file gives them in.
//! Held aside until then instead, a day's converted talks were 5.7 MB of a 100,000-talk file.

use std::collections::HashMap;
use std::sync::Arc;

use super::spot::place;
use super::{DayInfo, Talks};
use crate::domain::import::ImportError;
use crate::domain::model::TalkData;

/// Why a talk was skipped, and the id it was given under.
pub(super) type Skip = (Option<String>, ImportError);

/// The talks of the day being read.
#[derive(Debug, Default)]
pub(super) struct DayTalks {
    /// Where the day's talks begin in the schedule's.
    start: usize,
    held: Vec<Held>,
    /// How many times each room given more than once was given again: a room keeps the
    /// talks of its last giving, as a map read whole keeps a key's last value. Counted, so
    /// that a file giving one room a million times is not read in quadratic time.
    given: HashMap<Arc<str>, u32>,
}

/// A talk of the day: its room's key, its position there (from 0), and where it is in the
/// schedule or why it was skipped.
#[derive(Debug)]
pub(super) struct Held {
    pub(super) room: Arc<str>,
    pub(super) n: usize,
    pub(super) talk: Result<usize, Box<Skip>>,
    /// Which giving of its room it was read in (from 0).
    given: u32,
}

impl Held {
    pub(super) fn new(room: Arc<str>, n: usize, talk: Result<usize, Box<Skip>>) -> Self {
        Self {
            room,
            n,
            talk,
            given: 0,
        }
    }
}

impl DayTalks {
    /// A day begins, the schedule holding `talks` talks.
    pub(super) fn begin(&mut self, talks: usize) {
        self.start = talks;
        self.held.clear();
        self.given.clear();
    }

    /// A talk read.
    pub(super) fn hold(&mut self, mut held: Held) {
        held.given = self.giving(&held.room);
        self.held.push(held);
    }

    /// A room met again this day: the talks read for it so far are left out.
    pub(super) fn replace_room(&mut self, room: &str) {
        match self.given.get_mut(room) {
            Some(given) => *given = given.saturating_add(1),
            None => {
                self.given.insert(Arc::from(room), 1);
            }
        }
    }

    /// The giving of `room` being read.
    fn giving(&self, room: &str) -> u32 {
        match self.given.is_empty() {
            true => 0,
            false => self.given.get(room).copied().unwrap_or(0),
        }
    }

    /// Ends the day: its talks in `talks` are put in the order of their rooms' names and
    /// their positions, and returned in that order, each talk with its new index. The talks
    /// of a room's earlier givings are cut from `talks` and not returned.
    pub(super) fn end(&mut self, talks: &mut Vec<TalkData>) -> Vec<Held> {
        let mut held = std::mem::take(&mut self.held);
        let mut replaced = Vec::new();
        held.retain(|h| {
            let last = h.given == self.giving(&h.room);
            if let (false, Ok(index)) = (last, &h.talk) {
                replaced.push(*index);
            }
            last
        });
        // A room's last giving lists each position once: no two talks sort alike.
        held.sort_unstable_by(|a, b| a.room.cmp(&b.room).then(a.n.cmp(&b.n)));
        let kept = held.iter().filter(|h| h.talk.is_ok()).count();
        // Where each of the day's talks comes from: the kept ones in order, then those
        // replaced, which are cut off the end.
        let mut from: Vec<usize> = held
            .iter()
            .filter_map(|h| h.talk.as_ref().ok())
            .chain(&replaced)
            .map(|index| index.saturating_sub(self.start))
            .collect();
        if let Some(day) = talks.get_mut(self.start..) {
            debug_assert_eq!(from.len(), day.len(), "every talk of the day is held");
            permute(day, &mut from);
        }
        talks.truncate(self.start + kept);
        let talks = held.iter_mut().filter_map(|h| h.talk.as_mut().ok());
        for (index, talk) in (self.start..).zip(talks) {
            *talk = index;
        }
        self.given.clear();
        held
    }
}

impl Talks {
    /// The room `room_key` is given again on the day being read: its talks read so far are
    /// replaced by those read next.
    pub(super) fn replace_room(&mut self, room_key: &str) {
        self.day.replace_room(room_key);
    }

    /// Ends the day being read: its talks are claimed, or noted as skipped, in the order of
    /// their rooms' names.
    pub(super) fn end_day(&mut self, day: &DayInfo) {
        for Held { room, n, talk, .. } in self.day.end(&mut self.schedule.talks) {
            self.skipped.events += 1;
            match talk {
                Ok(index) => self.claim(day, &room, n, index),
                Err(skip) => {
                    let (id, error): Skip = *skip;
                    self.skipped.note(id, error);
                }
            }
        }
    }

    /// Claims the id of the talk at `index`, the `n`th of `room` on `day`.
    fn claim(&mut self, day: &DayInfo, room: &Arc<str>, n: usize, index: usize) {
        let spot = self.places.spot(&day.position, room, n, index);
        let Some(talk) = self.schedule.talks.get_mut(index) else {
            debug_assert!(false, "talk {index} was held but is not in the schedule");
            return;
        };
        let Some(repeat) = self.ids.claim(talk, spot) else {
            return;
        };
        // The first holder was claimed before, at its final index: a day's talks are put in
        // order before any is claimed, and later days only add after them.
        let title = |at: usize| self.schedule.talks.get(at).map_or("", |t| &t.title);
        let first = usize::try_from(repeat.first.talk).unwrap_or(usize::MAX);
        let warning =
            self.places
                .repeat_warning(&repeat, &place(day, room, n), title(index), title(first));
        self.schedule.warnings.push(warning);
    }
}

/// Puts at each position `i` of `items` the item that was at `from[i]`, in place; `from` is a
/// permutation of `0..items.len()` and is used up.
fn permute<T>(items: &mut [T], from: &mut [usize]) {
    const DONE: usize = usize::MAX;
    for start in 0..from.len() {
        let mut at = start;
        // Follows the cycle through `start`: each swap settles one position.
        while from[at] != DONE {
            let source = from[at];
            from[at] = DONE;
            if source == start {
                break;
            }
            items.swap(at, source);
            at = source;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn permute_puts_each_item_where_it_is_asked_for(
            order in (0usize..40).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        ) {
            let items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            let mut permuted = items.clone();
            let mut from = order.clone();
            permute(&mut permuted, &mut from);
            let expected: Vec<usize> = order.iter().map(|&i| items[i]).collect();
            prop_assert_eq!(permuted, expected);
        }
    }
}
