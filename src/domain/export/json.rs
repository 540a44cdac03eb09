//! The JSON export: an array of talks with stable ids, UTC instants and plain-text fields.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::domain::model::StoredTalk;

/// One exported talk.
#[derive(Debug, Serialize)]
pub struct ExportedTalk<'a> {
    /// The source's stable id (UID, guid, code), or `confbot-talk-<n>` for catalogue entries.
    pub id: String,
    pub title: &'a str,
    pub subtitle: Option<&'a str>,
    pub speakers: Vec<&'a str>,
    pub room: Option<&'a str>,
    pub track: Option<&'a str>,
    pub level: Option<&'a str>,
    #[serde(rename = "type")]
    pub talk_type: Option<&'a str>,
    pub language: Option<&'a str>,
    /// RFC 3339 in UTC, or null for unscheduled entries.
    pub start: Option<String>,
    pub end: Option<String>,
    pub all_day: bool,
    pub status: &'static str,
    pub kind: &'static str,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<&'a str>,
    pub description: Option<&'a str>,
    pub url: Option<&'a str>,
}

/// The stable id a talk is exported under.
pub fn export_id(talk: &StoredTalk) -> String {
    talk.data
        .source_id
        .as_deref()
        .map_or_else(|| format!("confbot-talk-{}", talk.id.0), str::to_owned)
}

fn rfc3339(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Renders talks as a pretty-printed JSON array.
pub fn to_json(talks: &[StoredTalk]) -> String {
    let exported: Vec<ExportedTalk<'_>> = talks
        .iter()
        .map(|talk| {
            let data = &talk.data;
            ExportedTalk {
                id: export_id(talk),
                title: &data.title,
                subtitle: data.subtitle.as_deref(),
                speakers: data.speakers.iter().map(|s| s.name.as_str()).collect(),
                room: data.room.as_deref(),
                track: data.track.as_deref(),
                level: data.level.as_deref(),
                talk_type: data.talk_type.as_deref(),
                language: data.language.as_deref(),
                start: data.slot.map(|s| rfc3339(s.start)),
                end: data.slot.map(|s| rfc3339(s.end)),
                all_day: data.slot.is_some_and(|s| s.all_day),
                status: data.status.as_str(),
                kind: data.kind.as_str(),
                abstract_text: data.abstract_text.as_deref(),
                description: data.description.as_deref(),
                url: data.url.as_deref(),
            }
        })
        .collect();
    // Serialising plain strings and options cannot fail; fall back to an empty array anyway.
    serde_json::to_string_pretty(&exported).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Slot, SpeakerData, TalkData, TalkId, TalkStatus};

    #[test]
    fn talks_export_with_utc_instants_and_stable_ids() {
        let talk = StoredTalk {
            id: TalkId(7),
            schedule_version: 1,
            data: TalkData {
                source_id: Some("pretalx-x-ERUJ9T".into()),
                title: "Glue".to_owned(),
                speakers: vec![SpeakerData {
                    name: "Freya".to_owned(),
                    ..SpeakerData::default()
                }],
                room: Some("Barn".into()),
                slot: Some(Slot {
                    start: "2026-04-25T22:45:00Z".parse().expect("instant"),
                    end: "2026-04-25T23:10:00Z".parse().expect("instant"),
                    all_day: false,
                }),
                status: TalkStatus::Cancelled,
                ..TalkData::default()
            },
        };
        let unscheduled = StoredTalk {
            id: TalkId(8),
            schedule_version: 1,
            data: TalkData {
                title: "Later".to_owned(),
                ..TalkData::default()
            },
        };

        let json: serde_json::Value =
            serde_json::from_str(&to_json(&[talk, unscheduled])).expect("valid JSON");

        assert_eq!(json[0]["id"], "pretalx-x-ERUJ9T");
        assert_eq!(json[0]["start"], "2026-04-25T22:45:00Z");
        assert_eq!(json[0]["end"], "2026-04-25T23:10:00Z");
        assert_eq!(json[0]["speakers"], serde_json::json!(["Freya"]));
        assert_eq!(json[0]["status"], "cancelled");
        assert_eq!(json[0]["kind"], "talk");
        assert_eq!(json[1]["id"], "confbot-talk-8");
        assert!(json[1]["start"].is_null() && json[1]["end"].is_null());
    }
}
