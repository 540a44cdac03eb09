//! iCalendar (RFC 5545) importer, as pretalx, calendar apps and our own export write it.
//!
//! The pipeline: `lexer` (unfolding, parameters, escapes, physical line numbers) -> `tree`
//! (BEGIN/END nesting, each VEVENT handed out as it closes) -> `calendar` (each event read
//! at its `END` with what its calendar stated before it) -> `vtimezone` (the file's own
//! zone rules) -> `when` (DTSTART/DTEND/DURATION to UTC) -> `event` (VEVENT fields) ->
//! `recurrence` (repeating events expanded over the conference's days). Unknown components
//! (VALARM, VTODO, ...) and unknown properties are ignored.

mod calendar;
mod escapes;
mod event;
mod events;
mod lexer;
mod names;
mod recurrence;
pub mod speakers;
mod streamed;
mod tree;
mod values;
mod vtimezone;
mod when;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_recurrence;
#[cfg(test)]
mod tests_speakers;
#[cfg(test)]
mod tests_spellings;
#[cfg(test)]
mod tests_streaming;
#[cfg(test)]
mod tests_vtimezone;
#[cfg(test)]
mod tests_zones;

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::domain::import::identity::Ids;
use crate::domain::import::skipped::Skipped;
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{ImportedSchedule, ScheduleScope, SharedTexts, TalkData};
use crate::domain::text::clean_line;
use crate::domain::time::{equivalent_zone, zone_by_name};

use self::calendar::{Calendar, Read, Stop};
use self::events::Events;
use self::lexer::ContentLine;
use self::speakers::SpeakerRule;
pub use self::streamed::{talks_hint, Streamed};
use self::tree::{Closed, Component};
use self::when::Zones;

/// Parses an iCalendar file into the whole timetable: one talk per VEVENT.
///
/// Times resolve as: `...Z` = UTC; `TZID=X` = the file's VTIMEZONE `X` if it has one (never
/// the name: pretalx writes `PST` even for Manila), else the IANA or Windows zone `X`;
/// floating times and all-day dates = the conference zone (`options.time_zone`, else
/// `X-WR-TIMEZONE`, else `options.stored_time_zone`). The reported `time_zone` is `X-WR-TIMEZONE`, else `options.time_zone`,
/// else the IANA zone behaving like the first event's VTIMEZONE (or named by its TZID). Every error about a place in the file names its physical line.
///
/// A calendar without any VEVENT is refused: importing it as the full timetable would cancel
/// every talk, which a broken or empty feed must never do.
pub fn parse(input: &str, options: &ImportOptions) -> Result<ImportedSchedule, ImportError> {
    if input.len() > options.max_bytes {
        return Err(ImportError::TooLarge {
            size: input.len(),
            limit: options.max_bytes,
        });
    }
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    match read(input, options, Read::AsTheyClose) {
        Ok(schedule) => Ok(schedule),
        Err(Stop::Error(error)) => Err(error),
        Err(Stop::Reread) => read(input, options, Read::Holding).map_err(|stop| match stop {
            Stop::Error(error) => error,
            Stop::Reread => {
                debug_assert!(
                    false,
                    "a calendar read holding its events asked to be read again"
                );
                ImportError::msg("the calendar could not be read")
            }
        }),
    }
}

/// What reading a file's calendars builds up.
struct Tally {
    /// The talks, and the warnings about events (the lexer's are put first at the end).
    schedule: ImportedSchedule,
    rules: BTreeMap<SpeakerRule, usize>,
    skipped: Skipped,
    ids: Ids<usize>,
    /// Labels and biographies held once ([`SharedTexts`]).
    shared: SharedTexts,
}

impl Tally {
    fn new() -> Self {
        Self {
            schedule: ImportedSchedule::new(ScheduleScope::Timetable),
            rules: BTreeMap::new(),
            skipped: Skipped::default(),
            ids: Ids::new(),
            shared: SharedTexts::default(),
        }
    }
}

/// How many talks a calendar of `input` may give, to size their list: the VEVENTs that begin
/// a line, but no more than an event of [`MIN_EVENT_BYTES`] each could give, so a file of
/// empty or hostile events cannot have a list of hundreds of MB reserved. A calendar spelling
/// BEGIN in lower case is merely not sized.
fn vevent_hint(input: &str) -> usize {
    let at_line_start =
        input.matches("\nBEGIN:VEVENT").count() + usize::from(input.starts_with("BEGIN:VEVENT"));
    at_line_start.min(input.len() / MIN_EVENT_BYTES)
}

/// Sized up front, a 100,000-event calendar's talks are not copied as their list grows, nor
/// held with a quarter of it to spare (60 MB at the last doubling). A real event takes over a
/// hundred bytes (BEGIN, UID, DTSTART, SUMMARY, END), one with an abstract over a thousand.
const MIN_EVENT_BYTES: usize = 128;

/// Reads every calendar of `input`, its events as `how` says.
fn read(input: &str, options: &ImportOptions, how: Read) -> Result<ImportedSchedule, Stop> {
    let mut reader = Reader::new(options, how, vevent_hint(input));
    lexer::lex(input, 1, |line| reader.line(line));
    reader.finish()
}

