//! pretalx's schedule.json, written the way pretalx writes it.

use chrono::Duration;
use serde::Serialize;
use serde_json::{json, Value};

use super::generate::{Conference, Talk};
use super::render::{at, hh_mm, room_name, talk_url, with_offset, HOST};

/// pretalx's schedule.json (the shape of tests/fixtures/pretalx-anyconf.json), its keys in
/// pretalx's order: the conference's zone and rooms before its days, each day's date before
/// its rooms (a `serde_json::Value` would sort them, putting `days` first).
pub fn json(conf: &Conference) -> String {
    let zone = conf.zone;
    let days: Vec<JsonDay> = conf
        .days
        .iter()
        .enumerate()
        .map(|(d, date)| {
            let mut rooms = serde_json::Map::new();
            for (r, room) in conf.rooms.iter().enumerate() {
                let talks: Vec<Value> = conf
                    .talks
                    .iter()
                    .filter(|t| t.day == d && t.room == r)
                    .map(|t| json_talk(conf, t))
                    .collect();
                if !talks.is_empty() {
                    rooms.insert(room.clone(), Value::Array(talks));
                }
            }
            JsonDay {
                index: d + 1,
                date: date.to_string(),
                day_start: with_offset(zone, at(*date, 4, 0)),
                day_end: with_offset(zone, at(*date + Duration::days(1), 3, 59)),
                rooms,
            }
        })
        .collect();
    let root = JsonRoot {
        schema: "https://c3voc.de/schedule/schema.json",
        generator: json!({"name": "pretalx", "version": "2024.3.1"}),
        schedule: JsonSchedule {
            version: "1.0",
            base_url: format!("https://{HOST}/{}/schedule/", conf.acronym),
            conference: JsonConference {
                acronym: &conf.acronym,
                title: &conf.title,
                start: conf.days.first().map(ToString::to_string),
                end: conf.days.last().map(ToString::to_string),
                days_count: conf.days.len(),
                timeslot_duration: "00:05",
                time_zone_name: zone.name(),
                colors: json!({"primary": "#3aa57c"}),
                rooms: conf
                    .rooms
                    .iter()
                    .map(|r| json!({"name": r, "guid": null, "description": null, "capacity": 200}))
                    .collect(),
                tracks: super::words::TRACKS
                    .iter()
                    .map(|t| json!({"name": t, "slug": null, "color": "#2185d0"}))
                    .collect(),
                days,
            },
        },
    };
    serde_json::to_string_pretty(&root).expect("a generated schedule serialises")
}

#[derive(Serialize)]
struct JsonRoot<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    generator: Value,
    schedule: JsonSchedule<'a>,
}

#[derive(Serialize)]
struct JsonSchedule<'a> {
    version: &'static str,
    base_url: String,
    conference: JsonConference<'a>,
}

#[derive(Serialize)]
struct JsonConference<'a> {
    acronym: &'a str,
    title: &'a str,
    start: Option<String>,
    end: Option<String>,
    #[serde(rename = "daysCount")]
    days_count: usize,
    timeslot_duration: &'static str,
    time_zone_name: &'static str,
    colors: Value,
    rooms: Vec<Value>,
    tracks: Vec<Value>,
    days: Vec<JsonDay>,
}

#[derive(Serialize)]
struct JsonDay {
    index: usize,
    date: String,
    day_start: String,
    day_end: String,
    rooms: serde_json::Map<String, Value>,
}

fn json_talk(conf: &Conference, talk: &Talk) -> Value {
    let persons: Vec<Value> = talk
        .speakers
        .iter()
        .filter_map(|&p| conf.people.get(p))
        .map(|p| {
            json!({
                "id": p.id, "code": p.code, "public_name": p.name,
                "biography": p.bio, "answers": []
            })
        })
        .collect();
    json!({
        "id": talk.id,
        "guid": talk.guid,
        "code": talk.code,
        "logo": null,
        "date": with_offset(conf.zone, talk.start),
        "start": talk.start.format("%H:%M").to_string(),
        "duration": hh_mm(talk.minutes),
        "room": room_name(conf, talk),
        "slug": format!("{}-{}-{}", conf.acronym, talk.id, talk.code.to_lowercase()),
        "url": talk_url(conf, talk),
        "title": talk.title,
        "subtitle": "",
        "track": talk.track,
        "type": talk.talk_type,
        "language": talk.language,
        "abstract": talk.abstract_text,
        "description": talk.summary,
        "recording_license": "",
        "do_not_record": false,
        "persons": persons,
        "links": [],
        "feedback_url": format!("{}feedback/", talk_url(conf, talk)),
        "origin_url": talk_url(conf, talk),
        "attachments": [],
        "answers": [],
    })
}
