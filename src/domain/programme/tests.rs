use chrono::NaiveDate;
use chrono_tz::Tz;

use super::testing::{demo, programme, seed, talk, utc};
use super::*;

fn date(s: &str) -> NaiveDate {
    s.parse().expect("valid date in test")
}

#[test]
fn rooms_and_tracks_are_distinct_and_sorted_ignoring_case() {
    let mut a = talk("A", "Ann", "barn", "2026-04-25T16:00:00Z", 30);
    a.track = Some("Web".into());
    let mut b = talk("B", "Bob", "Atrium", "2026-04-25T17:00:00Z", 30);
    b.track = Some("data".into());
    let c = talk("C", "Cy", "Atrium", "2026-04-25T18:00:00Z", 30);
    let p = programme(Tz::UTC, vec![], vec![a, b, c]);

    assert_eq!(p.rooms(), ["Atrium", "barn"]);
    assert_eq!(p.tracks(), ["data", "Web"]);
    assert_eq!(p.find_room("ATRIUM"), Some("Atrium"));
    assert_eq!(p.find_room("Cellar"), None);
}

#[test]
fn a_talk_belongs_to_the_conference_local_date_not_the_utc_date() {
    // 22:45 UTC on the 25th is 15:45 in Los Angeles; 23:30 UTC on the 25th is already the
    // 26th in Sydney.
    let seed = seed();
    assert_eq!(seed.talk_day(0), Some(date("2026-04-25")));

    let sydney = programme(
        Tz::Australia__Sydney,
        vec![],
        vec![talk("Early", "Ann", "Hall", "2026-04-25T23:30:00Z", 30)],
    );
    assert_eq!(sydney.talk_day(0), Some(date("2026-04-26")));
    assert_eq!(sydney.programme_days(), [date("2026-04-26")]);
}

#[test]
fn a_talk_after_midnight_belongs_to_the_source_day_that_spans_it() {
    // Day of 2026-12-27 runs 11:00 to 05:00 the next morning (Berlin, UTC+1).
    let day = ProgrammeDay {
        date: date("2026-12-27"),
        start: utc("2026-12-27T10:00:00Z"),
        end: utc("2026-12-28T04:00:00Z"),
    };
    let late = talk("Night owls", "Ann", "Saal 1", "2026-12-28T00:00:00Z", 60);
    let p = programme(Tz::Europe__Berlin, vec![day], vec![late]);

    assert_eq!(p.talk_day(0), Some(date("2026-12-27")));
    assert_eq!(p.day_of(utc("2026-12-28T05:00:00Z")), date("2026-12-28"));
}

#[test]
fn speakers_are_gathered_across_talks_with_their_first_biography() {
    let mut first = talk("One", "José Núñez", "Hall", "2026-04-25T16:00:00Z", 30);
    let mut second = talk("Two", "jose nunez", "Hall", "2026-04-25T17:00:00Z", 30);
    second.speakers[0].biography = Some("Writes parsers.".into());
    first.speakers.push(crate::domain::model::SpeakerData {
        name: "Ann".to_owned(),
        ..Default::default()
    });
    let p = programme(Tz::UTC, vec![], vec![second, first]);

    let names: Vec<&str> = p.speakers().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Ann", "José Núñez"]);
    let jose = &p.speakers()[1];
    assert_eq!(jose.talks, [0, 1]);
    assert_eq!(jose.biography.as_deref(), Some("Writes parsers."));
}

#[test]
fn long_texts_and_unread_fields_live_beside_the_talks_and_come_back_whole() {
    let mut late = talk("Late", "Ann", "Hall", "2026-04-25T18:00:00Z", 30);
    late.abstract_text = Some("Ann's *abstract*, with ünïcode.".into());
    late.speakers[0].biography = Some("Ann writes.".into());
    late.speakers[0].source_id = Some("ANN".into());
    late.source_id = Some("uid-late".into());
    late.talk_type = Some("Talk".into());
    late.language = Some("en".into());
    let mut early = talk("Early", "Ann", "Hall", "2026-04-25T09:00:00Z", 30);
    early.description = Some("Only a description.".into());
    early.speakers[0].biography = Some("Ann writes.".into());
    let p = programme(Tz::UTC, vec![], vec![late.clone(), early.clone()]);

    assert!(p.talks.iter().all(|t| t.data.abstract_text.is_none()
        && t.data.description.is_none()
        && t.data.source_id.is_none()
        && t.data.speakers.iter().all(|s| s.biography.is_none())));
    assert_eq!(p.full_talk(0).map(|t| t.data), Some(early));
    assert_eq!(p.full_talk(1).map(|t| t.data), Some(late));
    assert_eq!(p.abstract_text(0), None);
    assert_eq!(p.description(0).as_deref(), Some("Only a description."));
    assert_eq!(p.biography(1, 0).as_deref(), Some("Ann writes."));
    assert_eq!(p.full_talk(2), None);
}

#[test]
fn talks_are_ordered_by_start_with_unscheduled_ones_last() {
    let mut unscheduled = talk("Later maybe", "Ann", "Hall", "2026-04-25T10:00:00Z", 30);
    unscheduled.slot = None;
    let late = talk("Late", "Bob", "Hall", "2026-04-25T18:00:00Z", 30);
    let early = talk("Early", "Cy", "Hall", "2026-04-25T09:00:00Z", 30);
    let p = programme(Tz::UTC, vec![], vec![unscheduled, late, early]);

    let titles: Vec<&str> = p.talks.iter().map(|t| t.data.title.as_str()).collect();
    assert_eq!(titles, ["Early", "Late", "Later maybe"]);
    assert_eq!(p.talk_day(2), None);
}

#[test]
fn the_demo_programme_spans_two_days_in_los_angeles() {
    let p = demo();
    assert_eq!(p.conference.time_zone, Tz::America__Los_Angeles);
    assert_eq!(p.programme_days(), [date("2026-04-25"), date("2026-04-26")]);
}
