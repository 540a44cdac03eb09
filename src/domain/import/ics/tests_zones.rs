//! Time resolution through VTIMEZONEs, zone names, UTC and the conference zone.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use super::parse;
use super::{lexer, tree, vtimezone::VTimeZone};
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{Slot, TalkData};
use crate::domain::time::{local_to_utc, ZoneRules};

const SEED: &str = include_str!("../../../../tests/fixtures/seed000-nbpy-pretalx.ics");
const SYDNEY: &str = include_str!("../../../../tests/fixtures/ics-sydney-aest.ics");
const MANILA: &str = include_str!("../../../../tests/fixtures/ics-manila-pst.ics");
const OUTLOOK: &str = include_str!("../../../../tests/fixtures/ics-outlook-w-europe.ics");

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn with_zone(zone: Option<Tz>) -> ImportOptions {
    ImportOptions {
        time_zone: zone,
        ..ImportOptions::default()
    }
}

fn talks(input: &str) -> Vec<TalkData> {
    parse(input, &ImportOptions::default()).unwrap().talks
}

fn slot(talk: &TalkData) -> (DateTime<Utc>, DateTime<Utc>) {
    let Slot { start, end, .. } = talk.slot.unwrap();
    (start, end)
}

/// The seed's VEVENT moved to another local start (and 25 minutes long).
fn seed_at(local_start: &str, local_end: &str) -> String {
    SEED.replace(
        "DTSTART;TZID=PST:20260425T154500",
        &format!("DTSTART;TZID=PST:{local_start}"),
    )
    .replace(
        "DTEND;TZID=PST:20260425T161000",
        &format!("DTEND;TZID=PST:{local_end}"),
    )
}

/// A calendar with one event whose DTSTART/DTEND lines are given.
fn one_event(calendar_props: &str, times: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//test//EN\n{calendar_props}BEGIN:VEVENT\n\
         UID:u1\nSUMMARY:Talk\n{times}\nEND:VEVENT\nEND:VCALENDAR\n"
    )
}

fn zone_of(input: &str) -> VTimeZone {
    let roots = tree::calendars(lexer::content_lines(input).unwrap()).unwrap();
    let block = roots[0].children_named("VTIMEZONE").next().unwrap();
    VTimeZone::from_component(block).unwrap()
}

/// Every hour of each day in `years` on which the clocks change, and noon on every other
/// day, resolved through the file's VTIMEZONE and through tzdb. With `skip_change_hours`,
/// 01:00-03:59 on change days are not compared: pretalx (vobject) writes onsets at 03:00, an
/// hour after the real 02:00 change, and we follow the file's rules as written.
fn assert_vtimezone_matches_tzdb(
    vtz: &VTimeZone,
    tz: Tz,
    years: std::ops::Range<i32>,
    skip_change_hours: bool,
) {
    let noon = |day: NaiveDate| ZoneRules::offset_at(&tz, day.and_hms_opt(12, 0, 0).unwrap());
    let mut day = NaiveDate::from_ymd_opt(years.start, 1, 1).unwrap();
    let mut compared = 0;
    while day.year() < years.end {
        let changes_today = noon(day.pred_opt().unwrap()) != noon(day.succ_opt().unwrap());
        let hours: Vec<u32> = if changes_today {
            (0..24).collect()
        } else {
            vec![12]
        };
        for hour in hours {
            if skip_change_hours && changes_today && (1..4).contains(&hour) {
                continue;
            }
            let local = day.and_hms_opt(hour, 30, 0).unwrap();
            assert_eq!(
                local_to_utc(vtz, local),
                local_to_utc(&tz, local),
                "at local {local}"
            );
            compared += 1;
        }
        day = day.succ_opt().unwrap();
    }
    assert!(compared > 365 * years.len());
}

#[test]
fn the_seed_vtimezone_agrees_with_los_angeles_every_hour_from_2001_to_2030() {
    assert_vtimezone_matches_tzdb(&zone_of(SEED), Tz::America__Los_Angeles, 2001..2031, true);
}

