use chrono::Duration;

use super::*;
use crate::domain::model::TalkKind;
use crate::domain::programme::testing::{programme, talk, utc};

/// Barn: Rust 09:00–09:30, Lunch (a break) 12:00–13:00, a cancelled talk 14:00.
/// Loft: Web 09:00–09:30. All in Los Angeles.
fn day() -> Programme {
    let mut lunch = talk("Lunch", "", "Barn", "2026-06-01T19:00:00Z", 60);
    lunch.kind = TalkKind::Other;
    lunch.speakers.clear();
    let mut gone = talk("Gone", "Bob", "Barn", "2026-06-01T21:00:00Z", 30);
    gone.status = TalkStatus::Cancelled;
    let mut pair = talk("Pairing", "Ann", "Barn", "2026-06-01T16:00:00Z", 30);
    pair.speakers.push(crate::domain::model::SpeakerData {
        name: "Cy".into(),
        ..Default::default()
    });
    programme(
        chrono_tz::America::Los_Angeles,
        vec![],
        vec![
            pair,
            talk("Web", "Dee", "Loft", "2026-06-01T16:00:00Z", 30),
            lunch,
            gone,
        ],
    )
}

#[test]
fn a_room_shows_the_talk_on_and_the_next_one_with_speakers() {
    let day = day();
    let at = utc("2026-06-01T16:10:00Z");
    let screen = screen(&day, Some("barn"), at);
    assert_eq!(screen.rooms.len(), 1);
    let barn = &screen.rooms[0];
    assert_eq!(barn.room, "Barn", "the programme's spelling");
    let now = barn.now.as_ref().expect("on now");
    assert_eq!(
        (now.title.as_str(), now.speakers.as_str()),
        ("Pairing", "Ann, Cy")
    );
    assert_eq!(barn.next.as_ref().map(|n| n.title.as_str()), Some("Lunch"));
    assert_eq!(screen.clock, ClockFormat::Twelve);
    assert_eq!(screen.clock.time(now.end, screen.zone), "9:30 AM");
}

#[test]
fn a_cancelled_talk_is_shown_cancelled_and_the_screen_ends_with_the_day() {
    let day = day();
    let after_lunch = screen(&day, Some("Barn"), utc("2026-06-01T20:30:00Z"));
    let next = after_lunch.rooms[0].next.as_ref().expect("next");
    assert_eq!((next.title.as_str(), next.cancelled), ("Gone", true));
    assert!(after_lunch.rooms[0].now.is_none());
    let evening = screen(&day, Some("Barn"), utc("2026-06-02T03:00:00Z"));
    assert_eq!(evening.rooms[0].now, None);
    assert_eq!(evening.rooms[0].next, None);
    let unknown = screen(&day, Some("Attic"), utc("2026-06-01T16:10:00Z"));
    assert_eq!(unknown.rooms[0].room, "Attic");
    assert_eq!(unknown.rooms[0].now, None);
}

#[test]
fn every_room_with_something_on_or_ahead_is_listed() {
    let day = day();
    let morning = screen(&day, None, utc("2026-06-01T16:10:00Z"));
    let rooms: Vec<&str> = morning.rooms.iter().map(|r| r.room.as_str()).collect();
    assert_eq!(rooms, ["Barn", "Loft"]);
    let afternoon = screen(&day, None, utc("2026-06-01T17:00:00Z"));
    let rooms: Vec<&str> = afternoon.rooms.iter().map(|r| r.room.as_str()).collect();
    assert_eq!(rooms, ["Barn"], "Loft has nothing more");
}

#[test]
fn the_next_boundary_is_the_nearest_start_or_end_in_the_room() {
    let day = day();
    let at = utc("2026-06-01T16:10:00Z");
    assert_eq!(
        next_boundary(&day, Some("Barn"), at),
        Some(utc("2026-06-01T16:30:00Z"))
    );
    let later = utc("2026-06-01T16:30:00Z");
    assert_eq!(
        next_boundary(&day, Some("barn"), later),
        Some(utc("2026-06-01T19:00:00Z"))
    );
    assert_eq!(next_boundary(&day, None, at + Duration::days(1)), None);
}

#[test]
fn the_clock_follows_the_region_of_the_zone() {
    let at = utc("2026-06-01T16:05:00Z");
    assert_eq!(
        ClockFormat::of_zone(chrono_tz::Europe::Berlin),
        ClockFormat::TwentyFour
    );
    assert_eq!(
        ClockFormat::TwentyFour.time(at, chrono_tz::Europe::Berlin),
        "18:05"
    );
    assert_eq!(
        ClockFormat::of_zone(chrono_tz::America::Sao_Paulo),
        ClockFormat::TwentyFour
    );
    assert_eq!(
        ClockFormat::of_zone(chrono_tz::Australia::Sydney),
        ClockFormat::Twelve
    );
    assert_eq!(
        ClockFormat::Twelve.time(at, chrono_tz::America::New_York),
        "12:05 PM"
    );
}
