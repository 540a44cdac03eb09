//! A timetable being read: its days, rooms and events met in order, whether the whole file is
//! read in one outline or each element alone ([`super::days`]).

use super::content::EventFields;
use super::errors::error_in;
use super::outline::{Element, Outline};
use super::{children, event_id, room_name, Conference, Context, Day};
use crate::domain::import::identity::Ids;
use crate::domain::import::skipped::Skipped;
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{ImportedSchedule, ScheduleScope, SharedTexts};

/// A timetable read a `<day>` at a time from the whole file, or an element at a time
/// ([`days`]).
pub(super) struct Reading {
    schedule: ImportedSchedule,
    context: Context,
    ids: Ids<usize>,
    skipped: Skipped,
    shared: SharedTexts,
}

impl Reading {
    pub(super) fn new(conference: Conference, options: &ImportOptions) -> Self {
        let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
        schedule.name = conference.title;
        schedule.time_zone = conference.zone;
        let context = Context {
            zone: conference
                .zone
                .or(options.time_zone)
                .or(options.stored_time_zone),
            day_change: conference.day_change,
        };
        Self {
            schedule,
            context,
            ids: Ids::new(),
            skipped: Skipped::default(),
            shared: SharedTexts::default(),
        }
    }

    /// Reads `day_element`, which `outline` is inside, to its end tag.
    pub(super) fn day<'i>(
        &mut self,
        outline: &mut Outline<'i>,
        day_element: &Element<'i>,
    ) -> Result<(), ImportError> {
        let day = self.day_start(day_element)?;
        while let Some(room) = children(outline, day_element, "room")? {
            let room_name = room_name(&room);
            while let Some(event) = children(outline, &room, "event")? {
                self.event(outline, &event, &day, room_name.as_deref())?;
            }
        }
        Ok(())
    }

    /// What a day's start tag says.
    pub(super) fn day_start(&mut self, day_element: &Element<'_>) -> Result<Day, ImportError> {
        let day = self.context.day(day_element)?;
        self.schedule.days.extend(day.programme_day);
        Ok(day)
    }

    /// Reads `event`, which `outline` is inside, to its end tag.
    pub(super) fn event<'i>(
        &mut self,
        outline: &mut Outline<'i>,
        event: &Element<'i>,
        day: &Day,
        room_name: Option<&str>,
    ) -> Result<(), ImportError> {
        // Malformed XML where the event is read refuses the file; a missing field skips the
        // talk.
        let found = EventFields::read(outline, event)?;
        self.skipped.events += 1;
        match self.context.event(event, found, day, room_name) {
            Ok(mut talk) => {
                let repeat = self.ids.claim(&mut talk, event.line);
                let warning = repeat.map(|repeat| repeat.at_line(event.line));
                self.schedule.warnings.extend(warning);
                self.shared.share_talk(&mut talk);
                self.schedule.talks.push(talk);
            }
            Err(error) => self.skipped.note(event_id(event), error),
        }
        Ok(())
    }

    /// The timetable, once every day of the file whose root is `root` is read.
    pub(super) fn finish(self, root: &Element<'_>) -> Result<ImportedSchedule, ImportError> {
        let mut schedule = self.schedule;
        self.skipped.conclude(&mut schedule)?;
        if schedule.talks.is_empty() {
            // Applied as the full timetable it would cancel every stored talk: a broken or
            // not-yet-filled export must never do that (the iCalendar importer refuses too).
            return Err(error_in(
                root,
                "no <day><room><event> found: refusing to import an empty timetable",
            ));
        }
        Ok(schedule)
    }
}
