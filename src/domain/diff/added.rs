//! The added talks of an import's report, described once the talks are written.
//!
//! A first import of 100,000 talks holds every talk while the database is written. A report
//! entry copied from each new talk (its id, title and room) was 33 MB more at that peak, so
//! the plan keeps only where each new talk came from, and the store describes them after
//! the writes, by moving those three fields out of the talks as it frees them.

use super::report::{DiffEntry, Placement};
use crate::domain::model::TalkData;

/// One of a plan's new talks, to describe in the report.
#[derive(Debug)]
pub struct Added {
    /// The index of the imported talk it was made from.
    pub(super) entry: usize,
    /// The talk itself when the plan changed it from that entry (a catalogue entry's
    /// placement dropped, or entries merged); `None` when it is the entry as it stands.
    pub(super) made: Option<Box<TalkData>>,
}

/// The report's entries for a plan's new talks, and the imported talks they were not made
/// by taking apart.
#[derive(Debug)]
pub struct Described {
    pub entries: Vec<DiffEntry>,
    /// Left whole, to be freed where it costs the import no time.
    pub untouched: Vec<TalkData>,
}

/// The report's entries for a plan's new talks, in the plan's order (which is the order of
/// the entries they were made from), `ids[i]` being the id of the `i`th (none where there are
/// fewer ids). Fewer entries than `added` means they were not made of these `talks`.
///
/// When the new talks are most of the talks (a first import), the talks are taken apart:
/// their ids, titles and rooms move into the entries, which are written over the talks' own
/// list (whose entries are larger), and the rest of each talk is freed as it is passed, so no
/// second list of 100,000 is allocated while the talks are held. Otherwise the few entries
/// are copies and the talks are left whole: freeing every talk here would cost a re-import a
/// tenth of a second or more.
pub fn describe(added: Vec<Added>, talks: Vec<TalkData>, ids: &[i64]) -> Described {
    if added.len().saturating_mul(2) < talks.len() {
        let entries = added
            .into_iter()
            .enumerate()
            .filter_map(|(i, Added { entry, made })| {
                let talk_id = ids.get(i).copied();
                Some(match made {
                    Some(made) => taken(talk_id, *made),
                    None => DiffEntry {
                        talk_id,
                        ..copied(talks.get(entry)?)
                    },
                })
            })
            .collect();
        return Described {
            entries,
            untouched: talks,
        };
    }
    let mut added = added.into_iter().enumerate().peekable();
    let mut entries: Vec<DiffEntry> = talks
        .into_iter()
        .enumerate()
        .filter_map(|(j, talk)| {
            let (i, Added { made, .. }) = added.next_if(|(_, added)| added.entry == j)?;
            let talk = match made {
                Some(made) => *made,
                None => talk,
            };
            Some(taken(ids.get(i).copied(), talk))
        })
        .collect();
    // The list is the talks' own, sized for every talk: shrunk in place.
    entries.shrink_to_fit();
    Described {
        entries,
        untouched: Vec::new(),
    }
}

/// The entry of a new talk, copied from it (for a plan that is only read).
pub(super) fn copied(talk: &TalkData) -> DiffEntry {
    DiffEntry {
        talk_id: None,
        source_id: talk.source_id.as_deref().map(str::to_owned),
        title: talk.title.clone(),
        fields: Vec::new(),
        before: None,
        after: Placement::of(talk),
    }
}

/// The entry of a new talk, made of its strings (its room, shared with other talks, is
/// copied); the rest of it is dropped.
fn taken(talk_id: Option<i64>, talk: TalkData) -> DiffEntry {
    DiffEntry {
        talk_id,
        after: Placement {
            start: talk.slot.map(|s| s.start),
            end: talk.slot.map(|s| s.end),
            room: talk.room.as_deref().map(str::to_owned),
            status: talk.status,
        },
        source_id: talk.source_id.map(String::from),
        title: talk.title,
        fields: Vec::new(),
        before: None,
    }
}
