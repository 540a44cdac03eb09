use chrono_tz::Tz;

use super::*;
use crate::domain::programme::testing::{demo, from_source, programme, talk, utc};

fn schedule(day: Option<&str>, room: Option<&str>) -> Command {
    Command::Schedule {
        day: day.map(str::to_owned),
        room: room.map(str::to_owned),
    }
}

/// A 36C3-style day: 2026-12-27 runs from 11:00 to 05:00 the next morning (Berlin).
const NIGHT_JSON: &str = r#"{"schedule": {"conference": {
  "acronym": "night", "title": "Night Conf", "time_zone_name": "Europe/Berlin",
  "days": [{"index": 1, "date": "2026-12-27",
    "day_start": "2026-12-27T11:00:00+01:00", "day_end": "2026-12-28T05:00:00+01:00",
    "rooms": {"Saal 1": [
      {"guid": "a1", "date": "2026-12-27T21:00:00+01:00", "start": "21:00", "duration": "01:00",
       "room": "Saal 1", "title": "Evening Talk", "persons": [{"name": "Ann"}]},
      {"guid": "a2", "date": "2026-12-28T01:00:00+01:00", "start": "01:00", "duration": "00:45",
       "room": "Saal 1", "title": "After Midnight", "persons": [{"name": "Bob"}]}
    ]}}]}}}"#;

#[test]
fn a_talk_at_one_in_the_morning_is_listed_under_the_evening_before() {
    let p = from_source("night", NIGHT_JSON);

    let evening = answer(
        &p,
        utc("2026-12-27T12:00:00Z"),
        &schedule(Some("2026-12-27"), None),
    );
    let morning = answer(
        &p,
        utc("2026-12-27T12:00:00Z"),
        &schedule(Some("2026-12-28"), None),
    );

    assert_eq!(
        content(&evening),
        "**Night Conf: Sunday 27 December**\n\
         <t:1798401600:t>–<t:1798405200:t> **Evening Talk** — Ann · Saal 1\n\
         <t:1798416000:t>–<t:1798418700:t> **After Midnight** — Bob · Saal 1"
    );
    assert_eq!(
        content(&morning),
        "Nothing is scheduled on Monday 28 December. Programme days: Sunday 27 December."
    );
}

#[test]
fn a_sydney_morning_talk_is_on_the_local_day_not_the_utc_one() {
    // 09:30 AEST on Sunday 26 April is 23:30 UTC on Saturday 25 April.
    let p = programme(
        Tz::Australia__Sydney,
        vec![],
        vec![talk(
            "Harbour Talk",
            "Ann",
            "Hall",
            "2026-04-25T23:30:00Z",
            30,
        )],
    );
    let during = utc("2026-04-26T00:00:00Z");

    let by_default = answer(&p, during, &schedule(None, None));
    let by_weekday = answer(&p, during, &schedule(Some("sunday"), None));
    let by_utc_date = answer(&p, during, &schedule(Some("2026-04-25"), None));

    let expected = "**Test Conf: Sunday 26 April**\n\
                    <t:1777159800:t>–<t:1777161600:t> **Harbour Talk** — Ann · Hall";
    assert_eq!(content(&by_default), expected);
    assert_eq!(content(&by_weekday), expected);
    assert!(content(&by_utc_date).starts_with("Nothing is scheduled on Saturday 25 April."));
}

#[test]
fn the_schedule_defaults_to_the_first_day_before_the_conference_and_marks_cancellations() {
    let reply = answer(
        &demo(),
        utc("2026-04-01T00:00:00Z"),
        &schedule(None, Some("loft")),
    );

    assert_eq!(reply.visibility, Visibility::Ephemeral);
    assert_eq!(
        content(&reply),
        "**Demo Conf 2026: Saturday 25 April in Loft**\n\
         <t:1777137300:t>–<t:1777139100:t> **Flask for Fun and Profit** — Armin Ronacher\n\
         <t:1777148100:t>–<t:1777150800:t> **\"Good Enough\" IS Good Enough!** — Alex Martelli\n\
         <t:1777159800:t>–<t:1777161600:t> ~~**What to do when your data is large, but not \
         big**~~ (cancelled) — Dillon Niederhut"
    );
}

#[test]
fn today_and_tomorrow_are_conference_local_days() {
    // 23:00 PDT on Saturday is already Sunday in UTC.
    let late_saturday = utc("2026-04-26T06:00:00Z");

    let today = answer(&demo(), late_saturday, &schedule(Some("today"), None));
    let tomorrow = answer(&demo(), late_saturday, &schedule(Some("Tomorrow"), None));

    assert!(today.messages[0]
        .content
        .starts_with("**Demo Conf 2026: Saturday 25 April**"));
    assert!(tomorrow.messages[0]
        .content
        .starts_with("**Demo Conf 2026: Sunday 26 April**"));
}

#[test]
fn an_unreadable_day_is_explained_with_the_programme_days() {
    let reply = answer(
        &demo(),
        utc("2026-04-25T17:00:00Z"),
        &schedule(Some("someday"), None),
    );

    assert_eq!(
        content(&reply),
        "I don't know the day “someday”: use a date like 2026-04-25, a weekday such as \
         saturday, `today` or `tomorrow`. Programme days: Saturday 25 April, Sunday 26 April."
    );
}

#[test]
fn two_hundred_talks_in_a_day_are_paged_into_messages_within_limits() {
    let talks = (0..200)
        .map(|i| {
            let start = format!("2026-04-25T{:02}:{:02}:00Z", 8 + i / 20, (i % 20) * 3);
            talk(
                &format!("Talk number {i} about a rather long and winding subject"),
                &format!("Speaker {i}"),
                &format!("Room {}", i % 7),
                &start,
                25,
            )
        })
        .collect();
    let p = programme(Tz::UTC, vec![], talks);

    let reply = answer(&p, utc("2026-04-25T07:00:00Z"), &schedule(None, None));

    assert_within_limits(&reply);
    assert!(reply.messages.len() > 3, "{}", reply.messages.len());
    let all: String = reply
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let listed = (0..200)
        .filter(|i| all.contains(&format!("Talk number {i} about")))
        .count();
    if listed < 200 {
        assert!(
            all.ends_with(&format!(
                "… and {} more: choose a room (`room:`) to see them all.",
                200 - listed
            )),
            "{all}"
        );
    }
    // Every line is whole: no talk line is split across two messages.
    for message in &reply.messages {
        for line in message.content.lines() {
            assert!(
                line.starts_with("**") || line.starts_with("<t:") || line.starts_with('…'),
                "{line}"
            );
        }
    }
}
