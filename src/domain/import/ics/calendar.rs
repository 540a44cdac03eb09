//! One VCALENDAR read as its VEVENTs close: each event becomes a talk at its `END`, so the
//! lines of no more than one event are held at a time (holding every event's lines first
//! was 150 MB of a 100,000-event import).
//!
//! An event is read with what the calendar said before it: its VTIMEZONEs, `X-WR-TIMEZONE`
//! and `PRODID`, and its owner (the organiser on every event, [`Owner`]). Real calendars
//! state all of that first. The owner cannot be known before the last event, so events are
//! held while every one so far names the same organiser. A calendar that states a zone or
//! its producer only after its events is read again holding every event
//! ([`Read::Holding`]): the talks of both readings are the same.

use chrono_tz::Tz;

use super::event;
use super::speakers::{Owner, Summary};
use super::tree::Component;
use super::vtimezone::{self, VTimeZone};
use super::when::Zones;
use super::{dtstart_tzid, uid_of, zone_like_first_event, Events, Tally};
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::text::clean_line;
use crate::domain::time::zone_by_name;

/// How a calendar's events are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// Each at its `END`, with what the calendar stated before its first event.
    AsTheyClose,
    /// All at the calendar's `END`, with everything it stated.
    Holding,
}

/// Why reading stopped.
#[derive(Debug)]
pub(super) enum Stop {
    /// The file cannot be imported.
    Error(ImportError),
    /// The calendar stated after its events something they are read with: read the file
    /// again with [`Read::Holding`].
    Reread,
}

impl From<ImportError> for Stop {
    fn from(error: ImportError) -> Self {
        Stop::Error(error)
    }
}

/// What a calendar states that its events are read with.
#[derive(PartialEq)]
struct Stated {
    /// Floating times and all-day dates are read in it.
    conference: Option<Tz>,
    read_summary: Summary,
    /// How many VTIMEZONEs it has.
    vtimezones: usize,
}

impl Stated {
    fn of(calendar: &Component, options: &ImportOptions) -> Self {
        let pretalx =
            text(calendar, "PRODID").is_some_and(|p| p.to_ascii_lowercase().contains("pretalx"));
        Self {
            // The organiser's --timezone is deliberate; X-WR-TIMEZONE is only a hint, but
            // one that beats the zone a conference may merely have been given by default.
            conference: options
                .time_zone
                .or(file_zone(calendar))
                .or(options.stored_time_zone),
            read_summary: if pretalx {
                Summary::Pretalx
            } else if options.summary_speakers {
                Summary::Switched
            } else {
                Summary::Title
            },
            vtimezones: calendar.children_named("VTIMEZONE").count(),
        }
    }
}

/// What a calendar's events are read with, taken from the calendar as it stands.
struct Header {
    stated: Stated,
    defined: Vec<VTimeZone>,
}

impl Header {
    fn of(calendar: &Component, options: &ImportOptions) -> Result<Self, ImportError> {
        Ok(Self {
            stated: Stated::of(calendar, options),
            defined: vtimezone::zones_of(calendar)?,
        })
    }

    fn zones(&self) -> Zones<'_> {
        Zones {
            defined: &self.defined,
            conference: self.stated.conference,
        }
    }
}

/// `X-WR-TIMEZONE`.
fn file_zone(calendar: &Component) -> Option<Tz> {
    text(calendar, "X-WR-TIMEZONE").and_then(|name| zone_by_name(&name))
}

fn text(calendar: &Component, name: &str) -> Option<String> {
    calendar.property(name).and_then(|p| clean_line(&p.text()))
}

/// The calendar that is open.
pub(super) struct Calendar<'a> {
    read: Read,
    /// Fixed at the first event read as it closes.
    header: Option<Header>,
    owner: Owner,
    /// Events waiting for their owner to be known.
    waiting: Vec<Component<'a>>,
    events: Events<'a>,
    first_tzid: Option<String>,
}

