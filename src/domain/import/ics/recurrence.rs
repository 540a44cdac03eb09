//! Recurring VEVENTs (RRULE, RDATE, EXDATE, and overrides sharing the UID with a
//! RECURRENCE-ID), expanded into one talk per occurrence within the conference's days, so
//! organisers can keep open spaces and socials in a shared calendar beside the programme.
//!
//! Each occurrence's id is the UID plus its original start (`uid/20270311T093000Z`, or
//! `uid/20270311` for all-day ones): stable across re-imports, and an override keeps the id
//! of the occurrence it moves, so a moved session is a change, not a cancellation.
//!
//! RRULE steps are wall-clock steps in DTSTART's zone (a weekly 10:00 stays at 10:00 across
//! a DST change), so the rule is expanded on local times and each converted to UTC.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};

use super::lexer::ContentLine;
use super::tree::Component;
use super::values::{date_or_time, DateOrTime};
use super::when::Zones;
use crate::domain::import::ImportError;
use crate::domain::model::{Slot, TalkData};

/// Occurrences of one event beyond this are dropped, with a warning: a daily rule without an
/// end must not turn into thousands of talks.
const MAX_OCCURRENCES: usize = 500;
/// Without a programme to bound it, a recurring event is expanded this far from its start.
pub(super) const UNBOUNDED_SPAN: Duration = Duration::days(31);

/// The instants occurrences may start in: the conference's days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Whether the event repeats (RRULE or RDATE). Overrides (RECURRENCE-ID) are not masters.
pub(super) fn is_recurring(event: &Component) -> bool {
    event.property("RECURRENCE-ID").is_none()
        && (event.property("RRULE").is_some() || event.property("RDATE").is_some())
}

/// The id of the occurrence of `uid` originally starting at `start`.
pub(super) fn occurrence_id(uid: &str, start: DateTime<Utc>, all_day: bool) -> String {
    if all_day {
        format!("{uid}/{}", start.format("%Y%m%d"))
    } else {
        format!("{uid}/{}", start.format("%Y%m%dT%H%M%SZ"))
    }
}

/// The original start an override (a VEVENT with RECURRENCE-ID) replaces.
pub(super) fn overridden_start(
    event: &Component,
    zones: &Zones,
) -> Result<Option<DateTime<Utc>>, ImportError> {
    event
        .property("RECURRENCE-ID")
        .map(|prop| zones.instant(prop))
        .transpose()
}

/// The talks of a recurring event: `master` (read like any event) repeated at each
/// occurrence within `window`, each replaced by its override where `overrides` has one.
pub(super) fn expand(
    event: &Component,
    master: &TalkData,
    zones: &Zones,
    window: Window,
    overrides: &mut HashMap<DateTime<Utc>, TalkData>,
    warnings: &mut Vec<String>,
) -> Result<Vec<TalkData>, ImportError> {
    let Some(slot) = master.slot else {
        return Ok(vec![master.clone()]);
    };
    let uid = master.source_id.clone().unwrap_or_default();
    let length = slot.end - slot.start;
    let mut starts = vec![slot.start];
    if let Some(rule) = event.property("RRULE") {
        let local = zones.local_start(event)?;
        let (from_rule, until) = rule_starts(rule, local.local, window, length)?;
        starts.extend(
            from_rule
                .into_iter()
                .map(|at| local.to_utc(at))
                .filter(|at| until.map_or(true, |until| *at <= until)),
        );
    }
    for prop in event.properties_named("RDATE") {
        starts.extend(instants(prop, zones)?);
    }
    let mut excluded = Vec::new();
    for prop in event.properties_named("EXDATE") {
        excluded.extend(instants(prop, zones)?);
    }
    starts.sort_unstable();
    starts.dedup();
    starts.retain(|at| !excluded.contains(at) && *at >= window.start && *at < window.end);
    if starts.len() > MAX_OCCURRENCES {
        warnings.push(format!(
            "line {}: {:?} repeats {} times within the conference's days; only the first \
             {MAX_OCCURRENCES} are imported",
            event.line,
            master.title,
            starts.len()
        ));
        starts.truncate(MAX_OCCURRENCES);
    }
    let talks = starts
        .into_iter()
        .map(|start| {
            let id = occurrence_id(&uid, start, slot.all_day);
            let mut talk = overrides.remove(&start).unwrap_or_else(|| TalkData {
                slot: Some(Slot {
                    start,
                    end: start + length,
                    all_day: slot.all_day,
                }),
                ..master.clone()
            });
            talk.source_id = Some(id.into());
            talk
        })
        .collect();
    Ok(talks)
}

/// The local starts an RRULE gives from `local_start`, up to the end of `window` (with a
/// day's margin for zone offsets) and a wall-clock UNTIL, and a `Z` UNTIL as the instant the
/// caller cuts at: compared with local times it would be off by the zone's offset.
fn rule_starts(
    rule: &ContentLine,
    local_start: NaiveDateTime,
    window: Window,
    length: Duration,
) -> Result<(Vec<NaiveDateTime>, Option<DateTime<Utc>>), ImportError> {
    let at_line = |why: String| ImportError::at_line(rule.line, format!("RRULE: {why}"));
    if !rule.value.is_ascii() {
        return Err(at_line("it contains non-ASCII characters".to_owned()));
    }
    // UNTIL is an instant (`Z`) or a wall-clock time; a date means the whole day.
    let mut until: Option<(NaiveDateTime, bool)> = None;
    let mut parts = Vec::new();
    for part in rule.value.trim().split(';').filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("UNTIL") => {
                until = Some(match date_or_time(value, None).map_err(at_line)? {
                    DateOrTime::Date(day) => {
                        (day.and_hms_opt(23, 59, 59).unwrap_or_default(), false)
                    }
                    DateOrTime::DateTime { local, utc } => (local, utc),
                });
            }
            _ => parts.push(part),
        }
    }
    // The rule runs on naive wall-clock times; rrule wants a zone, so UTC stands in for "no
    // zone" (the conversion to instants happens afterwards, per occurrence).
    let as_rrule_time = |t: NaiveDateTime| rrule::Tz::UTC.from_utc_datetime(&t);
    let parsed: rrule::RRule<rrule::Unvalidated> = parts
        .join(";")
        .parse()
        .map_err(|e| at_line(format!("cannot read it ({e})")))?;
    let horizon = window.end.naive_utc() + Duration::days(1) + length.abs();
    let set = parsed
        .build(as_rrule_time(local_start))
        .map_err(|e| at_line(format!("it is not valid ({e})")))?
        .before(as_rrule_time(horizon));
    let starts = set
        .all(u16::try_from(MAX_OCCURRENCES + 1).unwrap_or(u16::MAX))
        .dates
        .into_iter()
        .map(|t| t.naive_utc())
        .filter(|local| match until {
            Some((last, false)) => *local <= last,
            _ => true,
        })
        .collect();
    let until_instant = match until {
        Some((last, true)) => Some(last.and_utc()),
        _ => None,
    };
    Ok((starts, until_instant))
}

/// The instants of an RDATE or EXDATE (a comma-separated list of dates or date-times).
fn instants(prop: &ContentLine, zones: &Zones) -> Result<Vec<DateTime<Utc>>, ImportError> {
    // Each date is read as a property of its own. Those borrow the list's name and
    // parameters: copying the whole property per date made a long folded list quadratic.
    let view = prop.borrowed();
    prop.value
        .split(',')
        .filter(|v| !v.trim().is_empty())
        .map(|value| {
            let single = ContentLine {
                value: value.trim().into(),
                ..view.clone()
            };
            zones.instant(&single)
        })
        .collect()
}
