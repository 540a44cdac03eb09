//! What an import changed, as organisers read it and as it is stored (`imports.diff`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::model::TalkData;

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
    pub status: String,
}

impl Placement {
    pub(super) fn of(talk: &TalkData) -> Self {
        Self {
            start: talk.slot.map(|s| s.start),
            end: talk.slot.map(|s| s.end),
            room: talk.room.clone(),
            status: talk.status.as_str().to_owned(),
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
    pub before: Option<Placement>,
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
