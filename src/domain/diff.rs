//! Re-import as a diff: the stored talks of a conference and a freshly imported schedule in,
//! a plan of inserts and updates plus a human- and machine-readable [`ImportDiff`] out.
//!
//! Rules:
//! - A timetable talk is matched by its source id; failing that, a catalogue entry (from a talk
//!   listing, without id) with the same normalised title adopts the id, so a listing imported
//!   before the timetable is merged, not duplicated.
//! - A catalogue talk (listing, proposal page) is matched by normalised title (a shared speaker
//!   breaks ties) and only enriches: it never moves, renames or cancels anything.
//! - A talk that disappeared from the timetable is cancelled, never deleted, so subscriptions
//!   to it survive; if it comes back it is confirmed again.
//! - A field the source does not state (`None`) keeps its stored value.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::model::{
    ImportedSchedule, ScheduleScope, SpeakerData, StoredTalk, TalkData, TalkId, TalkStatus,
};
use crate::domain::text::{name_key, title_key};

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
    fn of(talk: &TalkData) -> Self {
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
}

impl ImportDiff {
    /// True when the import changed nothing.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.cancelled.is_empty()
    }
}

/// An update of a stored talk.
#[derive(Debug, Clone, PartialEq)]
pub struct TalkUpdate {
    pub id: TalkId,
    pub data: TalkData,
    /// Whether start, end, room or status changed (the schedule version is bumped).
    pub reschedules: bool,
    /// Whether the speaker list (names or order) changed (links are rewritten).
    pub speakers_changed: bool,
}

/// What the store must write. `inserts[i]` is described by `diff.added[i]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    pub inserts: Vec<TalkData>,
    pub updates: Vec<TalkUpdate>,
    pub diff: ImportDiff,
}

/// Why an import cannot be applied. Safe to show to the organiser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the id {id:?} is used by two talks in the import ({first:?} and {second:?})")]
    DuplicateSourceId {
        id: String,
        first: String,
        second: String,
    },
}

/// Where an imported talk lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Stored(usize),
    New(usize),
}

/// Plans an import of `imported` over the conference's `stored` talks.
pub fn plan_import(
    stored: &[StoredTalk],
    imported: &ImportedSchedule,
) -> Result<ImportPlan, PlanError> {
    check_unique_source_ids(&imported.talks)?;
    let mut index = Index::new(stored);
    let mut working: Vec<TalkData> = stored.iter().map(|t| t.data.clone()).collect();
    let mut touched: HashSet<usize> = HashSet::new();
    let mut inserts: Vec<TalkData> = Vec::new();

    for talk in &imported.talks {
        let target = match imported.scope {
            ScheduleScope::Timetable => index.find_for_timetable(talk, &working),
            ScheduleScope::Catalogue => index.find_by_title(talk, &working, &inserts),
        };
        match target {
            Some(Target::Stored(i)) => {
                working[i] = merge(&working[i], talk, imported.scope);
                index.note_source_id(i, &working[i]);
                touched.insert(i);
            }
            Some(Target::New(i)) => inserts[i] = merge(&inserts[i], talk, imported.scope),
            None => {
                index.note_new(inserts.len(), talk);
                inserts.push(new_talk(talk, imported.scope));
            }
        }
    }

    if imported.scope == ScheduleScope::Timetable {
        // A timetable talk (one with a source id) missing from the new timetable was cancelled.
        for (i, talk) in working.iter_mut().enumerate() {
            if !touched.contains(&i)
                && talk.source_id.is_some()
                && talk.status == TalkStatus::Confirmed
            {
                talk.status = TalkStatus::Cancelled;
                touched.insert(i);
            }
        }
    }

    let mut plan = ImportPlan::default();
    let mut touched: Vec<usize> = touched.into_iter().collect();
    touched.sort_unstable();
    for i in touched {
        let (before, after) = (&stored[i].data, &working[i]);
        let fields = changed_fields(before, after);
        if fields.is_empty() {
            plan.diff.unchanged += 1;
            if before.source_id != after.source_id {
                // A catalogue entry adopted a timetable id: persist it, nothing to report.
                plan.updates.push(TalkUpdate {
                    id: stored[i].id,
                    data: after.clone(),
                    reschedules: false,
                    speakers_changed: false,
                });
            }
            continue;
        }
        let entry = DiffEntry {
            talk_id: Some(stored[i].id.0),
            source_id: after.source_id.clone(),
            title: after.title.clone(),
            before: Some(Placement::of(before)),
            after: Placement::of(after),
            fields: Vec::new(),
        };
        let cancelled_now =
            before.status == TalkStatus::Confirmed && after.status == TalkStatus::Cancelled;
        if cancelled_now && fields == [Field::Status] {
            plan.diff.cancelled.push(entry);
        } else {
            plan.diff.changed.push(DiffEntry {
                fields: fields.clone(),
                ..entry
            });
        }
        plan.updates.push(TalkUpdate {
            id: stored[i].id,
            data: after.clone(),
            reschedules: fields.iter().any(|f| f.affects_schedule()),
            speakers_changed: fields.contains(&Field::Speakers),
        });
    }
    plan.diff.added = inserts
        .iter()
        .map(|t| DiffEntry {
            talk_id: None,
            source_id: t.source_id.clone(),
            title: t.title.clone(),
            fields: Vec::new(),
            before: None,
            after: Placement::of(t),
        })
        .collect();
    plan.inserts = inserts;
    Ok(plan)
}

