//! iCalendar (RFC 5545) importer, as pretalx, calendar apps and our own export write it.
//!
//! The pipeline: `lexer` (unfolding, parameters, escapes, physical line numbers) -> `tree`
//! (BEGIN/END nesting) -> `vtimezone` (the file's own zone rules) -> `when`
//! (DTSTART/DTEND/DURATION to UTC) -> `event` (VEVENT fields). Unknown components
//! (VALARM, VTODO, ...) and unknown properties are ignored; RRULEs on VEVENTs are not
//! expanded (a conference timetable lists each session once).

mod event;
mod lexer;
mod tree;
mod values;
mod vtimezone;
mod when;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_vtimezone;
#[cfg(test)]
mod tests_zones;

use chrono_tz::Tz;

use crate::domain::import::identity::Ids;
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{ImportedSchedule, ScheduleScope, TalkData};
use crate::domain::text::clean_line;
use crate::domain::time::{equivalent_zone, zone_by_name};

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
    let calendars = tree::calendars(lexer::content_lines(input)?)?;

    let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
    let mut ids = Ids::new();
    for calendar in &calendars {
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
        for vevent in calendar.children_named("VEVENT") {
            let mut talk = event::talk(vevent, &zones, pretalx)?;
            // A UID shared with a RECURRENCE-ID is an override of a recurrence, not a
            // repeat: those are left to the recurrence handling.
            if vevent.property("RECURRENCE-ID").is_none() {
                let place = format!("line {}", vevent.line);
                schedule.warnings.extend(ids.claim(&mut talk, &place));
            }
            schedule.talks.push(talk);
        }
        if schedule.time_zone.is_none() {
            schedule.time_zone = zone_like_first_event(calendar, &zones, &schedule.talks);
        }
    }
    if schedule.talks.is_empty() {
        return Err(ImportError::msg(
            "the calendar contains no VEVENT: refusing to import an empty timetable",
        ));
    }
    Ok(schedule)
}

/// pretalx files carry no X-WR-TIMEZONE, only a VTIMEZONE named like `PST`: the IANA zone
/// that behaves like the first event's VTIMEZONE becomes the reported conference zone (for
/// local days and display); a TZID without a VTIMEZONE is the zone it names. The instants never depend on it: they come from the file's rules.
fn zone_like_first_event(calendar: &Component, zones: &Zones, talks: &[TalkData]) -> Option<Tz> {
    let tzid = calendar
        .children_named("VEVENT")
        .find_map(|event| event.property("DTSTART")?.param("TZID"))?;
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
