//! Talks a re-import cannot change, recognised without reading them.
//!
//! Each talk row written from a timetable keeps the digest of what the timetable said about it
//! (its [`source_digest`]). When the next timetable states the same id with the same digest,
//! merging it again would give the stored row back unchanged: merging is idempotent, and every
//! other write to the row (a cancellation, a listing's enrichment) clears the digest. Such a
//! talk is *settled*: counted as unchanged without loading its texts or merging it, which is
//! most of a re-import's work when most of a programme did not change.
//!
//! One thing is shared between talks: a person's name and biography live once, in their
//! speaker row. So the store keeps a digest only while the row reads back as its entry states
//! it: a person's row that changes clears the digests of all their talks, and a talk whose
//! entry spells a person differently from another entry in the same import gets none.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use crate::domain::model::{
    ImportedSchedule, ScheduleScope, StoredTalk, TalkData, TalkId, TalkStatus,
};

/// A SHA-256 digest of one talk as a source stated it.
pub type Digest = [u8; 32];

/// Bumped when the digest's input changes, so digests of an older layout never match.
const LAYOUT: &[u8] = b"confbot talk source digest 1\0";

/// The digest of everything `talk` states. Every field is length-prefixed and every absence
/// marked, so no two different talks write the same bytes into the hash.
pub fn source_digest(talk: &TalkData) -> Digest {
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
    hash.update(LAYOUT);
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
    pub source_id: Option<String>,
    /// The digest of the timetable entry the row was last written from; `None` when
    /// something else wrote it last.
    pub digest: Option<Digest>,
    pub status: TalkStatus,
    pub scheduled: bool,
}

impl StoredKey {
    /// The key of a talk already read in full; its digest is not needed then.
    pub fn of(talk: &StoredTalk) -> Self {
        Self {
            id: talk.id,
            source_id: talk.data.source_id.clone(),
            digest: None,
            status: talk.data.status,
            scheduled: talk.data.slot.is_some(),
        }
    }
}

/// Which imported talks are settled, and the digests of all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// `digests[j]` is the digest of imported talk `j`: `None` for a listing's entries,
    /// which enrich rows but never own them.
    pub digests: Vec<Option<Digest>>,
    /// `settled[j]`: imported talk `j` is its stored row, unchanged.
    pub settled: Vec<bool>,
    /// The stored rows of the settled talks.
    pub ids: Vec<TalkId>,
    /// How many of those rows have a time slot.
    pub scheduled: usize,
}

impl Settled {
    /// Digests only, nothing settled: the full comparison.
    pub fn nothing(imported: &ImportedSchedule) -> Self {
        let digests: Vec<Option<Digest>> = match imported.scope {
            ScheduleScope::Timetable => imported
                .talks
                .iter()
                .map(|t| Some(source_digest(t)))
                .collect(),
            ScheduleScope::Catalogue => vec![None; imported.talks.len()],
        };
        Self {
            settled: vec![false; digests.len()],
            digests,
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
}

/// Settles the imported talks whose id names a stored row carrying their digest.
pub fn settle(stored: &[StoredKey], imported: &ImportedSchedule) -> Settled {
    let mut settled = Settled::nothing(imported);
    if imported.scope != ScheduleScope::Timetable {
        return settled;
    }
    let by_source_id: HashMap<&str, &StoredKey> = stored
        .iter()
        .filter(|k| k.digest.is_some())
        .filter_map(|k| Some((k.source_id.as_deref()?, k)))
        .collect();
    for (j, talk) in imported.talks.iter().enumerate() {
        let Some(key) = talk
            .source_id
            .as_deref()
            .and_then(|id| by_source_id.get(id))
        else {
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

#[cfg(test)]
mod equivalence;
#[cfg(test)]
mod tests;
