//! A conference's whole programme in memory: the snapshot every attendee command reads.
//!
//! Loaded once from the store and replaced when an import changes the schedule, so commands
//! answer in microseconds without a database round trip. Everything a command looks up more
//! than once (rooms, tracks, the programme day of each talk, speakers, the search index) is
//! computed once in [`Programme::new`]. The long texts (abstracts, descriptions,
//! biographies) and the fields no command reads are kept apart in a compact form (see
//! `texts`), since the snapshot stays resident while the bot runs.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::model::{Conference, ProgrammeDay, StoredTalk, TalkKind, TalkStatus};
use crate::domain::search::SearchIndex;
use crate::domain::text::{name_key, title_key};

use texts::Texts;

/// A conference, its programme days and its talks (ordered by start, unscheduled last).
///
/// Build it with [`Programme::new`]; the public fields are for reading (changing them would
/// leave the precomputed lookups stale).
#[derive(Clone)]
pub struct Programme {
    pub conference: Conference,
    pub days: Vec<ProgrammeDay>,
    /// The talks without their long texts and the fields no command reads: `abstract_text`,
    /// `description`, `source_id`, `talk_type`, `language` and every speaker's `biography`
    /// and `source_id` are `None` here. Read the texts with [`Programme::abstract_text`],
    /// [`Programme::description`] and [`Programme::biography`], a whole talk with
    /// [`Programme::full_talk`].
    pub talks: Vec<StoredTalk>,
    texts: Texts,
    derived: Derived,
}

/// A person with every talk they give in this programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speaker {
    /// The name as first seen in the programme.
    pub name: String,
    /// The first non-empty biography any of their talks carries.
    pub biography: Option<String>,
    /// Indexes into [`Programme::talks`], in programme order.
    pub talks: Vec<usize>,
}

/// Lookups computed once per snapshot.
#[derive(Clone, Default)]
struct Derived {
    rooms: Vec<String>,
    tracks: Vec<String>,
    /// The programme day of each talk (same index as `talks`); `None` when unscheduled.
    talk_days: Vec<Option<NaiveDate>>,
    /// Every programme day: the source's days and the days talks fall on, sorted.
    programme_days: Vec<NaiveDate>,
    speakers: Vec<Speaker>,
    search: SearchIndex,
}

impl Programme {
    /// Builds the snapshot: sorts the talks (by start, then room and title; unscheduled
    /// last) and precomputes every lookup.
    pub fn new(
        conference: Conference,
        mut days: Vec<ProgrammeDay>,
        mut talks: Vec<StoredTalk>,
    ) -> Self {
        days.sort_by_key(|d| (d.start, d.date));
        talks.sort_by(|a, b| {
            let key = |t: &StoredTalk| (t.data.slot.is_none(), t.data.slot.map(|s| s.start));
            key(a)
                .cmp(&key(b))
                .then_with(|| a.data.room.cmp(&b.data.room))
                .then_with(|| a.data.title.cmp(&b.data.title))
                .then_with(|| a.id.cmp(&b.id))
        });
        let mut programme = Self {
            conference,
            days,
            talks,
            texts: Texts::default(),
            derived: Derived::default(),
        };
        // The search index and the speakers read the long texts, so they come first.
        programme.derived = programme.derive();
        programme.texts = Texts::take(&mut programme.talks);
        programme
    }

    /// The abstract of the talk at `index` (see [`Programme::talks`]).
    pub fn abstract_text(&self, index: usize) -> Option<String> {
        self.texts.abstract_text(index)
    }

    /// The description of the talk at `index`.
    pub fn description(&self, index: usize) -> Option<String> {
        self.texts.description(index)
    }

    /// The biography the talk at `index` gives its speaker at position `speaker` (a
    /// person's biography for the whole programme is [`Speaker::biography`]).
    pub fn biography(&self, index: usize, speaker: usize) -> Option<String> {
        self.texts.biography(index, speaker)
    }

    /// The talk at `index` with every field put back, as the store holds it.
    pub fn full_talk(&self, index: usize) -> Option<StoredTalk> {
        let mut talk = self.talks.get(index)?.clone();
        let taken = self.texts.taken(index);
        let d = &mut talk.data;
        d.abstract_text = taken.abstract_text.map(Into::into);
        d.description = taken.description.map(Into::into);
        d.source_id = taken.source_id.map(Into::into);
        d.talk_type = taken.talk_type.map(Arc::from);
        d.language = taken.language.map(Arc::from);
        for (speaker, (bio, id)) in d.speakers.iter_mut().zip(taken.speakers) {
            speaker.biography = bio.map(Arc::from);
            speaker.source_id = id.map(Into::into);
        }
        Some(talk)
    }

    fn derive(&self) -> Derived {
        let rooms = distinct_sorted(self.talks.iter().filter_map(|t| t.data.room.as_deref()));
        let tracks = distinct_sorted(self.talks.iter().filter_map(|t| t.data.track.as_deref()));
        let talk_days: Vec<Option<NaiveDate>> = self
            .talks
            .iter()
            .map(|t| t.data.slot.map(|slot| self.day_of(slot.start)))
            .collect();
        let mut programme_days: Vec<NaiveDate> = self
            .days
            .iter()
            .map(|d| d.date)
            .chain(talk_days.iter().flatten().copied())
            .collect();
        programme_days.sort_unstable();
        programme_days.dedup();
        let speakers = collect_speakers(&self.talks);
        let search = SearchIndex::build(&self.talks, &speakers);
        Derived {
            rooms,
            tracks,
            talk_days,
            programme_days,
            speakers,
            search,
        }
    }