#[test]
fn a_pretalx_aest_vtimezone_agrees_with_sydney_every_hour_from_2002_to_2030() {
    assert_vtimezone_matches_tzdb(&zone_of(SYDNEY), Tz::Australia__Sydney, 2002..2031, false);
}

#[test]
fn an_outlook_vtimezone_from_1601_agrees_with_berlin_every_hour_from_1997_to_2030() {
    assert_vtimezone_matches_tzdb(&zone_of(OUTLOOK), Tz::Europe__Berlin, 1997..2031, false);
}

#[test]
fn a_talk_in_the_spring_forward_gap_uses_the_offset_from_before_the_gap() {
    let talk = &talks(&seed_at("20260308T023000", "20260308T030000"))[0];
    assert_eq!(slot(talk).0, utc("2026-03-08T10:30:00Z"));
}

#[test]
fn a_talk_in_the_fall_back_overlap_means_its_first_occurrence() {
    let talk = &talks(&seed_at("20261101T013000", "20261101T015500"))[0];
    assert_eq!(slot(talk).0, utc("2026-11-01T08:30:00Z"));
}

#[test]
fn a_los_angeles_evening_talk_lands_on_the_next_utc_date() {
    let talk = &talks(&seed_at("20260425T180000", "20260425T182500"))[0];
    assert_eq!(
        slot(talk),
        (utc("2026-04-26T01:00:00Z"), utc("2026-04-26T01:25:00Z"))
    );
}

#[test]
fn sydney_talks_use_standard_time_in_april_and_daylight_time_in_october() {
    let talks = talks(SYDNEY);
    // After the clocks went back on 5 April: +10, and a morning is the previous UTC date.
    assert_eq!(
        slot(&talks[0]),
        (utc("2026-04-09T23:00:00Z"), utc("2026-04-09T23:30:00Z"))
    );
    // After they went forward on 4 October: +11.
    assert_eq!(
        slot(&talks[1]),
        (utc("2026-10-14T22:00:00Z"), utc("2026-10-14T22:30:00Z"))
    );
    assert_eq!(talks[0].speakers[0].name, "Kim Nguyen");
}

#[test]
fn tzid_pst_with_a_manila_vtimezone_gives_manila_times_not_los_angeles_ones() {
    let schedule = parse(MANILA, &ImportOptions::default()).unwrap();
    let talk = &schedule.talks[0];
    assert_eq!(
        slot(talk),
        (utc("2026-02-21T02:00:00Z"), utc("2026-02-21T02:30:00Z"))
    );
    assert_eq!(talk.title, "Opening remarks");
    assert_eq!(schedule.time_zone, Some(Tz::Asia__Manila));
}

#[test]
fn the_reported_zone_is_the_iana_zone_behaving_like_the_events_vtimezone() {
    let sydney = parse(SYDNEY, &ImportOptions::default()).unwrap();
    assert_eq!(sydney.time_zone, Some(Tz::Australia__Sydney));
    let flagged = parse(SYDNEY, &with_zone(Some(Tz::Australia__Melbourne))).unwrap();
    assert_eq!(flagged.time_zone, Some(Tz::Australia__Melbourne));
}

#[test]
fn the_reported_zone_is_the_one_a_tzid_names_when_the_file_has_no_vtimezone() {
    let input = one_event(
        "",
        "DTSTART;TZID=\"Europe/Brussels\":20260207T093000\nDURATION:PT30M",
    );

    let schedule = parse(&input, &ImportOptions::default()).unwrap();

    assert_eq!(schedule.time_zone, Some(Tz::Europe__Brussels));
}

