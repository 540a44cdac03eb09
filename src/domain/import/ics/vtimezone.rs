//! A file's own VTIMEZONE as [`ZoneRules`]: every STANDARD/DAYLIGHT onset (DTSTART, RRULE,
//! RDATE) expanded once into a sorted list of UTC transitions.
//!
//! pretalx names its VTIMEZONE after the zone's abbreviation (`PST`, even for Manila), so the
//! rules written in the block are the only truth; the TZID is never looked up by name.

use chrono::{FixedOffset, NaiveDateTime, NaiveTime, TimeZone};

use super::lexer::{preview, ContentLine};
use super::tree::Component;
use super::values::{date_or_time, utc_offset, DateOrTime};
use crate::domain::import::ImportError;
use crate::domain::text::clean_line;
use crate::domain::time::ZoneRules;

/// Onsets are expanded up to the start of this year: far beyond any conference being planned,
/// and it bounds the work a `FREQ=YEARLY` rule from 1601 (as Outlook writes them) costs.
const HORIZON_YEAR: i32 = 2200;
/// At most this many onsets per RRULE: real rules need one a year; a hostile `FREQ=SECONDLY`
/// rule stops here instead of running for minutes.
const MAX_ONSETS_PER_RULE: u16 = 1000;

/// At most this many RRULEs across a calendar's VTIMEZONEs. Real files need a handful (the
/// seed has four); a rule that never matches costs the rrule crate up to 100,000 iterations,
/// so a file with thousands of them would tie the importer up for minutes.
const MAX_RULES_PER_CALENDAR: usize = 64;

/// Reads every VTIMEZONE of a calendar, refusing files with more rules than any real one has.
pub(super) fn zones_of(calendar: &Component) -> Result<Vec<VTimeZone>, ImportError> {
    let excess = calendar
        .children_named("VTIMEZONE")
        .flat_map(|zone| &zone.children)
        .flat_map(|observance| observance.properties_named("RRULE"))
        .nth(MAX_RULES_PER_CALENDAR);
    if let Some(rule) = excess {
        return Err(ImportError::at_line(
            rule.line,
            format!("more than {MAX_RULES_PER_CALENDAR} RRULEs in VTIMEZONE blocks"),
        ));
    }
    calendar
        .children_named("VTIMEZONE")
        .map(VTimeZone::from_component)
        .collect()
}

/// The rules of one VTIMEZONE block.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct VTimeZone {
    pub tzid: String,
    /// The TZNAMEs of its observances (`PST`, `PDT`), in file order.
    pub names: Vec<String>,
    /// (onset as naive UTC, offset in force from then on), sorted by onset.
    transitions: Vec<(NaiveDateTime, FixedOffset)>,
    /// The offset before the first onset: the first observance's TZOFFSETFROM.
    initial: FixedOffset,
}

impl ZoneRules for VTimeZone {
    fn offset_at(&self, utc: NaiveDateTime) -> FixedOffset {
        let after = self.transitions.partition_point(|(onset, _)| *onset <= utc);
        after
            .checked_sub(1)
            .and_then(|i| self.transitions.get(i))
            .map_or(self.initial, |(_, offset)| *offset)
    }
}

impl VTimeZone {
    /// Reads a VTIMEZONE component. Errors name the offending line and the TZID.
    pub fn from_component(zone: &Component) -> Result<Self, ImportError> {
        let tzid = zone
            .property("TZID")
            .map(|p| p.text().trim().to_owned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ImportError::at_line(zone.line, "VTIMEZONE without a TZID"))?;
        let fail = |line: usize, why: String| {
            ImportError::at_line(line, format!("VTIMEZONE {:?}: {why}", preview(&tzid)))
        };
        let mut names: Vec<String> = Vec::new();
        // (onset as naive UTC, TZOFFSETFROM, TZOFFSETTO)
        let mut onsets: Vec<(NaiveDateTime, FixedOffset, FixedOffset)> = Vec::new();
        for observance in &zone.children {
            if observance.name != "STANDARD" && observance.name != "DAYLIGHT" {
                continue;
            }
            let offset = |name: &str| -> Result<FixedOffset, ImportError> {
                let prop = observance.property(name).ok_or_else(|| {
                    fail(
                        observance.line,
                        format!("{} has no {name}", observance.name),
                    )
                })?;
                utc_offset(&prop.value).map_err(|why| fail(prop.line, why))
            };
            let name = observance
                .property("TZNAME")
                .and_then(|p| clean_line(&p.text()));
            names.extend(name.filter(|n| !names.contains(n)));
            let from = offset("TZOFFSETFROM")?;
            let to = offset("TZOFFSETTO")?;
            let start_prop = observance.property("DTSTART").ok_or_else(|| {
                fail(
                    observance.line,
                    format!("{} has no DTSTART", observance.name),
                )
            })?;
            let start = wall_clock(start_prop).map_err(|why| fail(start_prop.line, why))?;
            let mut locals = vec![start];
            for rule in observance.properties_named("RRULE") {
                locals
                    .extend(expand(&rule.value, start, from).map_err(|why| fail(rule.line, why))?);
            }
            for rdate in observance.properties_named("RDATE") {
                locals.extend(rdates(rdate).map_err(|why| fail(rdate.line, why))?);
            }
            // An onset happens at a wall-clock time read with the offset before it.
            let as_utc = |local: NaiveDateTime| {
                local - chrono::Duration::seconds(from.local_minus_utc().into())
            };
            onsets.extend(locals.into_iter().map(|local| (as_utc(local), from, to)));
        }
        onsets.sort_by_key(|(onset, _, _)| *onset);
        onsets.dedup_by_key(|(onset, _, _)| *onset);
        let initial = onsets
            .first()
            .map(|(_, from, _)| *from)
            .ok_or_else(|| fail(zone.line, "no STANDARD or DAYLIGHT block".to_owned()))?;
        let transitions = onsets
            .into_iter()
            .map(|(onset, _, to)| (onset, to))
            .collect();
        Ok(Self {
            tzid,
            names,
            transitions,
            initial,
        })
    }
}

