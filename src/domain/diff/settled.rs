//! Talks a re-import cannot change, recognised without reading them.
//!
//! Each talk row written from a timetable keeps the digest of what the timetable said about it
//! (its [`source_digest`]). When the next timetable states the same id with the same digest,
//! merging it again would give the stored row back unchanged: merging is idempotent, and every
//! other write to the row (a cancellation, a second entry merged into it, a listing's
//! enrichment) clears or replaces the digest. Such a talk is *settled*: counted as unchanged
//! without loading its texts or merging it, which is most of a re-import's work when most of
//! a programme did not change.
//!
//! A listing's entry owns no row: it enriches the one talk its title names. A row the entry
//! alone changed, or left unchanged while no timetable entry owned it, keeps that entry's
//! [`listing_digest`] (of another layout, so it never settles a timetable entry, nor a
//! timetable digest a listing entry; see [`settle`] for why it never displaces one). The next
//! listing settles the entry when its title is the only one of its kind on both sides (among the
//! stored rows and among the listing's entries), so it can name no other row, and the row
//! holds its digest, so merging it again would change nothing.
//!
//! One thing is shared between talks: a person's name and biography live once, in their
//! speaker row. So the store keeps a digest only while the row reads back as its entry states
//! it: a person's row that changes clears the digests of all their talks, and a talk whose
//! entry spells a person differently from another entry in the same import gets none.

use std::collections::{HashMap, HashSet};

use sha2::{Digest as _, Sha256};

use crate::domain::model::{ImportedSchedule, ScheduleScope, TalkData, TalkId, TalkStatus};
use crate::domain::text::title_key;

/// A SHA-256 digest of one talk as a source stated it.
pub type Digest = [u8; 32];

/// Bumped when the digest's input changes, so digests of an older layout never match.
const LAYOUT: &[u8] = b"confbot talk source digest 1\0";
/// A listing entry's: the same fields, a layout of its own.
const LISTING_LAYOUT: &[u8] = b"confbot listing entry digest 1\0";

/// The digest of everything a timetable's `talk` states.
pub fn source_digest(talk: &TalkData) -> Digest {
    digest(LAYOUT, talk)
}

/// The digest of everything a listing's `talk` states.
pub fn listing_digest(talk: &TalkData) -> Digest {
    digest(LISTING_LAYOUT, talk)
}

/// The digest of everything `talk` states. Every field is length-prefixed and every absence
/// marked, so no two different talks write the same bytes into the hash.
fn digest(layout: &[u8], talk: &TalkData) -> Digest {
    // Destructured so a new field cannot be left out of the digest unnoticed.
    let TalkData {
        source_id,
        title,
        subtitle,
        abstract_text,
        description,
        speakers,
        track,
        level,
        talk_type,
        language,
        room,
        slot,
        status,
        kind,
        url,
    } = talk;
    let mut hash = Sha256::new();
    hash.update(layout);
    let mut text = |value: Option<&str>| match value {
        None => hash.update([0]),
        Some(value) => {
            hash.update([1]);
            hash.update((value.len() as u64).to_le_bytes());
            hash.update(value.as_bytes());
        }
    };
    text(source_id.as_deref());
    text(Some(title));
    text(subtitle.as_deref());
    text(abstract_text.as_deref());
    text(description.as_deref());
    text(Some(&speakers.len().to_string()));
    for speaker in speakers {
        text(Some(&speaker.name));
        text(speaker.source_id.as_deref());
        text(speaker.biography.as_deref());
    }
    text(track.as_deref());
    text(level.as_deref());
    text(talk_type.as_deref());
    text(language.as_deref());
    text(room.as_deref());
    let slot = slot.map(|s| {
        format!(
            "{}.{:09} {}.{:09} {}",
            s.start.timestamp(),
            s.start.timestamp_subsec_nanos(),
            s.end.timestamp(),
            s.end.timestamp_subsec_nanos(),
            s.all_day
        )
    });
    text(slot.as_deref());
    text(Some(status.as_str()));
    text(Some(kind.as_str()));
    text(url.as_deref());
    hash.finalize().into()
}

/// What a re-import needs to know of a stored talk before reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub id: TalkId,
    pub source_id: Option<Box<str>>,
    /// What a listing's entries are matched by.
    pub title: String,
    /// The digest of the entry the row was last written from; `None` when something else
    /// wrote it last, or more than one entry.
    pub digest: Option<Digest>,
    pub status: TalkStatus,
    pub scheduled: bool,
}

/// The digest of imported talk `talk`, of the timetable's or the listing's layout as `scope` is
/// one or the other.
pub fn entry_digest(scope: ScheduleScope, talk: &TalkData) -> Digest {
    match scope {
        ScheduleScope::Timetable => source_digest(talk),
        ScheduleScope::Catalogue => listing_digest(talk),
    }
}

/// The digest a new talk's row records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewDigest {
    /// None: more than one entry was merged into the row.
    None,
    /// Boxed: a first import's digests are all deferred, and a list of 100,000 held inline
    /// would be 2.4 MB larger at its peak.
    Known(Box<Digest>),
    /// The digest of imported talk `j`, not computed yet ([`Settled::deferred`]).
    Entry(usize),
}

impl NewDigest {
    /// The digest itself, computed now if it was deferred.
    pub fn resolve(&self, imported: &ImportedSchedule) -> Option<Digest> {
        match self {
            Self::None => None,
            Self::Known(digest) => Some(**digest),
            Self::Entry(j) => imported
                .talks
                .get(*j)
                .map(|talk| entry_digest(imported.scope, talk)),
        }
    }
}