#[test]
fn an_outlook_tzid_resolves_with_and_without_its_vtimezone_block() {
    let with_block = talks(OUTLOOK);
    assert_eq!(
        slot(&with_block[0]),
        (utc("2026-07-01T08:00:00Z"), utc("2026-07-01T09:00:00Z"))
    );
    assert_eq!(with_block[0].title, "Async Rust in der Praxis");

    let start = OUTLOOK.find("BEGIN:VTIMEZONE").unwrap();
    let end = OUTLOOK.find("END:VTIMEZONE\r\n").unwrap() + "END:VTIMEZONE\r\n".len();
    let without_block = format!("{}{}", &OUTLOOK[..start], &OUTLOOK[end..]);
    assert!(!without_block.contains("VTIMEZONE"));
    assert_eq!(slot(&talks(&without_block)[0]), slot(&with_block[0]));
}

#[test]
fn a_quoted_iana_tzid_and_utc_times_resolve_without_any_vtimezone() {
    let input = one_event(
        "",
        "DTSTART;TZID=\"Europe/Brussels\":20260207T093000\nDTEND:20260207T090000Z",
    );
    assert_eq!(
        slot(&talks(&input)[0]),
        (utc("2026-02-07T08:30:00Z"), utc("2026-02-07T09:00:00Z"))
    );
}

#[test]
fn a_z_time_is_utc_even_with_a_tzid() {
    let input = one_event("", "DTSTART;TZID=Europe/Brussels:20260207T093000Z");
    assert_eq!(slot(&talks(&input)[0]).0, utc("2026-02-07T09:30:00Z"));
}

#[test]
fn floating_times_use_the_timezone_option_before_x_wr_timezone() {
    let with_header = one_event("X-WR-TIMEZONE:Europe/Berlin\n", "DTSTART:20260701T100000");
    let flagged = parse(&with_header, &with_zone(Some(Tz::America__New_York))).unwrap();
    assert_eq!(slot(&flagged.talks[0]).0, utc("2026-07-01T14:00:00Z"));
    // The file's own zone is still what it reports as the conference zone.
    assert_eq!(flagged.time_zone, Some(Tz::Europe__Berlin));

    let from_header = parse(&with_header, &with_zone(None)).unwrap();
    assert_eq!(slot(&from_header.talks[0]).0, utc("2026-07-01T08:00:00Z"));

    let bare = one_event("", "DTSTART:20260701T100000");
    let from_flag = parse(&bare, &with_zone(Some(Tz::Europe__Lisbon))).unwrap();
    assert_eq!(slot(&from_flag.talks[0]).0, utc("2026-07-01T09:00:00Z"));
    assert_eq!(from_flag.time_zone, Some(Tz::Europe__Lisbon));
}

#[test]
fn the_stored_conference_zone_reads_floating_times_only_when_the_file_names_no_zone() {
    let stored = ImportOptions {
        stored_time_zone: Some(Tz::UTC),
        ..ImportOptions::default()
    };
    let with_header = one_event("X-WR-TIMEZONE:Europe/Berlin\n", "DTSTART:20260701T100000");
    let bare = one_event("", "DTSTART:20260701T100000");

    let from_header = parse(&with_header, &stored).unwrap();
    let from_stored = parse(&bare, &stored).unwrap();

    assert_eq!(slot(&from_header.talks[0]).0, utc("2026-07-01T08:00:00Z"));
    assert_eq!(from_header.time_zone, Some(Tz::Europe__Berlin));
    assert_eq!(slot(&from_stored.talks[0]).0, utc("2026-07-01T10:00:00Z"));
}