fn check_unique_source_ids(talks: &[TalkData]) -> Result<(), PlanError> {
    let mut seen: HashMap<&str, &str> = HashMap::with_capacity(talks.len());
    for talk in talks {
        if let Some(id) = talk.source_id.as_deref() {
            if let Some(first) = seen.insert(id, &talk.title) {
                return Err(PlanError::DuplicateSourceId {
                    id: id.to_owned(),
                    first: first.to_owned(),
                    second: talk.title.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Lookup tables over the stored talks (and the new ones, for catalogue imports).
struct Index {
    by_source_id: HashMap<String, usize>,
    by_title: HashMap<String, Vec<Target>>,
}

impl Index {
    fn new(stored: &[StoredTalk]) -> Self {
        let mut index = Self {
            by_source_id: HashMap::with_capacity(stored.len()),
            by_title: HashMap::with_capacity(stored.len()),
        };
        for (i, talk) in stored.iter().enumerate() {
            if let Some(id) = &talk.data.source_id {
                index.by_source_id.insert(id.clone(), i);
            }
            index
                .by_title
                .entry(title_key(&talk.data.title))
                .or_default()
                .push(Target::Stored(i));
        }
        index
    }

    fn note_source_id(&mut self, i: usize, talk: &TalkData) {
        if let Some(id) = &talk.source_id {
            self.by_source_id.insert(id.clone(), i);
        }
    }

    fn note_new(&mut self, i: usize, talk: &TalkData) {
        self.by_title
            .entry(title_key(&talk.title))
            .or_default()
            .push(Target::New(i));
    }

    /// By source id, else a not-yet-scheduled catalogue entry with the same title.
    fn find_for_timetable(&self, talk: &TalkData, working: &[TalkData]) -> Option<Target> {
        if let Some(i) = talk
            .source_id
            .as_ref()
            .and_then(|id| self.by_source_id.get(id))
        {
            return Some(Target::Stored(*i));
        }
        let candidates: Vec<Target> = self
            .by_title
            .get(&title_key(&talk.title))?
            .iter()
            .copied()
            .filter(|t| matches!(t, Target::Stored(i) if working[*i].source_id.is_none()))
            .collect();
        best_by_speakers(&candidates, talk, |t| match t {
            Target::Stored(i) => working.get(i),
            Target::New(_) => None,
        })
    }

    /// By normalised title, a shared speaker breaking ties.
    fn find_by_title(
        &self,
        talk: &TalkData,
        working: &[TalkData],
        inserts: &[TalkData],
    ) -> Option<Target> {
        let candidates = self.by_title.get(&title_key(&talk.title))?;
        best_by_speakers(candidates, talk, |t| match t {
            Target::Stored(i) => working.get(i),
            Target::New(i) => inserts.get(i),
        })
    }
}

/// The first candidate sharing a speaker with `talk`, else the first candidate.
fn best_by_speakers<'a>(
    candidates: &[Target],
    talk: &TalkData,
    data_of: impl Fn(Target) -> Option<&'a TalkData>,
) -> Option<Target> {
    let wanted: HashSet<String> = talk.speakers.iter().map(|s| name_key(&s.name)).collect();
    let shares_speaker = |t: &Target| {
        data_of(*t).is_some_and(|data| {
            data.speakers
                .iter()
                .any(|s| wanted.contains(&name_key(&s.name)))
        })
    };
    candidates
        .iter()
        .find(|t| shares_speaker(t))
        .or_else(|| candidates.first())
        .copied()
}

/// A talk first seen in this import.
fn new_talk(talk: &TalkData, scope: ScheduleScope) -> TalkData {
    let mut data = talk.clone();
    if scope == ScheduleScope::Catalogue {
        // Listings carry no schedule: they create unscheduled catalogue entries.
        data.source_id = None;
        data.slot = None;
        data.room = None;
    }
    data
}

/// Applies what `incoming` states onto `current`.
fn merge(current: &TalkData, incoming: &TalkData, scope: ScheduleScope) -> TalkData {
    let mut merged = current.clone();
    fn take(field: &mut Option<String>, value: &Option<String>) {
        if value.is_some() {
            field.clone_from(value);
        }
    }
    take(&mut merged.subtitle, &incoming.subtitle);
    take(&mut merged.abstract_text, &incoming.abstract_text);
    take(&mut merged.description, &incoming.description);
    take(&mut merged.track, &incoming.track);
    take(&mut merged.level, &incoming.level);
    take(&mut merged.talk_type, &incoming.talk_type);
    take(&mut merged.language, &incoming.language);
    take(&mut merged.url, &incoming.url);
    merged.speakers = merge_speakers(&current.speakers, &incoming.speakers, scope);
    if scope == ScheduleScope::Timetable {
        // The timetable owns identity, naming and placement.
        merged.source_id.clone_from(&incoming.source_id);
        merged.title.clone_from(&incoming.title);
        take(&mut merged.room, &incoming.room);
        if incoming.slot.is_some() {
            merged.slot = incoming.slot;
        }
        merged.status = incoming.status;
        merged.kind = incoming.kind;
    }
    merged
}

/// The timetable decides who speaks; a listing only adds speakers where none are known.
/// Biographies are kept unless the incoming side states one.
fn merge_speakers(
    current: &[SpeakerData],
    incoming: &[SpeakerData],
    scope: ScheduleScope,
) -> Vec<SpeakerData> {
    let names_from_incoming =
        !incoming.is_empty() && (scope == ScheduleScope::Timetable || current.is_empty());
    let base = if names_from_incoming {
        incoming
    } else {
        current
    };
    base.iter()
        .map(|speaker| {
            let key = name_key(&speaker.name);
            let find = |list: &[SpeakerData]| -> Option<SpeakerData> {
                list.iter().find(|s| name_key(&s.name) == key).cloned()
            };
            let (old, new) = (find(current), find(incoming));
            SpeakerData {
                source_id: new
                    .as_ref()
                    .and_then(|s| s.source_id.clone())
                    .or_else(|| old.as_ref().and_then(|s| s.source_id.clone())),
                name: speaker.name.clone(),
                biography: new
                    .and_then(|s| s.biography)
                    .or_else(|| old.and_then(|s| s.biography)),
            }
        })
        .collect()
}

/// The reported fields that differ between two versions of a talk.
pub fn changed_fields(before: &TalkData, after: &TalkData) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut check = |changed: bool, field: Field| {
        if changed {
            fields.push(field);
        }
    };
    check(
        before.slot.map(|s| s.start) != after.slot.map(|s| s.start),
        Field::Start,
    );
    check(
        before.slot.map(|s| s.end) != after.slot.map(|s| s.end),
        Field::End,
    );
    check(before.room != after.room, Field::Room);
    check(before.title != after.title, Field::Title);
    let names = |t: &TalkData| {
        t.speakers
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    check(names(before) != names(after), Field::Speakers);
    check(before.status != after.status, Field::Status);
    check(before.kind != after.kind, Field::Kind);
    check(before.subtitle != after.subtitle, Field::Subtitle);
    check(before.abstract_text != after.abstract_text, Field::Abstract);
    check(before.description != after.description, Field::Description);
    check(before.track != after.track, Field::Track);
    check(before.level != after.level, Field::Level);
    check(before.talk_type != after.talk_type, Field::Type);
    check(before.language != after.language, Field::Language);
    check(before.url != after.url, Field::Url);
    let bios = |t: &TalkData| {
        t.speakers
            .iter()
            .map(|s| s.biography.clone())
            .collect::<Vec<_>>()
    };
    check(
        names(before) == names(after) && bios(before) != bios(after),
        Field::Biography,
    );
    // A source id adopted by a catalogue entry is not a user-visible change on its own.
    fields
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
