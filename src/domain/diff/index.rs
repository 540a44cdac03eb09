//! Where an imported talk lands among the stored ones: lookup tables by source id, pretalx
//! code and folded title (speakers break ties between equal titles).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use super::{TalkRef, Target};
use crate::domain::import::identity::pretalx_code_of;
use crate::domain::model::{StoredTalk, TalkData};
use crate::domain::text::{name_key, title_key};

/// Lookup tables over the stored talks (and the new ones, for catalogue imports).
pub(super) struct Index {
    by_source_id: HashMap<Box<str>, usize>,
    /// pretalx talk codes (from a stored UID or URL): the same talk's id in every format.
    by_pretalx_code: HashMap<String, usize>,
    by_title: HashMap<String, Targets>,
}

/// The talks a title key leads to: nearly always one, held without a list of its own (a
/// list per title was 8 MB of a 100,000-talk listing's first import).
#[derive(Debug)]
enum Targets {
    One(Target),
    Many(Vec<Target>),
}

impl Targets {
    fn as_slice(&self) -> &[Target] {
        match self {
            Self::One(target) => std::slice::from_ref(target),
            Self::Many(targets) => targets,
        }
    }
}

/// Adds `target` to the talks `key` leads to.
fn note_title(by_title: &mut HashMap<String, Targets>, key: String, target: Target) {
    match by_title.entry(key) {
        Entry::Vacant(entry) => {
            entry.insert(Targets::One(target));
        }
        Entry::Occupied(mut entry) => {
            let targets = entry.get_mut();
            match targets {
                Targets::One(first) => *targets = Targets::Many(vec![*first, target]),
                Targets::Many(list) => list.push(target),
            }
        }
    }
}

impl Index {
    /// `imported` is the whole import, settled entries included.
    pub(super) fn new(stored: &[StoredTalk], imported: &[TalkData]) -> Self {
        // A row whose own id the import states is that entry's: another entry with the same
        // pretalx code (the same talk given twice) must not take it over. This also keeps the
        // fallback blind to whether the row was settled and left out of `stored`.
        // Only rows need it: a first import has none, and the set was 2.2 MB of 100,000 talks.
        let stated: HashSet<&str> = match stored {
            [] => HashSet::new(),
            _ => imported
                .iter()
                .filter_map(|t| t.source_id.as_deref())
                .collect(),
        };
        let mut index = Self {
            by_source_id: HashMap::with_capacity(stored.len()),
            by_pretalx_code: HashMap::new(),
            by_title: HashMap::with_capacity(stored.len()),
        };
        for (i, talk) in stored.iter().enumerate() {
            if let Some(id) = &talk.data.source_id {
                index.by_source_id.insert(id.clone(), i);
            }
            let claimed = talk
                .data
                .source_id
                .as_deref()
                .is_some_and(|id| stated.contains(id));
            if let Some(code) = pretalx_code_of(&talk.data).filter(|_| !claimed) {
                index.by_pretalx_code.entry(code.to_owned()).or_insert(i);
            }
            note_title(
                &mut index.by_title,
                title_key(&talk.data.title),
                Target::Stored(i),
            );
        }
        index
    }

    pub(super) fn note_source_id(&mut self, i: usize, talk: &TalkData) {
        if let Some(id) = &talk.source_id {
            // A re-imported talk keeps its id: no need to copy the key again.
            if self.by_source_id.get(id) != Some(&i) {
                self.by_source_id.insert(id.clone(), i);
            }
        }
    }

    /// Makes new talk `i` findable by its title, for a listing's later entries.
    pub(super) fn note_new(&mut self, i: usize, talk: &TalkData) {
        note_title(&mut self.by_title, title_key(&talk.title), Target::New(i));
    }

    /// By source id, else a not-yet-scheduled catalogue entry with the same title.
    pub(super) fn find_for_timetable(
        &self,
        talk: &TalkData,
        working: &[TalkRef<'_>],
    ) -> Option<Target> {
        if let Some(i) = talk
            .source_id
            .as_ref()
            .and_then(|id| self.by_source_id.get(id))
        {
            return Some(Target::Stored(*i));
        }
        // The same pretalx talk imported from another of its formats (its UID, guid and
        // code differ): the stored row adopts the new id, subscriptions and all.
        if let Some(i) = pretalx_code_of(talk).and_then(|code| self.by_pretalx_code.get(code)) {
            return Some(Target::Stored(*i));
        }
        if self.by_title.is_empty() {
            // No row to adopt the id: the title's key is not worth making.
            return None;
        }
        let candidates: Vec<Target> = self
            .by_title
            .get(&title_key(&talk.title))?
            .as_slice()
            .iter()
            .copied()
            .filter(|t| matches!(t, Target::Stored(i) if working[*i].source_id.is_none()))
            .collect();
        best_by_speakers(&candidates, talk, |t| match t {
            Target::Stored(i) => working.get(i).map(AsRef::as_ref),
            Target::New(_) => None,
        })
    }

    /// By normalised title, a shared speaker breaking ties.
    pub(super) fn find_by_title(
        &self,
        talk: &TalkData,
        working: &[TalkRef<'_>],
        inserts: &[TalkRef<'_>],
    ) -> Option<Target> {
        let candidates = self.by_title.get(&title_key(&talk.title))?.as_slice();
        best_by_speakers(candidates, talk, |t| match t {
            Target::Stored(i) => working.get(i).map(AsRef::as_ref),
            Target::New(i) => inserts.get(i).map(AsRef::as_ref),
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
