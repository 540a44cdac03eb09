//! Room-door screens (`/c/<slug>/screen`): what the TV outside a room shows at an instant.
//! Pure: the programme, the room and `at` in, the screen's contents out; the web adapter
//! renders them as HTML and pushes them again whenever they change.
//!
//! - **Now** is the talk on in the room (the latest started, should two overlap), **Next**
//!   the first to start after `at`. Breaks count (a door saying "Lunch" is useful); all-day
//!   entries do not.
//! - A cancelled talk stays on the screen, marked cancelled: the people at the door are the
//!   ones who need to know.
//! - Times are the conference's wall clock, in its zone, 24- or 12-hour as its region reads
//!   them ([`ClockFormat::of_zone`]).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use std::collections::HashSet;

use crate::domain::feeds::spellings;
use crate::domain::model::{StoredTalk, TalkStatus};
use crate::domain::programme::Programme;
use crate::domain::text::title_key;

/// How a wall clock is read where the conference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockFormat {
    /// 14:30
    TwentyFour,
    /// 2:30 PM
    Twelve,
}

impl ClockFormat {
    /// The usual clock of the zone's region: 12-hour in the United States, Canada (but
    /// Quebec), Australia, New Zealand, India, Pakistan, Egypt and the Philippines; 24-hour
    /// elsewhere.
    pub fn of_zone(zone: Tz) -> Self {
        const TWELVE: &[&str] = &[
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Phoenix",
            "America/Los_Angeles",
            "America/Anchorage",
            "America/Adak",
            "America/Boise",
            "America/Detroit",
            "America/Indiana/",
            "America/Kentucky/",
            "America/North_Dakota/",
            "America/Juneau",
            "America/Sitka",
            "America/Nome",
            "America/Yakutat",
            "America/Metlakatla",
            "America/Menominee",
            "America/Toronto",
            "America/Vancouver",
            "America/Edmonton",
            "America/Winnipeg",
            "America/Regina",
            "America/Halifax",
            "America/St_Johns",
            "America/Whitehorse",
            "America/Yellowknife",
            "Pacific/Honolulu",
            "US/",
            "Canada/",
            "Australia/",
            "Pacific/Auckland",
            "NZ",
            "Asia/Kolkata",
            "Asia/Calcutta",
            "Asia/Karachi",
            "Africa/Cairo",
            "Asia/Manila",
        ];
        let name = zone.name();
        if TWELVE.iter().any(|prefix| name.starts_with(prefix)) {
            Self::Twelve
        } else {
            Self::TwentyFour
        }
    }

    /// `at` on this clock in `zone`.
    pub fn time(self, at: DateTime<Utc>, zone: Tz) -> String {
        let local = at.with_timezone(&zone);
        match self {
            Self::TwentyFour => local.format("%H:%M").to_string(),
            Self::Twelve => local.format("%-I:%M %p").to_string(),
        }
    }
}

/// A talk as a screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub title: String,
    pub speakers: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cancelled: bool,
}

/// One room's now and next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomScreen {
    pub room: String,
    pub now: Option<Entry>,
    pub next: Option<Entry>,
}

/// A whole screen: one room, or every room with something on or ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub conference: String,
    pub zone: Tz,
    pub clock: ClockFormat,
    pub rooms: Vec<RoomScreen>,
}

/// The screen of `room` (matched like subscriptions; `None`: every room) at `at`. A room
/// the programme does not have gives a screen with that room and nothing on.
pub fn screen(programme: &Programme, room: Option<&str>, at: DateTime<Utc>) -> Screen {
    let zone = programme.conference.time_zone;
    let rooms = match room {
        Some(asked) => {
            let key = title_key(asked);
            let name = programme
                .rooms()
                .iter()
                .find(|name| title_key(name) == key)
                .cloned()
                .unwrap_or_else(|| asked.to_owned());
            vec![room_screen(programme, name, at)]
        }
        None => programme
            .rooms()
            .iter()
            .map(|name| room_screen(programme, name.clone(), at))
            .filter(|screen| screen.now.is_some() || screen.next.is_some())
            .collect(),
    };
    Screen {
        conference: programme.conference.name.clone(),
        zone,
        clock: ClockFormat::of_zone(zone),
        rooms,
    }
}

fn room_screen(programme: &Programme, room: String, at: DateTime<Utc>) -> RoomScreen {
    let names = room_spellings(programme, &room);
    let mut now: Option<&StoredTalk> = None;
    let mut next: Option<&StoredTalk> = None;
    let in_room = programme.talks.iter().filter(|talk| {
        talk.data.slot.is_some_and(|slot| !slot.all_day)
            && talk.data.room.as_deref().is_some_and(|r| names.contains(r))
    });
    // Between two talks starting together, one that takes place is shown.
    let rank = |talk: &StoredTalk| talk.data.status != TalkStatus::Confirmed;
    for talk in in_room {
        let Some(slot) = talk.data.slot else { continue };
        let start = |t: &StoredTalk| t.data.slot.map(|s| s.start);
        if slot.start <= at && at < slot.end {
            // The latest started wins.
            let wins = now.map_or(true, |shown| {
                (start(shown), !rank(shown)) < (Some(slot.start), !rank(talk))
            });
            if wins {
                now = Some(talk);
            }
        } else if slot.start > at {
            let wins = next.map_or(true, |shown| {
                (Some(slot.start), rank(talk)) < (start(shown), rank(shown))
            });
            if wins {
                next = Some(talk);
            }
        }
    }
    RoomScreen {
        room,
        now: now.map(entry),
        next: next.map(entry),
    }
}

/// The programme's spellings of `room` (matched like subscriptions).
fn room_spellings<'a>(programme: &'a Programme, room: &str) -> HashSet<&'a str> {
    spellings(programme.rooms(), &HashSet::from([title_key(room)]))
}

fn entry(talk: &StoredTalk) -> Entry {
    let data = &talk.data;
    let (start, end) = data
        .slot
        .map_or((DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH), |s| {
            (s.start, s.end)
        });
    let speakers: Vec<&str> = data.speakers.iter().map(|s| s.name.as_str()).collect();
    Entry {
        title: data.title.clone(),
        speakers: speakers.join(", "),
        start,
        end,
        cancelled: data.status == TalkStatus::Cancelled,
    }
}

/// The next instant after `at` at which the screen of `room` changes by itself (a talk in
/// it starts or ends), so a pushed screen can be sent again then.
pub fn next_boundary(
    programme: &Programme,
    room: Option<&str>,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let names = room.map(|room| room_spellings(programme, room));
    programme
        .talks
        .iter()
        .filter(|talk| {
            names.as_ref().map_or(true, |names| {
                talk.data.room.as_deref().is_some_and(|r| names.contains(r))
            })
        })
        .filter_map(|talk| talk.data.slot.filter(|slot| !slot.all_day))
        .flat_map(|slot| [slot.start, slot.end])
        .filter(|instant| *instant > at)
        .min()
}

#[cfg(test)]
mod tests;
