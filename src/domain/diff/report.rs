//! What an import changed, as organisers read it and as it is stored (`imports.diff`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::model::{TalkData, TalkStatus};

/// A field whose change the diff reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Start,
    End,
    Room,
    Title,
    Speakers,
    Status,
    Kind,
    Subtitle,
    Abstract,
    Description,
    Track,
    Level,
    Type,
    Language,
    Url,
    Biography,
}

impl Field {
    /// Fields that change when and where a talk happens: reminders must be re-planned.
    pub fn affects_schedule(self) -> bool {
        matches!(
            self,
            Field::Start | Field::End | Field::Room | Field::Status
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Start => "start",
            Field::End => "end",
            Field::Room => "room",
            Field::Title => "title",
            Field::Speakers => "speakers",
            Field::Status => "status",
            Field::Kind => "kind",
            Field::Subtitle => "subtitle",
            Field::Abstract => "abstract",
            Field::Description => "description",
            Field::Track => "track",
            Field::Level => "level",
            Field::Type => "type",
            Field::Language => "language",
            Field::Url => "url",
            Field::Biography => "biography",
        }
    }
}

/// When, where and whether a talk happens: what a change notice shows before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub room: Option<String>,
    /// Stored as `"confirmed"` or `"cancelled"`.
    pub status: TalkStatus,
}

impl Placement {
    pub(super) fn of(talk: &TalkData) -> Self {
        Self {
            start: talk.slot.map(|s| s.start),
            end: talk.slot.map(|s| s.end),
            room: talk.room.as_deref().map(str::to_owned),
            status: talk.status,
        }
    }
}

/// One talk in the diff. `talk_id` is filled in by the store once the talk has an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffEntry {
    pub talk_id: Option<i64>,
    pub source_id: Option<String>,
    pub title: String,
    /// Empty for added and cancelled talks.
    pub fields: Vec<Field>,
    /// Boxed: most entries of a large import are added talks, which have none (72 bytes
    /// each held inline, 7 MB of a 100,000-talk first import's diff).
    pub before: Option<Box<Placement>>,
    pub after: Placement,
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDiff {
    pub added: Vec<DiffEntry>,
    pub changed: Vec<DiffEntry>,
    pub cancelled: Vec<DiffEntry>,
    pub unchanged: usize,
    /// Talks whose event could not be read this time: kept as they were, neither changed
    /// nor cancelled (absent from diffs stored before this existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<DiffEntry>,
    /// Stored talks that had a time slot before the import: 0 for a conference's first
    /// timetable, which publishes the programme rather than changing it (absent, so 0, from
    /// diffs stored before this existed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub scheduled_before: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl ImportDiff {
    /// True when the import changed nothing.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.cancelled.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An added and a changed entry as `imports.diff` has stored them since the first import.
    const STORED: &str = r#"{"added":[{"talk_id":7,"source_id":"A","title":"New","fields":[],"before":null,"after":{"start":"2026-04-25T22:45:00Z","end":null,"room":"Barn","status":"confirmed"}}],"changed":[{"talk_id":8,"source_id":null,"title":"Gone","fields":["status"],"before":{"start":null,"end":null,"room":null,"status":"confirmed"},"after":{"start":null,"end":null,"room":null,"status":"cancelled"}}],"cancelled":[],"unchanged":3}"#;

    #[test]
    fn a_stored_diff_reads_back_and_is_written_as_it_always_was() {
        let diff: ImportDiff = serde_json::from_str(STORED).expect("reads");

        assert_eq!(diff.added[0].after.status, TalkStatus::Confirmed);
        assert_eq!(diff.added[0].before, None);
        let before = diff.changed[0].before.as_deref().expect("a before");
        assert_eq!(before.status, TalkStatus::Confirmed);
        assert_eq!(diff.changed[0].after.status, TalkStatus::Cancelled);
        assert_eq!(serde_json::to_string(&diff).expect("writes"), STORED);
        assert!(serde_json::from_str::<ImportDiff>(&STORED.replace("cancelled", "maybe")).is_err());
    }
}
