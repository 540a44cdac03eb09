//! iCalendar (RFC 5545) importer, as pretalx, calendar apps and our own export write it.
//!
//! The pipeline: `lexer` (unfolding, parameters, escapes, physical line numbers) -> `tree`
//! (BEGIN/END nesting, each VEVENT handed out as it closes) -> `calendar` (each event read
//! at its `END` with what its calendar stated before it) -> `vtimezone` (the file's own
//! zone rules) -> `when` (DTSTART/DTEND/DURATION to UTC) -> `event` (VEVENT fields) ->
//! `recurrence` (repeating events expanded over the conference's days). Unknown components
//! (VALARM, VTODO, ...) and unknown properties are ignored.

mod calendar;
mod event;
mod lexer;
mod recurrence;
pub mod speakers;
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

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::import::identity::Ids;
use crate::domain::import::skipped::Skipped;
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{ImportedSchedule, ScheduleScope, TalkData};
use crate::domain::text::clean_line;
use crate::domain::time::{equivalent_zone, local_to_utc, zone_by_name};

use self::calendar::{Calendar, Read, Stop};
use self::speakers::SpeakerRule;
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
    ids: Ids,
}

impl Tally {
    fn new() -> Self {
        Self {
            schedule: ImportedSchedule::new(ScheduleScope::Timetable),
            rules: BTreeMap::new(),
            skipped: Skipped::default(),
            ids: Ids::new(),
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
    // An unreadable line (a property name with spaces, a stray continuation) is left out and
    // reported, so one odd property never costs the import.
    let mut warnings = Vec::new();
    let mut builder = tree::Builder::default();
    let mut tally = Tally::new();
    let mut open: Option<Calendar> = None;
    let mut vevent_hint = vevent_hint(input);
    // The first calendar that cannot be read; lines are still built into the tree after it,
    // because an error in the file's structure is the one to report (after a `Reread`, the
    // second reading finds it).
    let mut failed: Option<Stop> = None;
    lexer::lex(input, |line| {
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                warnings.push(format!("{error}; that line was left out"));
                return;
            }
        };
        if matches!(failed, Some(Stop::Reread)) {
            return;
        }
        let closed = builder.push(line);
        if failed.is_some() {
            return;
        }
        let read = match closed {
            Some(Closed::Event(vevent)) => match builder.calendar() {
                Some(calendar) => open
                    .get_or_insert_with(|| Calendar::new(how, std::mem::take(&mut vevent_hint)))
                    .event(vevent, calendar, options, &mut tally),
                None => Ok(()),
            },
            Some(Closed::Calendar(calendar)) => open
                .take()
                .unwrap_or_else(|| Calendar::new(how, 0))
                .end(&calendar, options, &mut tally),
            None => Ok(()),
        };
        failed = read.err();
    });
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

/// A calendar's events, sorted out for recurrence: plain events, recurring masters, and the
/// overrides (RECURRENCE-ID) of their occurrences.
#[derive(Default)]
struct Events<'a> {
    plain: Vec<TalkData>,
    masters: Vec<(Component<'a>, TalkData)>,
    /// By UID, then by the original start of the occurrence they replace.
    overrides: HashMap<String, HashMap<DateTime<Utc>, TalkData>>,
}

impl<'a> Events<'a> {
    /// Keeps a recurring event's lines for its expansion; any other event's go. An error
    /// comes with the event's UID.
    fn add(
        &mut self,
        vevent: Component<'a>,
        talk: TalkData,
        zones: &Zones,
    ) -> Result<(), (ImportError, Option<String>)> {
        if recurrence::is_recurring(&vevent) {
            self.masters.push((vevent, talk));
        } else if let Some(original) = recurrence::overridden_start(&vevent, zones)
            .map_err(|error| (error, uid_of(&vevent)))?
        {
            let uid = talk.source_id.clone().unwrap_or_default();
            self.overrides
                .entry(uid)
                .or_default()
                .insert(original, talk);
        } else {
            self.plain.push(talk);
        }
        Ok(())
    }

    /// The one-off events, then every recurring one expanded within the conference's days
    /// (the local days the plain events span), then overrides left without a master.
    fn expand_into(
        mut self,
        schedule: &mut ImportedSchedule,
        zones: &Zones,
        skipped: &mut Skipped,
    ) {
        let days = conference_days(&self.plain, zones.conference);
        if schedule.talks.is_empty() {
            // Moved, not copied: appending 100,000 talks to an empty list held them twice.
            schedule.talks = std::mem::take(&mut self.plain);
        } else {
            schedule.talks.append(&mut self.plain);
        }
        for (vevent, master) in &self.masters {
            let window = match days {
                Some(days) => days,
                None => {
                    let Some(slot) = master.slot else { continue };
                    schedule.warnings.push(format!(
                        "line {}: {:?} repeats, and the calendar has no one-off events to \
                         tell the conference's days: its occurrences in the {} days from its \
                         start are imported",
                        vevent.line,
                        master.title,
                        recurrence::UNBOUNDED_SPAN.num_days()
                    ));
                    recurrence::Window {
                        start: slot.start,
                        end: slot.start + recurrence::UNBOUNDED_SPAN,
                    }
                }
            };
            let uid = master.source_id.clone().unwrap_or_default();
            let mut overrides = self.overrides.remove(&uid).unwrap_or_default();
            match recurrence::expand(
                vevent,
                master,
                zones,
                window,
                &mut overrides,
                &mut schedule.warnings,
            ) {
                Ok(talks) => schedule.talks.extend(talks),
                Err(error) => skipped.note(uid_of(vevent), error),
            }
            // Overrides of occurrences the rule does not give (moved in from elsewhere).
            self.overrides.insert(uid, overrides);
        }
        // By UID: the map's own order changes from run to run.
        let mut orphans: Vec<_> = self.overrides.into_iter().collect();
        orphans.sort_by(|(a, _), (b, _)| a.cmp(b));
        for (uid, overrides) in orphans {
            let mut overrides: Vec<_> = overrides.into_iter().collect();
            overrides.sort_by_key(|(original, _)| *original);
            for (original, mut talk) in overrides {
                let all_day = talk.slot.is_some_and(|s| s.all_day);
                talk.source_id = Some(recurrence::occurrence_id(&uid, original, all_day));
                schedule.talks.push(talk);
            }
        }
    }
}

fn uid_of(vevent: &Component) -> Option<String> {
    vevent.property("UID").and_then(|p| clean_line(&p.text()))
}

/// The conference's days: from the local midnight before the first one-off event to the one
/// after the last.
fn conference_days(talks: &[TalkData], zone: Option<Tz>) -> Option<recurrence::Window> {
    let first = talks.iter().filter_map(|t| t.slot).map(|s| s.start).min()?;
    let last = talks.iter().filter_map(|t| t.slot).map(|s| s.end).max()?;
    let zone = zone.unwrap_or(Tz::UTC);
    let midnight = |at: DateTime<Utc>, days: i64| {
        let day = at.with_timezone(&zone).date_naive() + chrono::Duration::days(days);
        local_to_utc(&zone, day.and_time(chrono::NaiveTime::MIN))
    };
    Some(recurrence::Window {
        start: midnight(first, 0),
        end: midnight(last, 1),
    })
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