/// A DTSTART/RDATE wall-clock value: observance times are local by definition, so a stray
/// `Z` is ignored and a DATE means its midnight.
fn wall_clock(prop: &ContentLine) -> Result<NaiveDateTime, String> {
    Ok(match date_or_time(&prop.value, prop.param("VALUE"))? {
        DateOrTime::Date(day) => day.and_time(NaiveTime::MIN),
        DateOrTime::DateTime { local, .. } => local,
    })
}

/// The comma-separated values of an RDATE (a PERIOD counts from its start).
fn rdates(prop: &ContentLine) -> Result<Vec<NaiveDateTime>, String> {
    let value_type = prop
        .param("VALUE")
        .filter(|v| v.eq_ignore_ascii_case("DATE"));
    prop.value
        .split(',')
        .map(|item| {
            let start = item.split('/').next().unwrap_or_default();
            match date_or_time(start, value_type)? {
                DateOrTime::Date(day) => Ok(day.and_time(NaiveTime::MIN)),
                DateOrTime::DateTime { local, .. } => Ok(local),
            }
        })
        .collect()
}

/// Expands an RRULE's onsets (wall-clock times) after `start`, up to [`HORIZON_YEAR`].
///
/// The rrule crate works on zoned instants; we hand it wall-clock times dressed as UTC so it
/// counts days and weekdays on the local calendar, which is what the rule describes. UNTIL is
/// a real UTC instant, so it is moved onto the same wall clock (+TZOFFSETFROM) first.
fn expand(
    rule: &str,
    start: NaiveDateTime,
    from: FixedOffset,
) -> Result<Vec<NaiveDateTime>, String> {
    // The rrule crate slices rule parts by byte position assuming ASCII; keep it to ASCII.
    if !rule.is_ascii() {
        return Err("the RRULE contains non-ASCII characters".to_owned());
    }
    let mut until = None;
    let mut parts = Vec::new();
    for part in rule.trim().split(';').filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("UNTIL") => {
                until = Some(match date_or_time(value, None)? {
                    DateOrTime::Date(day) => {
                        day.and_time(NaiveTime::MIN) + chrono::Duration::days(1)
                    }
                    DateOrTime::DateTime { local, utc: true } => {
                        local + chrono::Duration::seconds(from.local_minus_utc().into())
                    }
                    DateOrTime::DateTime { local, utc: false } => local,
                });
            }
            _ => parts.push(part),
        }
    }
    if until.is_some_and(|until| until < start) {
        return Ok(Vec::new());
    }
    let as_rrule_time = |t: NaiveDateTime| rrule::Tz::UTC.from_utc_datetime(&t);
    let mut parsed: rrule::RRule<rrule::Unvalidated> = parts
        .join(";")
        .parse()
        .map_err(|e| format!("cannot read the RRULE: {e}"))?;
    if let Some(until) = until {
        parsed = parsed.until(as_rrule_time(until));
    }
    let horizon = chrono::NaiveDate::from_ymd_opt(HORIZON_YEAR, 1, 1)
        .unwrap_or_default()
        .and_time(NaiveTime::MIN);
    let set = parsed
        .build(as_rrule_time(start))
        .map_err(|e| format!("invalid RRULE: {e}"))?
        .before(as_rrule_time(horizon));
    Ok(set
        .all(MAX_ONSETS_PER_RULE)
        .dates
        .into_iter()
        .map(|onset| onset.naive_utc())
        .collect())
}