    /// The programme day an instant belongs to: the source's day whose span contains it
    /// (so 01:00 belongs to the evening before when the source says so), else the
    /// conference-local calendar date. Never the UTC date.
    pub fn day_of(&self, instant: DateTime<Utc>) -> NaiveDate {
        // Days are sorted by start: the last day starting at or before the instant is the
        // only candidate.
        let after = self.days.partition_point(|d| d.start <= instant);
        after
            .checked_sub(1)
            .and_then(|i| self.days.get(i))
            .filter(|d| instant < d.end)
            .map_or_else(
                || {
                    instant
                        .with_timezone(&self.conference.time_zone)
                        .date_naive()
                },
                |d| d.date,
            )
    }

    /// The programme day of the talk at `index`; `None` when it is unscheduled or unknown.
    pub fn talk_day(&self, index: usize) -> Option<NaiveDate> {
        self.derived.talk_days.get(index).copied().flatten()
    }

    /// Distinct room names, sorted case-insensitively.
    pub fn rooms(&self) -> &[String] {
        &self.derived.rooms
    }

    /// Distinct track names, sorted case-insensitively.
    pub fn tracks(&self) -> &[String] {
        &self.derived.tracks
    }

    /// Every programme day, sorted.
    pub fn programme_days(&self) -> &[NaiveDate] {
        &self.derived.programme_days
    }

    /// Speakers sorted by folded name, each with their talks.
    pub fn speakers(&self) -> &[Speaker] {
        &self.derived.speakers
    }

    /// The search index over titles, speaker names and talk texts.
    pub fn search(&self) -> &SearchIndex {
        &self.derived.search
    }

    /// The room of this programme spelled like `typed` (case and accents ignored).
    pub fn find_room(&self, typed: &str) -> Option<&str> {
        find_named(&self.derived.rooms, typed)
    }

    /// The track of this programme spelled like `typed` (case and accents ignored).
    pub fn find_track(&self, typed: &str) -> Option<&str> {
        find_named(&self.derived.tracks, typed)
    }

    /// Indexes of the talks that take place: scheduled, confirmed and real talks (not
    /// breaks or all-day entries), in programme order.
    pub fn attendable(&self) -> impl Iterator<Item = usize> + '_ {
        self.talks.iter().enumerate().filter_map(|(i, t)| {
            let d = &t.data;
            let ok = d.slot.is_some_and(|s| !s.all_day)
                && d.status == TalkStatus::Confirmed
                && d.kind == TalkKind::Talk;
            ok.then_some(i)
        })
    }
}

impl PartialEq for Programme {
    /// Two snapshots are equal when their data are; the lookups follow from the data.
    fn eq(&self, other: &Self) -> bool {
        self.conference == other.conference
            && self.days == other.days
            && self.talks == other.talks
            && self.texts == other.texts
    }
}

impl fmt::Debug for Programme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Programme")
            .field("conference", &self.conference)
            .field("days", &self.days)
            .field("talks", &self.talks.len())
            .finish_non_exhaustive()
    }
}

fn distinct_sorted<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut keyed: Vec<(String, &str)> = names.map(|n| (title_key(n), n)).collect();
    keyed.sort_unstable();
    keyed.dedup_by(|a, b| a.1 == b.1);
    keyed.into_iter().map(|(_, n)| n.to_owned()).collect()
}

fn find_named<'a>(names: &'a [String], typed: &str) -> Option<&'a str> {
    let wanted = title_key(typed);
    names
        .iter()
        .find(|n| n.as_str() == typed.trim())
        .or_else(|| names.iter().find(|n| title_key(n) == wanted))
        .map(String::as_str)
}

fn collect_speakers(talks: &[StoredTalk]) -> Vec<Speaker> {
    let mut keyed: Vec<(String, Speaker)> = Vec::new();
    let mut by_key: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (index, talk) in talks.iter().enumerate() {
        for person in &talk.data.speakers {
            let key = name_key(&person.name);
            if key.is_empty() {
                continue;
            }
            let slot = *by_key.entry(key.clone()).or_insert_with(|| {
                keyed.push((
                    key,
                    Speaker {
                        name: person.name.clone(),
                        biography: None,
                        talks: Vec::new(),
                    },
                ));
                keyed.len() - 1
            });
            if let Some((_, speaker)) = keyed.get_mut(slot) {
                if speaker.talks.last() != Some(&index) {
                    speaker.talks.push(index);
                }
                let bio = person.biography.as_deref().filter(|b| !b.trim().is_empty());
                if speaker.biography.is_none() {
                    speaker.biography = bio.map(str::to_owned);
                }
            }
        }
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    keyed.into_iter().map(|(_, s)| s).collect()
}

mod texts;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
