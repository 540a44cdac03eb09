//! The schedule model: what a conference programme is, independent of where it came from
//! (importers) or where it is kept (store).
//!
//! Every instant is a UTC `DateTime`; the conference's IANA zone travels beside it and is only
//! used to show or to interpret local wall-clock times. Nothing is keyed by a UTC date.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// A conference's short, URL-safe name (`nbpy-2026`): 1 to 64 characters out of lowercase
/// ASCII letters, digits, `-` and `_`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConferenceSlug(String);

/// Why a conference slug was refused. The message is safe to show to a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid conference slug {0:?}: use 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit")]
pub struct SlugError(pub String);

impl ConferenceSlug {
    /// Parses and validates a slug.
    pub fn parse(input: &str) -> Result<Self, SlugError> {
        let ok = !input.is_empty()
            && input.len() <= 64
            && input
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            && input
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(SlugError(input.chars().take(80).collect()))
        }
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConferenceSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ConferenceSlug {
    type Err = SlugError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A conference as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Conference {
    pub slug: ConferenceSlug,
    pub name: String,
    /// The conference's IANA zone: local days, floating times and display use it.
    pub time_zone: Tz,
    /// Where the programme was last imported from (a path or an http(s) URL).
    pub source_url: Option<String>,
}

/// Whether a talk takes place.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TalkStatus {
    #[default]
    Confirmed,
    Cancelled,
}

impl TalkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl FromStr for TalkStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "confirmed" => Ok(Self::Confirmed),
            "cancelled" => Ok(Self::Cancelled),
            other => Err(format!("unknown talk status {other:?}")),
        }
    }
}

/// A talk is something attendees can be reminded of; `Other` covers all-day entries and
/// non-talk items (breaks, "registration open") that are listed but never reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TalkKind {
    #[default]
    Talk,
    Other,
}

impl TalkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Talk => "talk",
            Self::Other => "other",
        }
    }
}

impl FromStr for TalkKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "talk" => Ok(Self::Talk),
            "other" => Ok(Self::Other),
            other => Err(format!("unknown talk kind {other:?}")),
        }
    }
}

/// When a talk takes place: two UTC instants. `all_day` marks a `VALUE=DATE` entry whose
/// instants are the conference-local midnights bounding its day(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub all_day: bool,
}

/// A person presenting a talk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpeakerData {
    /// The source's stable id for the person (pretalx code, frab person id), if any.
    pub source_id: Option<Box<str>>,
    pub name: String,
    /// Shared ([`SharedTexts`]): a person gives several talks, and each talk names them with
    /// the same biography. Held once per talk, they were 42 MB of a 100,000-talk import.
    pub biography: Option<Arc<str>>,
}

/// One copy of each text many talks repeat: a person's biography (each of their talks names
/// them with it) and the labels of [`TalkData`]. The importers and the store's loads hand
/// these through it as they read a talk, so that equal texts are one.
#[derive(Debug, Default)]
pub struct SharedTexts(HashSet<Arc<str>>);

impl SharedTexts {
    /// `text`, or the equal one met before (and `text` is dropped).
    pub fn share(&mut self, text: Arc<str>) -> Arc<str> {
        if let Some(known) = self.0.get(&text) {
            return Arc::clone(known);
        }
        self.0.insert(Arc::clone(&text));
        text
    }

    /// The text equal to `text` met before, or a new one.
    pub fn share_str(&mut self, text: &str) -> Arc<str> {
        match self.0.get(text) {
            Some(known) => Arc::clone(known),
            None => self.share(Arc::from(text)),
        }
    }

    /// Shares `talk`'s labels (track, level, type, language, room) and its speakers'
    /// biographies.
    pub fn share_talk(&mut self, talk: &mut TalkData) {
        let labels = [
            &mut talk.track,
            &mut talk.level,
            &mut talk.talk_type,
            &mut talk.language,
            &mut talk.room,
        ];
        let biographies = talk.speakers.iter_mut().map(|s| &mut s.biography);
        for text in labels.into_iter().chain(biographies) {
            if let Some(shared) = text.take() {
                *text = Some(self.share(shared));
            }
        }
    }
}

