//! The added talks of an import's report, described once the talks are written.
//!
//! A first import of 100,000 talks holds every talk while the database is written. A report
//! entry copied from each new talk (its id, title and room) was 33 MB more at that peak, so
//! the plan keeps only where each new talk came from, and the store describes them after
//! the writes by moving those three fields out of the talks as it frees them.

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

/// The report's entries for a plan's new talks, in the plan's order (which is the order of
/// the entries they were made from), `ids[i]` being the id of the `i`th (none where there are
/// fewer ids). Takes the imported `talks` apart: their ids, titles and rooms move into the
/// entries, and the rest of each talk is freed as it is passed. The entries are written over
/// the talks' own list, whose entries are larger, so no second list of 100,000 is allocated
/// while the talks are held.
pub fn describe(added: Vec<Added>, talks: Vec<TalkData>, ids: &[i64]) -> Vec<DiffEntry> {
    let mut added = added.into_iter().enumerate().peekable();
    let described = talks
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
    debug_assert!(
        added.next().is_none(),
        "every added talk names an imported talk, in order"
    );
    described
}

/// The entry of a new talk, copied from it (for a plan that is only read).
pub(super) fn copied(talk: &TalkData) -> DiffEntry {
    DiffEntry {
        talk_id: None,
        source_id: talk.source_id.clone(),
        title: talk.title.clone(),
        fields: Vec::new(),
        before: None,
        after: Placement::of(talk),
    }
}

/// The entry of a new talk, made of its strings; the rest of it is dropped.
fn taken(talk_id: Option<i64>, talk: TalkData) -> DiffEntry {
    DiffEntry {
        talk_id,
        after: Placement {
            start: talk.slot.map(|s| s.start),
            end: talk.slot.map(|s| s.end),
            room: talk.room,
            status: talk.status,
        },
        source_id: talk.source_id,
        title: talk.title,
        fields: Vec::new(),
        before: None,
    }
}
