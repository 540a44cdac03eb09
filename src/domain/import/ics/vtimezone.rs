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

#[cfg(test)]
mod tests {
    use super::super::lexer::content_lines;
    use super::super::tree::calendars;
    use super::*;
    use crate::domain::time::local_to_utc;
    use chrono::{DateTime, Utc};

    fn zone(body: &str) -> Result<VTimeZone, ImportError> {
        let text =
            format!("BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\n{body}\nEND:VTIMEZONE\nEND:VCALENDAR\n");
        let roots = calendars(content_lines(&text)?)?;
        VTimeZone::from_component(&roots[0].children[0])
    }

    fn resolve(zone: &VTimeZone, local: &str) -> DateTime<Utc> {
        let local = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
        local_to_utc(zone, local)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const SEED: &str = include_str!("../../../../tests/fixtures/seed000-nbpy-pretalx.ics");

    fn seed_zone() -> VTimeZone {
        let roots = calendars(content_lines(SEED).unwrap()).unwrap();
        let block = roots[0].children_named("VTIMEZONE").next().unwrap();
        VTimeZone::from_component(block).unwrap()
    }

    #[test]
    fn the_seed_pst_rules_follow_both_eras_of_us_daylight_saving() {
        let pst = seed_zone();
        assert_eq!(pst.tzid, "PST");
        // 2006 rules: first Sunday of April to last Sunday of October.
        assert_eq!(
            resolve(&pst, "2006-04-01 12:00"),
            utc("2006-04-01T20:00:00Z")
        );
        assert_eq!(
            resolve(&pst, "2006-04-03 12:00"),
            utc("2006-04-03T19:00:00Z")
        );
        assert_eq!(
            resolve(&pst, "2006-10-30 12:00"),
            utc("2006-10-30T20:00:00Z")
        );
        // 2007 onwards: second Sunday of March to first Sunday of November.
        assert_eq!(
            resolve(&pst, "2007-03-12 12:00"),
            utc("2007-03-12T19:00:00Z")
        );
        assert_eq!(
            resolve(&pst, "2026-04-25 15:45"),
            utc("2026-04-25T22:45:00Z")
        );
        assert_eq!(
            resolve(&pst, "2026-11-02 12:00"),
            utc("2026-11-02T20:00:00Z")
        );
    }

    #[test]
    fn a_time_in_the_spring_gap_uses_the_offset_from_before_it() {
        assert_eq!(
            resolve(&seed_zone(), "2026-03-08 02:30"),
            utc("2026-03-08T10:30:00Z")
        );
    }

    #[test]
    fn a_time_in_the_autumn_overlap_means_its_first_occurrence() {
        assert_eq!(
            resolve(&seed_zone(), "2026-11-01 01:30"),
            utc("2026-11-01T08:30:00Z")
        );
    }

    #[test]
    fn until_is_compared_as_a_utc_instant_east_of_greenwich() {
        // UNTIL is exactly the 2020 daylight onset in UTC (02:00 local at +10 = 16:00Z the day
        // before): that onset still happens, the 2021 one does not.
        let z = zone(
            "TZID:X\nBEGIN:STANDARD\nDTSTART:20001201T030000\nTZOFFSETFROM:+1100\nTZOFFSETTO:+1000\n\
             RRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=1\nEND:STANDARD\nBEGIN:DAYLIGHT\n\
             DTSTART:20190601T020000\nTZOFFSETFROM:+1000\nTZOFFSETTO:+1100\n\
             RRULE:FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=1;UNTIL=20200531T160000Z\nEND:DAYLIGHT",
        )
        .unwrap();
        assert_eq!(resolve(&z, "2020-07-01 12:00"), utc("2020-07-01T01:00:00Z"));
        assert_eq!(resolve(&z, "2021-07-01 12:00"), utc("2021-07-01T02:00:00Z"));
    }

    #[test]
    fn rdates_and_single_onsets_switch_offsets_and_the_first_from_offset_applies_before() {
        let z_rdate = zone(
            "TZID:Y\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0000\n\
             RDATE:20300101T000000,20400101T000000\nEND:STANDARD\nBEGIN:DAYLIGHT\n\
             DTSTART:20250101T000000\nTZOFFSETFROM:+0000\nTZOFFSETTO:+0200\nEND:DAYLIGHT",
        )
        .unwrap();
        assert_eq!(
            resolve(&z_rdate, "2026-06-01 12:00"),
            utc("2026-06-01T10:00:00Z")
        );
        assert_eq!(
            resolve(&z_rdate, "2031-06-01 12:00"),
            utc("2031-06-01T12:00:00Z")
        );
        assert_eq!(
            resolve(&z_rdate, "1960-06-01 12:00"),
            utc("1960-06-01T11:00:00Z")
        );
    }

    #[test]
    fn odd_rules_and_extreme_years_end_quickly_without_panicking() {
        let started = std::time::Instant::now();
        let rules = [
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=SECONDLY",
            "FREQ=YEARLY;INTERVAL=0",
            "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU",
            "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10;COUNT=4000000000",
            "FREQ=YEARLY;UNTIL=99991231",
        ];
        for rule in rules {
            for start in ["00000101T000000", "99991231T230000", "16010101T000000"] {
                let _ = zone(&format!(
                    "TZID:Z\nBEGIN:STANDARD\nDTSTART:{start}\nTZOFFSETFROM:+0100\n\
                     TZOFFSETTO:+0000\nRRULE:{rule}\nEND:STANDARD"
                ));
            }
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_calendar_with_more_zone_rules_than_any_real_one_is_refused() {
        let block = "BEGIN:VTIMEZONE\nTZID:A\nBEGIN:STANDARD\nDTSTART:20000101T000000\n\
                     TZOFFSETFROM:+0100\nTZOFFSETTO:+0000\nRRULE:FREQ=YEARLY\nEND:STANDARD\n\
                     END:VTIMEZONE\n";
        let text = |n: usize| format!("BEGIN:VCALENDAR\n{}END:VCALENDAR\n", block.repeat(n));
        let roots = calendars(content_lines(&text(64)).unwrap()).unwrap();
        assert_eq!(zones_of(&roots[0]).unwrap().len(), 64);
        let roots = calendars(content_lines(&text(65)).unwrap()).unwrap();
        assert_eq!(
            zones_of(&roots[0]).unwrap_err(),
            ImportError::at_line(64 * 9 + 8, "more than 64 RRULEs in VTIMEZONE blocks")
        );
    }

    #[test]
    fn a_broken_vtimezone_names_the_offending_line_and_tzid() {
        let err = zone("TZID:PST\nBEGIN:STANDARD\nDTSTART:20071104T020000\nTZOFFSETFROM:-0700\nTZOFFSETTO:8h\nEND:STANDARD").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 7: VTIMEZONE \"PST\": \"8h\" is not a UTC offset like -0800"
        );
        let err = zone("TZID:PST\nBEGIN:DAYLIGHT\nDTSTART:20070311T020000\nTZOFFSETFROM:-0800\nTZOFFSETTO:-0700\nRRULE:FREQ=SOMETIMES\nEND:DAYLIGHT").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 8: VTIMEZONE \"PST\": cannot read the RRULE"),
            "{err}"
        );
        assert_eq!(
            zone("TZID:Q").unwrap_err().to_string(),
            "line 2: VTIMEZONE \"Q\": no STANDARD or DAYLIGHT block"
        );
        assert_eq!(
            zone("X-A:1").unwrap_err().to_string(),
            "line 2: VTIMEZONE without a TZID"
        );
        assert!(zone("TZID:R\nBEGIN:DAYLIGHT\nDTSTART:20070311T020000\nTZOFFSETFROM:-0800\nTZOFFSETTO:-0700\nRRULE:FREQ=YEARLY;BYDAY=2Sé\nEND:DAYLIGHT").is_err());
    }
}