/// Everything the programme says about one talk. Importers produce it; the store keeps it.
/// `None` means "the source does not say", never "clear this field".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TalkData {
    /// The source's stable id (iCalendar UID, frab/pretalx guid or code). Talk listings
    /// without ids leave it empty and are matched by normalised title instead.
    pub source_id: Option<Box<str>>,
    pub title: String,
    pub subtitle: Option<Box<str>>,
    pub abstract_text: Option<Box<str>>,
    pub description: Option<Box<str>>,
    pub speakers: Vec<SpeakerData>,
    /// The track, level, type, language and room are labels many talks repeat: shared
    /// ([`SharedTexts::share_talk`]), each is held once per import or programme load
    /// instead of once per talk. Sharing them, with the talk list's smaller fields, took
    /// 15 MB off a 100,000-talk frab XML import (BENCHMARKS.md).
    pub track: Option<Arc<str>>,
    /// Audience level ("Intermediate").
    pub level: Option<Arc<str>>,
    /// Submission type ("Talk", "Workshop", "Keynote").
    pub talk_type: Option<Arc<str>>,
    pub language: Option<Arc<str>>,
    pub room: Option<Arc<str>>,
    /// `None` for catalogue entries that are not (yet) scheduled.
    pub slot: Option<Slot>,
    pub status: TalkStatus,
    pub kind: TalkKind,
    pub url: Option<Box<str>>,
}

/// A talk as stored: its data plus the store's identity and schedule version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTalk {
    pub id: TalkId,
    /// Bumped whenever start, end, room or status change: reminders are keyed by it.
    pub schedule_version: i32,
    pub data: TalkData,
}

/// The store's identity for a talk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TalkId(pub i64);

/// A stored question's id (`/ask`, see `domain::questions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QuestionId(pub i64);

/// A chair's decision on a question (`/questions`' buttons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Moderation {
    /// Marked answered: the card says so and takes no more votes.
    Answered,
    /// Hidden: removed from the thread and from `/questions`.
    Hide,
}

/// A programme day as the source defines it: a local date and the instants it spans. A day
/// may run past local midnight (a talk at 01:00 belongs to the evening before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgrammeDay {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What an import claims about the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleScope {
    /// The whole timetable (iCalendar, schedule JSON/XML): a previously imported talk that is
    /// missing from it has been cancelled.
    Timetable,
    /// Extra detail on some talks (talk listings, proposal pages, notes): adds or enriches
    /// catalogue entries and never cancels anything.
    Catalogue,
}

/// The one value every importer produces.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedSchedule {
    pub scope: ScheduleScope,
    /// The conference's title, when the source names it.
    pub name: Option<String>,
    /// The conference's zone, when the source names it (`X-WR-TIMEZONE`, `time_zone_name`).
    pub time_zone: Option<Tz>,
    pub days: Vec<ProgrammeDay>,
    pub talks: Vec<TalkData>,
    /// Things the importer skipped or guessed, for the organiser ("line 484: a \"Track,
    /// Level\" line has no title above it; skipped"). The import still succeeds.
    pub warnings: Vec<String>,
    /// How the importer read the file where it had to choose, for the organiser ("speakers
    /// of 40 of 42 events: 40 from ATTENDEE CN"): never a silent guess.
    pub notes: Vec<String>,
    /// The ids of events the importer could not read and skipped (with a warning each): their
    /// stored talks are kept as they are, neither changed nor cancelled.
    pub unreadable: Vec<String>,
}

impl ImportedSchedule {
    /// An empty schedule of the given scope.
    pub fn new(scope: ScheduleScope) -> Self {
        Self {
            scope,
            name: None,
            time_zone: None,
            days: Vec::new(),
            talks: Vec::new(),
            warnings: Vec::new(),
            notes: Vec::new(),
            unreadable: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_lowercase_words_and_refuse_everything_else() {
        assert!(ConferenceSlug::parse("nbpy-2026").is_ok());
        assert!(ConferenceSlug::parse("a").is_ok());
        for bad in [
            "",
            "-x",
            "Upper",
            "with space",
            "ünï",
            &"x".repeat(65),
            "a/b",
        ] {
            assert!(ConferenceSlug::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn status_and_kind_round_trip_through_text() {
        for s in [TalkStatus::Confirmed, TalkStatus::Cancelled] {
            assert_eq!(s.as_str().parse::<TalkStatus>(), Ok(s));
        }
        for k in [TalkKind::Talk, TalkKind::Other] {
            assert_eq!(k.as_str().parse::<TalkKind>(), Ok(k));
        }
        assert!("maybe".parse::<TalkStatus>().is_err());
    }
}