impl<'a> Calendar<'a> {
    /// A calendar of about `events` events (a hint: the list of talks is sized to it).
    pub(super) fn new(read: Read, events: usize) -> Self {
        let mut plain = Vec::new();
        // A hint that cannot be had is no reason to fail: the list grows as it must.
        let _ = plain.try_reserve_exact(events);
        Self {
            read,
            header: None,
            owner: Owner::default(),
            waiting: Vec::new(),
            events: Events::with_plain(plain),
            first_tzid: None,
        }
    }

    /// Takes a VEVENT as it closes; `calendar` is its calendar as read so far.
    pub(super) fn event(
        &mut self,
        vevent: Component<'a>,
        calendar: &Component,
        options: &ImportOptions,
        tally: &mut Tally,
    ) -> Result<(), Stop> {
        if self.first_tzid.is_none() {
            self.first_tzid = dtstart_tzid(&vevent);
        }
        self.owner.see(&vevent);
        if self.read == Read::Holding {
            self.waiting.push(vevent);
            return Ok(());
        }
        let header = match self.header.take() {
            Some(header) => header,
            // A calendar whose zones cannot be read before its events is read holding them,
            // so that it fails as a whole calendar does (which of its faults is named first
            // depends on all of it).
            None => Header::of(calendar, options).map_err(|_| Stop::Reread)?,
        };
        if !self.owner.is_ruled_out() {
            self.waiting.push(vevent);
        } else {
            for waiting in std::mem::take(&mut self.waiting) {
                self.read_event(&header, waiting, None, tally);
            }
            self.read_event(&header, vevent, None, tally);
        }
        self.header = Some(header);
        Ok(())
    }

    fn read_event(
        &mut self,
        header: &Header,
        vevent: Component<'a>,
        owner: Option<&str>,
        tally: &mut Tally,
    ) {
        let zones = header.zones();
        tally.skipped.events += 1;
        let read = match event::talk(&vevent, &zones, header.stated.read_summary, owner) {
            Ok((mut talk, rule)) => {
                // A UID shared with a RECURRENCE-ID is an override of a recurrence, not a
                // repeat: those are left to the recurrence handling.
                if vevent.property("RECURRENCE-ID").is_none() {
                    let repeat = tally.ids.claim(&mut talk, vevent.line);
                    let warning = repeat.map(|repeat| repeat.at_line(vevent.line));
                    tally.schedule.warnings.extend(warning);
                }
                tally.shared.share_talk(&mut talk);
                self.events.add(vevent, talk, &zones).map(|()| rule)
            }
            Err(error) => Err((error, uid_of(&vevent))),
        };
        match read {
            Ok(Some(rule)) => *tally.rules.entry(rule).or_insert(0_usize) += 1,
            Ok(None) => {}
            Err((error, uid)) => tally.skipped.note(uid, error),
        }
    }

    /// Ends the calendar: reads the events still waiting, expands recurrences, and names the
    /// conference and its zone.
    pub(super) fn end(
        mut self,
        calendar: &Component,
        options: &ImportOptions,
        tally: &mut Tally,
    ) -> Result<(), Stop> {
        let header = match self.header.take() {
            Some(header) if header.stated != Stated::of(calendar, options) => {
                return Err(Stop::Reread)
            }
            Some(header) => header,
            None => Header::of(calendar, options)?,
        };
        let owner = self.owner.settled().map(str::to_owned);
        for waiting in std::mem::take(&mut self.waiting) {
            self.read_event(&header, waiting, owner.as_deref(), tally);
        }
        let schedule = &mut tally.schedule;
        schedule.name = schedule
            .name
            .take()
            .or_else(|| text(calendar, "X-WR-CALNAME"))
            .or_else(|| text(calendar, "NAME"));
        schedule.time_zone = schedule
            .time_zone
            .or(file_zone(calendar))
            .or(options.time_zone);
        let zones = header.zones();
        self.events
            .expand_into(schedule, &zones, &mut tally.skipped);
        if schedule.time_zone.is_none() {
            schedule.time_zone =
                zone_like_first_event(self.first_tzid.as_deref(), &zones, &schedule.talks);
        }
        Ok(())
    }
}
