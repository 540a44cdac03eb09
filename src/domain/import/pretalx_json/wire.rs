//! The schedule.json as it is written: typed, tolerant of unknown fields, absent fields and
//! `null`s, so real exports parse and a malformed one fails with serde's line and column.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::fields;
use crate::domain::model::SpeakerData;
use crate::domain::text::clean_line;

/// Reads `null` as the type's default (an empty list), as `#[serde(default)]` only covers
/// absent fields.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(expecting = "a pretalx/frab schedule object")]
pub(super) struct Root {
    pub(super) schedule: Option<ScheduleJson>,
}

#[derive(Deserialize)]
#[serde(expecting = "a schedule object")]
pub(super) struct ScheduleJson {
    pub(super) conference: Option<Conference>,
}

#[derive(Deserialize)]
#[serde(expecting = "a conference object")]
pub(super) struct Conference {
    pub(super) acronym: Option<String>,
    pub(super) title: Option<String>,
    pub(super) time_zone_name: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub(super) rooms: Vec<RoomInfo>,
    #[serde(default, deserialize_with = "null_default")]
    pub(super) days: Vec<Day>,
}

#[derive(Deserialize)]
#[serde(expecting = "a room object")]
pub(super) struct RoomInfo {
    pub(super) name: Option<String>,
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a day object")]
pub(super) struct Day {
    pub(super) date: Option<String>,
    pub(super) day_start: Option<String>,
    pub(super) day_end: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub(super) rooms: BTreeMap<String, Option<Vec<Talk>>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a talk object")]
pub(super) struct Talk {
    pub(super) guid: Option<Scalar>,
    pub(super) code: Option<Scalar>,
    pub(super) id: Option<Scalar>,
    pub(super) date: Option<String>,
    pub(super) start: Option<String>,
    pub(super) duration: Option<String>,
    pub(super) room: Option<String>,
    pub(super) title: Option<String>,
    pub(super) subtitle: Option<String>,
    pub(super) track: Option<String>,
    #[serde(rename = "type")]
    pub(super) talk_type: Option<String>,
    pub(super) language: Option<String>,
    #[serde(rename = "abstract")]
    pub(super) abstract_text: Option<String>,
    pub(super) description: Option<String>,
    pub(super) url: Option<String>,
    pub(super) status: Option<String>,
    pub(super) state: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub(super) persons: Vec<Person>,
}

#[derive(Deserialize)]
#[serde(expecting = "a person object")]
pub(super) struct Person {
    pub(super) code: Option<Scalar>,
    pub(super) id: Option<Scalar>,
    pub(super) public_name: Option<String>,
    pub(super) name: Option<String>,
    pub(super) full_name: Option<String>,
    pub(super) biography: Option<String>,
}

impl Person {
    pub(super) fn speaker(&self) -> Option<SpeakerData> {
        let name = [&self.public_name, &self.name, &self.full_name]
            .into_iter()
            .find_map(|v| v.as_deref().and_then(clean_line))?;
        Some(SpeakerData {
            source_id: [&self.code, &self.id]
                .into_iter()
                .find_map(|v| v.as_ref().and_then(Scalar::text)),
            name,
            biography: self.biography.as_deref().and_then(fields::rich_text),
        })
    }
}

/// An identifier written as a string or a number (`"id": 1234`, `"code": "GK99DE"`).
#[derive(Deserialize)]
#[serde(untagged, expecting = "a string or a number")]
pub(super) enum Scalar {
    Text(String),
    Number(serde_json::Number),
}

impl Scalar {
    pub(super) fn text(&self) -> Option<String> {
        match self {
            Self::Text(s) => clean_line(s),
            Self::Number(n) => Some(n.to_string()),
        }
    }
}
