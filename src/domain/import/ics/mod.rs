//! iCalendar (RFC 5545) importer, as pretalx, calendar apps and our own export write it.
//!
//! The pipeline: `lexer` (unfolding, parameters, escapes, physical line numbers) -> `tree`
//! (BEGIN/END nesting) -> `vtimezone` (the file's own zone rules) -> `when`
//! (DTSTART/DTEND/DURATION to UTC) -> `event` (VEVENT fields). Unknown components
//! (VALARM, VTODO, ...) and unknown properties are ignored; RRULEs on VEVENTs are not
//! expanded (a conference timetable lists each session once).

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
mod tests_vtimezone;
#[cfg(test)]
mod tests_zones;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::import::identity::Ids;
use crate::domain::import::skipped::Skipped;
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{ImportedSchedule, ScheduleScope, TalkData};
use crate::domain::text::clean_line;
use crate::domain::time::{equivalent_zone, local_to_utc, zone_by_name};

use self::speakers::{SpeakerRule, Summary};
use self::tree::Component;
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
    let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
    // An unreadable line (a property name with spaces, a stray continuation) is left out and
    // reported, so one odd property never costs the import.
    let mut builder = tree::Builder::default();
    lexer::lex(input, |line| match line {
        Ok(line) => builder.push(line),
        Err(error) => schedule
            .warnings
            .push(format!("{error}; that line was left out")),
    });
    let calendars = builder.finish(&mut schedule.warnings)?;

    let mut rules: std::collections::BTreeMap<SpeakerRule, usize> =
        std::collections::BTreeMap::new();
    let mut skipped = Skipped::default();
    let mut ids = Ids::new();
    for mut calendar in calendars {
        // Each event's parsed lines are freed once it is read (a recurring one's once it is
        // expanded), so they are not all held beside the talks read from them.
        let vevents: Vec<Component> = {
            let (vevents, rest) = std::mem::take(&mut calendar.children)
                .into_iter()
                .partition(|c| c.name == "VEVENT");
            calendar.children = rest;
            vevents
        };
        let calendar = &calendar;
        let text = |name: &str| calendar.property(name).and_then(|p| clean_line(&p.text()));
        let file_zone: Option<Tz> = text("X-WR-TIMEZONE").and_then(|name| zone_by_name(&name));
        schedule.name = schedule
            .name
            .take()
            .or_else(|| text("X-WR-CALNAME"))
            .or_else(|| text("NAME"));
        schedule.time_zone = schedule.time_zone.or(file_zone).or(options.time_zone);

        let defined = vtimezone::zones_of(calendar)?;
        let zones = Zones {
            defined: &defined,
            // The organiser's --timezone is deliberate; X-WR-TIMEZONE is only a hint, but
            // one that beats the zone a conference may merely have been given by default.
            conference: options.time_zone.or(file_zone).or(options.stored_time_zone),
        };
        let pretalx = text("PRODID").is_some_and(|p| p.to_ascii_lowercase().contains("pretalx"));
        let read_summary = if pretalx {
            Summary::Pretalx
        } else if options.summary_speakers {
            Summary::Switched
        } else {
            Summary::Title
        };
        let owner = speakers::calendar_owner(vevents.iter());
        let first_tzid = first_event_tzid(&vevents);
        let mut events = Events::default();
        for vevent in vevents {
            skipped.events += 1;
            let read = match event::talk(&vevent, &zones, read_summary, owner.as_deref()) {
                Ok((mut talk, rule)) => {
                    // A UID shared with a RECURRENCE-ID is an override of a recurrence, not a
                    // repeat: those are left to the recurrence handling.
                    if vevent.property("RECURRENCE-ID").is_none() {
                        let place = format!("line {}", vevent.line);
                        schedule.warnings.extend(ids.claim(&mut talk, &place));
                    }
                    events.add(vevent, talk, &zones).map(|()| rule)
                }
                Err(error) => Err((error, uid_of(&vevent))),
            };
            match read {
                Ok(Some(rule)) => *rules.entry(rule).or_insert(0_usize) += 1,
                Ok(None) => {}
                Err((error, uid)) => skipped.note(uid, error),
            }
        }
        events.expand_into(&mut schedule, &zones, &mut skipped);
        if schedule.time_zone.is_none() {
            schedule.time_zone =
                zone_like_first_event(first_tzid.as_deref(), &zones, &schedule.talks);
        }
    }
    skipped.conclude(&mut schedule)?;
    if schedule.talks.is_empty() {
        return Err(ImportError::msg(
            "the calendar contains no VEVENT: refusing to import an empty timetable",
        ));
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
        schedule.talks.append(&mut self.plain);
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
        for (uid, overrides) in self.overrides {
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
fn speaker_note(rules: &std::collections::BTreeMap<SpeakerRule, usize>, events: usize) -> String {
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

/// The TZID of the first event's DTSTART that has one.
fn first_event_tzid(vevents: &[Component]) -> Option<String> {
    vevents
        .iter()
        .find_map(|event| event.property("DTSTART")?.param("TZID"))
        .map(str::to_owned)
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