/// A file's calendars read one content line at a time, as the lexer hands them out: from
/// the whole text, or piece by piece as a file is read ([`streamed`]).
struct Reader<'a, 'o> {
    options: &'o ImportOptions,
    how: Read,
    // An unreadable line (a property name with spaces, a stray continuation) is left out and
    // reported, so one odd property never costs the import.
    warnings: Vec<String>,
    builder: tree::Builder<'a>,
    tally: Tally,
    open: Option<Calendar<'a>>,
    vevent_hint: usize,
    // The first calendar that cannot be read; lines are still built into the tree after it,
    // because an error in the file's structure is the one to report (after a `Reread`, the
    // second reading finds it).
    failed: Option<Stop>,
}

impl<'a, 'o> Reader<'a, 'o> {
    /// `vevent_hint`: how many talks to size the list for ([`vevent_hint`]).
    fn new(options: &'o ImportOptions, how: Read, vevent_hint: usize) -> Self {
        Self {
            options,
            how,
            warnings: Vec::new(),
            builder: tree::Builder::default(),
            tally: Tally::new(),
            open: None,
            vevent_hint,
            failed: None,
        }
    }

    /// Whether the rest of the file can change nothing: it must be read again, holding
    /// its events.
    fn rereads(&self) -> bool {
        matches!(self.failed, Some(Stop::Reread))
    }

    /// Whether a calendar could not be read (or must be read again).
    fn failed(&self) -> bool {
        self.failed.is_some()
    }

    fn line(&mut self, line: Result<ContentLine<'a>, ImportError>) {
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                self.warnings
                    .push(format!("{error}; that line was left out"));
                return;
            }
        };
        if self.rereads() {
            return;
        }
        let closed = self.builder.push(line);
        if self.failed() {
            return;
        }
        let (how, options) = (self.how, self.options);
        let read = match closed {
            Some(Closed::Event(vevent)) => match self.builder.calendar() {
                Some(calendar) => {
                    let hint = &mut self.vevent_hint;
                    self.open
                        .get_or_insert_with(|| Calendar::new(how, std::mem::take(hint)))
                        .event(vevent, calendar, options, &mut self.tally)
                }
                None => Ok(()),
            },
            Some(Closed::Calendar(calendar)) => self
                .open
                .take()
                .unwrap_or_else(|| Calendar::new(how, 0))
                .end(&calendar, options, &mut self.tally),
            None => Ok(()),
        };
        self.failed = read.err();
    }

    fn finish(self) -> Result<ImportedSchedule, Stop> {
        let Self {
            mut warnings,
            builder,
            tally,
            failed,
            ..
        } = self;
        if let Some(Stop::Reread) = failed {
            return Err(Stop::Reread);
        }
        builder.finish(&mut warnings)?;
        if let Some(stop) = failed {
            return Err(stop);
        }
        let Tally {
            mut schedule,
            rules,
            skipped,
            ids: _,
            shared: _,
        } = tally;
        warnings.append(&mut schedule.warnings);
        schedule.warnings = warnings;
        skipped.conclude(&mut schedule)?;
        if schedule.talks.is_empty() {
            return Err(ImportError::msg(
                "the calendar contains no VEVENT: refusing to import an empty timetable",
            )
            .into());
        }
        schedule
            .notes
            .push(speaker_note(&rules, schedule.talks.len()));
        Ok(schedule)
    }
}

fn uid_of(vevent: &Component) -> Option<String> {
    vevent.property("UID").and_then(|p| clean_line(&p.text()))
}

/// Which rules found the speakers, for the import summary: organisers see how their file
/// was read instead of a silent guess.
fn speaker_note(rules: &BTreeMap<SpeakerRule, usize>, events: usize) -> String {
    let found: usize = rules.values().sum();
    if found == 0 {
        return format!(
            "speakers: none found in {events} events (no ATTENDEE or ORGANIZER CN, no \
             \"Speaker:\" line; if SUMMARY reads \"Title - Speaker\", import with \
             --summary-speakers)"
        );
    }
    let parts: Vec<String> = rules
        .iter()
        .map(|(rule, count)| format!("{count} from {}", rule.describe()))
        .collect();
    format!(
        "speakers of {found} of {events} events: {}",
        parts.join(", ")
    )
}

/// The TZID of an event's DTSTART, if it has one.
fn dtstart_tzid(event: &Component) -> Option<String> {
    event.property("DTSTART")?.param("TZID").map(str::to_owned)
}

/// pretalx files carry no X-WR-TIMEZONE, only a VTIMEZONE named like `PST`: the IANA zone
/// that behaves like the first event's VTIMEZONE becomes the reported conference zone (for
/// local days and display); a TZID without a VTIMEZONE is the zone it names. The instants never depend on it: they come from the file's rules.
fn zone_like_first_event(
    first_tzid: Option<&str>,
    zones: &Zones,
    talks: &[TalkData],
) -> Option<Tz> {
    let tzid = first_tzid?;
    let Some(rules) = zones.defined_zone(tzid) else {
        // No VTIMEZONE: the TZID names the zone itself (IANA or Windows), as for the times.
        // Without this the conference would stay on the default zone (UTC) and its local
        // days would be keyed by UTC date.
        return zone_by_name(tzid);
    };
    let around = talks.iter().find_map(|t| t.slot)?.start.naive_utc();
    let names: Vec<&str> = rules.names.iter().map(String::as_str).collect();
    equivalent_zone(rules, &names, around)
}
