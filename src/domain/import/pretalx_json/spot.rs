//! Where a talk is in a schedule.json (`day 2, room "Hall", talk 3`), for the messages that
//! name it.

use std::sync::Arc;

use super::DayInfo;
use crate::domain::import::frab_xml::fields::shorten;
use crate::domain::import::identity::Repeat;

/// Where a talk is, kept with its id in case a repeat must name the talk: the place's text
/// kept for every talk was 4 MB of a 100,000-talk schedule.json.
#[derive(Debug, Clone)]
pub(super) struct Spot {
    /// The day's position, and the room's key, as shared by every talk there.
    pub(super) day: Arc<str>,
    pub(super) room: Arc<str>,
    /// Its position in its room's list (from 0).
    pub(super) n: usize,
    /// Its position in the schedule's talks, which hold its title.
    pub(super) talk: usize,
}

/// The warning about the talk at `here` titled `title`, which repeats the id of the talk
/// `repeat.first` titled `first_title`.
pub(super) fn repeat_warning(
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
            place_in(&first.day, &first.room, first.n),
            shorten(first_title)
        ),
    )
}

/// Where a talk is in the file, for messages about one without a title or id.
pub(super) fn place(day: &DayInfo, room_key: &str, n: usize) -> String {
    place_in(&day.position, room_key, n)
}

fn place_in(day: &str, room_key: &str, n: usize) -> String {
    format!("{day}, room {:?}, talk {}", shorten(room_key), n + 1)
}
