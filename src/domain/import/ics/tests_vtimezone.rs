//! VTIMEZONE rules: eras, UNTIL, RDATE, gaps and overlaps, broken and hostile blocks.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::lexer::content_lines;
use super::tree::calendars;
use super::vtimezone::{zones_of, VTimeZone};
use crate::domain::import::ImportError;
use crate::domain::time::local_to_utc;

fn zone(body: &str) -> Result<VTimeZone, ImportError> {
    let text = format!("BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\n{body}\nEND:VTIMEZONE\nEND:VCALENDAR\n");
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
    let input = text(64);
    let roots = calendars(content_lines(&input).unwrap()).unwrap();
    assert_eq!(zones_of(&roots[0]).unwrap().len(), 64);
    let input = text(65);
    let roots = calendars(content_lines(&input).unwrap()).unwrap();
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
