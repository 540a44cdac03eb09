//! Programmes for unit tests: from the bundled fixtures, or built talk by talk.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::domain::import::{self, ImportOptions};
use crate::domain::model::{
    Conference, ConferenceSlug, ProgrammeDay, Slot, SpeakerData, StoredTalk, TalkData, TalkId,
};
use crate::domain::programme::Programme;

/// The product owner's pretalx export: one talk, "Python as Orchestrator…", Barn, 15:45 PDT.
pub const SEED_ICS: &str = include_str!("../../../tests/fixtures/seed000-nbpy-pretalx.ics");
/// The bundled demo conference (two days in America/Los_Angeles).
pub const DEMO_ICS: &str = include_str!("../../cli/demo/schedule.ics");

/// A UTC instant from RFC 3339.
pub fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid RFC 3339 in test")
}

/// A conference named after its slug in `zone`.
pub fn conference(slug: &str, zone: Tz) -> Conference {
    Conference {
        slug: ConferenceSlug::parse(slug).expect("slug"),
        name: format!("Conf {slug}"),
        time_zone: zone,
        source_url: None,
    }
}

/// Imports `source` as the store would keep it: ids 1, 2, ... in file order; the file's zone
/// (or Los Angeles).
pub fn from_source(slug: &str, source: &str) -> Programme {
    let schedule =
        import::parse(source.as_bytes(), None, &ImportOptions::default()).expect("fixture parses");
    let zone = schedule.time_zone.unwrap_or(Tz::America__Los_Angeles);
    let talks = schedule
        .talks
        .into_iter()
        .enumerate()
        .map(|(i, data)| stored(i, data))
        .collect();
    let mut conference = conference(slug, zone);
    if let Some(name) = schedule.name {
        conference.name = name;
    }
    Programme::new(conference, schedule.days, talks)
}

/// The seed programme (`nbpy-2026`).
pub fn seed() -> Programme {
    from_source("nbpy-2026", SEED_ICS)
}

/// The demo programme (`demo-conf`).
pub fn demo() -> Programme {
    from_source("demo-conf", DEMO_ICS)
}

/// A stored talk with id `index + 1`.
pub fn stored(index: usize, data: TalkData) -> StoredTalk {
    StoredTalk {
        id: TalkId(i64::try_from(index).expect("small") + 1),
        schedule_version: 1,
        data,
    }
}

/// A confirmed talk by one speaker in `room` from `start` for `minutes`.
pub fn talk(title: &str, speaker: &str, room: &str, start: &str, minutes: i64) -> TalkData {
    let start = utc(start);
    TalkData {
        title: title.to_owned(),
        speakers: vec![SpeakerData {
            name: speaker.to_owned(),
            ..SpeakerData::default()
        }],
        room: Some(room.into()),
        slot: Some(Slot {
            start,
            end: start + Duration::minutes(minutes),
            all_day: false,
        }),
        ..TalkData::default()
    }
}

/// A programme of the given talks (ids in order) in `zone`.
pub fn programme(zone: Tz, days: Vec<ProgrammeDay>, talks: Vec<TalkData>) -> Programme {
    let talks = talks
        .into_iter()
        .enumerate()
        .map(|(i, d)| stored(i, d))
        .collect();
    let mut conference = conference("test-conf", zone);
    conference.name = "Test Conf".to_owned();
    Programme::new(conference, days, talks)
}