#[test]
fn floating_times_without_any_zone_are_an_error_asking_for_timezone() {
    let err = parse(&one_event("", "DTSTART:20260701T100000"), &with_zone(None)).unwrap_err();
    match &err {
        ImportError::AtLine { line, message } => {
            assert_eq!(*line, 7);
            assert!(
                message.contains("floating") && message.contains("--timezone"),
                "{message}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn an_unknown_tzid_without_a_vtimezone_names_the_line_and_the_tzid() {
    let err = parse(
        &one_event("", "DTSTART;TZID=PST:20260701T100000"),
        &with_zone(None),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("line 7: DTSTART: unknown time zone TZID=\"PST\""),
        "{err}"
    );
}

#[test]
fn durations_set_the_end_and_days_follow_the_wall_clock_across_dst() {
    let short = one_event("", "DTSTART:20260425T224500Z\nDURATION:PT25M");
    assert_eq!(slot(&talks(&short)[0]).1, utc("2026-04-25T23:10:00Z"));
    let long = one_event("", "DTSTART:20260425T100000Z\nDURATION:P1DT2H");
    assert_eq!(slot(&talks(&long)[0]).1, utc("2026-04-26T12:00:00Z"));
    let mixed = one_event("", "DTSTART:20260425T100000Z\nDURATION:PT1H30M");
    assert_eq!(slot(&talks(&mixed)[0]).1, utc("2026-04-25T11:30:00Z"));
    // 7 March 20:00 PST + P1D = 8 March 20:00 PDT: 23 hours later.
    let across = seed_at("20260307T200000", "X").replace("DTEND;TZID=PST:X", "DURATION:P1D");
    assert_eq!(
        slot(&talks(&across)[0]),
        (utc("2026-03-08T04:00:00Z"), utc("2026-03-09T03:00:00Z"))
    );
    let none = one_event("", "DTSTART:20260425T100000Z");
    assert_eq!(slot(&talks(&none)[0]).1, utc("2026-04-25T10:00:00Z"));
}

#[test]
fn a_negative_duration_or_an_end_before_the_start_is_an_error() {
    let negative = one_event("", "DTSTART:20260425T100000Z\nDURATION:-PT5M");
    assert_eq!(
        parse(&negative, &with_zone(None)).unwrap_err().to_string(),
        "line 8: DURATION: the duration \"-PT5M\" is negative"
    );
    let backwards = one_event("", "DTSTART:20260425T100000Z\nDTEND:20260425T090000Z");
    assert_eq!(
        parse(&backwards, &with_zone(None)).unwrap_err().to_string(),
        "line 8: the event ends before it starts"
    );
}

#[test]
fn all_day_entries_span_conference_local_midnights_and_are_not_talks() {
    let input = one_event(
        "X-WR-TIMEZONE:America/Los_Angeles\n",
        "DTSTART;VALUE=DATE:20260425",
    );
    let talk = &talks(&input)[0];
    assert_eq!(
        talk.slot,
        Some(Slot {
            start: utc("2026-04-25T07:00:00Z"),
            end: utc("2026-04-26T07:00:00Z"),
            all_day: true
        })
    );
    assert_eq!(talk.kind, crate::domain::model::TalkKind::Other);

    let two_days = one_event("", "DTSTART:20260425\nDTEND:20260427");
    let sydney = parse(&two_days, &with_zone(Some(Tz::Australia__Sydney))).unwrap();
    assert_eq!(
        slot(&sydney.talks[0]),
        (utc("2026-04-24T14:00:00Z"), utc("2026-04-26T14:00:00Z"))
    );
}

#[test]
fn an_all_day_entry_without_a_known_zone_is_an_error() {
    let err = parse(
        &one_event("", "DTSTART;VALUE=DATE:20260425"),
        &with_zone(None),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("line 7: DTSTART is an all-day date") && text.contains("--timezone"),
        "{text}"
    );
}

#[test]
fn a_bad_vtimezone_is_an_error_even_when_unused() {
    let broken = SEED.replace(
        "TZOFFSETTO:-0700\nEND:DAYLIGHT\nEND:VTIMEZONE",
        "TZOFFSETTO:soon\nEND:DAYLIGHT\nEND:VTIMEZONE",
    );
    assert_ne!(broken, SEED);
    assert_eq!(
        parse(&broken, &with_zone(None)).unwrap_err().to_string(),
        "line 32: VTIMEZONE \"PST\": \"soon\" is not a UTC offset like -0800"
    );
}