/// Which imported talks are settled, and the digests of all of them unless they are deferred.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// `digests[j]` is the digest of imported talk `j` ([`entry_digest`]); empty when
    /// `deferred`.
    pub digests: Vec<Option<Digest>>,
    /// No digest was computed, as no stored row could settle: see [`Settled::deferred`].
    pub deferred: bool,
    /// `settled[j]`: imported talk `j` is its stored row, unchanged.
    pub settled: Vec<bool>,
    /// The stored rows of the settled talks.
    pub ids: Vec<TalkId>,
    /// How many of those rows have a time slot.
    pub scheduled: usize,
    /// For a listing: the timetable's rows (with a source id) holding a digest, which a
    /// listing entry that leaves them unchanged does not replace with its own (see [`settle`]).
    pub holding: HashSet<TalkId>,
}

impl Settled {
    /// Digests only, nothing settled: the full comparison.
    pub fn nothing(imported: &ImportedSchedule) -> Self {
        let digests: Vec<Option<Digest>> = imported
            .talks
            .iter()
            .map(|t| Some(entry_digest(imported.scope, t)))
            .collect();
        Self {
            settled: vec![false; digests.len()],
            digests,
            ..Self::default()
        }
    }

    /// Nothing settled and no digest computed, for a conference with no stored talk: there is
    /// nothing to compare them with, and each new row's digest is computed as it is written
    /// ([`NewDigest::Entry`]), while the database works through the rows before it. Computed
    /// up front, the digests of a 100,000-talk first import took 0.28 s during which the
    /// database waited.
    pub fn deferred(imported: &ImportedSchedule) -> Self {
        Self {
            settled: vec![false; imported.talks.len()],
            deferred: true,
            ..Self::default()
        }
    }

    /// Whether imported talk `j` is settled.
    pub fn is_settled(&self, j: usize) -> bool {
        self.settled.get(j).copied().unwrap_or(false)
    }

    pub fn digest(&self, j: usize) -> Option<Digest> {
        self.digests.get(j).copied().flatten()
    }

    /// The digest the row of a new talk made of imported talk `j` alone records.
    pub fn new_digest(&self, j: usize) -> NewDigest {
        if self.deferred {
            return NewDigest::Entry(j);
        }
        self.digest(j)
            .map_or(NewDigest::None, |digest| NewDigest::Known(Box::new(digest)))
    }
}

/// Settles the imported entries whose stored row already holds their digest: a timetable's
/// entry by its id, a listing's by a title no other row and no other entry has.
///
/// A row holds one digest. An organiser who imports a timetable and a listing in turn would
/// have each replace the other's on every row the listing names, and neither would ever
/// settle; so a listing entry that leaves a timetable's row (one with a source id) unchanged
/// does not record its digest there if the row holds one. The timetable keeps settling, and
/// a listing settles where no timetable entry owns the row (a listing-only programme,
/// catalogue entries), there replacing an older entry's digest as any entry does.
pub fn settle(stored: &[StoredKey], imported: &ImportedSchedule) -> Settled {
    if stored.is_empty() {
        return Settled::deferred(imported);
    }
    let mut settled = Settled::nothing(imported);
    let rows = match imported.scope {
        ScheduleScope::Timetable => by_source_id(stored, imported),
        ScheduleScope::Catalogue => {
            settled.holding = stored
                .iter()
                .filter(|k| k.digest.is_some() && k.source_id.is_some())
                .map(|k| k.id)
                .collect();
            by_unique_title(stored, imported)
        }
    };
    for (j, key) in rows.into_iter().enumerate() {
        let Some(key) = key else {
            continue;
        };
        if key.digest.is_none() || key.digest != settled.digest(j) {
            continue;
        }
        if let Some(flag) = settled.settled.get_mut(j) {
            *flag = true;
        }
        settled.ids.push(key.id);
        if key.scheduled {
            settled.scheduled += 1;
        }
    }
    settled
}

/// For each imported talk, the row with a digest its id names.
fn by_source_id<'a>(
    stored: &'a [StoredKey],
    imported: &ImportedSchedule,
) -> Vec<Option<&'a StoredKey>> {
    let by_source_id: HashMap<&str, &StoredKey> = stored
        .iter()
        .filter(|k| k.digest.is_some())
        .filter_map(|k| Some((k.source_id.as_deref()?, k)))
        .collect();
    imported
        .talks
        .iter()
        .map(|talk| {
            let id = talk.source_id.as_deref()?;
            by_source_id.get(id).copied()
        })
        .collect()
}

/// For each listing entry, the one row with a digest and its title, when no other row and no
/// other entry has that title: the only row the entry can be merged into, and nothing else
/// is merged into it.
fn by_unique_title<'a>(
    stored: &'a [StoredKey],
    imported: &ImportedSchedule,
) -> Vec<Option<&'a StoredKey>> {
    // `None` once a second row or entry has the title.
    let mut rows: HashMap<String, Option<&StoredKey>> = HashMap::with_capacity(stored.len());
    for key in stored {
        rows.entry(title_key(&key.title))
            .and_modify(|row| *row = None)
            .or_insert(Some(key));
    }
    let titles: Vec<String> = imported.talks.iter().map(|t| title_key(&t.title)).collect();
    let mut entries: HashMap<&str, usize> = HashMap::with_capacity(titles.len());
    for title in &titles {
        *entries.entry(title).or_default() += 1;
    }
    titles
        .iter()
        .map(|title| {
            let row = rows.get(title).copied().flatten()?;
            (entries.get(title.as_str()) == Some(&1) && row.digest.is_some()).then_some(row)
        })
        .collect()
}

#[cfg(test)]
mod equivalence;
#[cfg(test)]
mod tests;
