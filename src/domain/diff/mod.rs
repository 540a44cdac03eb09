//! Re-import as a diff: the stored talks of a conference and a freshly imported schedule in,
//! a plan of inserts and updates plus a human- and machine-readable [`ImportDiff`] out.
//!
//! Rules:
//! - A timetable talk is matched by its source id; failing that, by its pretalx code (so one
//!   conference imported as .ics, then JSON, then XML is the same talks); failing that, a catalogue entry (from a talk
//!   listing, without id) with the same normalised title adopts the id, so a listing imported
//!   before the timetable is merged, not duplicated.
//! - A catalogue talk (listing, proposal page) is matched by normalised title (a shared speaker
//!   breaks ties) and only enriches: it never moves, renames or cancels anything.
//! - A talk that disappeared from the timetable is cancelled, never deleted, so subscriptions
//!   to it survive; if it comes back it is confirmed again.
//! - A field the source does not state (`None`) keeps its stored value.

use std::collections::{HashMap, HashSet};

use crate::domain::model::{
    ImportedSchedule, ScheduleScope, StoredTalk, TalkData, TalkId, TalkStatus,
};

mod added;
mod guard;
mod index;
mod merge;
mod report;
mod settled;
mod talk_ref;

pub use added::{describe as describe_added, Added, Described};
pub use guard::{mass_change, MassChange};
pub use report::{DiffEntry, Field, ImportDiff, Placement};
pub use settled::{listing_digest, settle, source_digest, Digest, NewDigest, Settled, StoredKey};
pub use talk_ref::TalkRef;

use index::Index;
pub use merge::changed_fields;
use merge::{merge, new_talk};

/// An update of a stored talk.
#[derive(Debug, Clone, PartialEq)]
pub struct TalkUpdate {
    pub id: TalkId,
    pub data: TalkData,
    /// Whether start, end, room or status changed (the schedule version is bumped).
    pub reschedules: bool,
    /// Whether the speaker list (names or order) changed (links are rewritten).
    pub speakers_changed: bool,
    /// The digest of the one entry the new version was merged from; `None` for a
    /// cancellation, or a row more than one entry was merged into (see [`settled`]).
    pub source_digest: Option<Digest>,
}

/// What the store must write, and the report of it: `inserts[i]` is the report's `added[i]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan<'a> {
    /// A new talk an entry states as it is borrows that entry: a first import of 100,000
    /// talks would otherwise hold every talk twice while the database is written.
    pub inserts: Vec<TalkRef<'a>>,
    /// `insert_entries[i]` is the index of the imported talk `inserts[i]` was made from.
    insert_entries: Vec<usize>,
    /// `insert_digests[i]` is the digest `inserts[i]`'s row records (of the timetable's or the
    /// listing's layout), possibly still to be computed ([`NewDigest::Entry`]).
    pub insert_digests: Vec<NewDigest>,
    pub updates: Vec<TalkUpdate>,
    /// Stored talks one entry left as they were, with that entry's digest to record: they hold
    /// another or none (a listing's entry records its digest only on a talk holding none,
    /// see [`settle`]).
    pub unchanged_digests: Vec<(TalkId, Digest)>,
    /// The report but for its added talks (`added` is empty): they are described from
    /// `inserts` by [`ImportPlan::report`], or once written by [`ImportPlan::finish`].
    pub changes: ImportDiff,
}

impl ImportPlan<'_> {
    /// The whole report, its added talks copied from `inserts` (with no talk ids).
    pub fn report(&self) -> ImportDiff {
        ImportDiff {
            added: self.inserts.iter().map(|t| added::copied(t)).collect(),
            ..self.changes.clone()
        }
    }

    /// The report but for its added talks, and what [`describe_added`] needs to describe
    /// them; the rest of the plan dropped, so that the imported talks it borrowed may be
    /// taken apart.
    pub fn finish(self) -> (ImportDiff, Vec<Added>) {
        let added = self
            .inserts
            .into_iter()
            .zip(self.insert_entries)
            .map(|(talk, entry)| Added {
                entry,
                made: match talk {
                    TalkRef::Borrowed(_) => None,
                    TalkRef::Owned(talk) => Some(talk),
                },
            })
            .collect();
        (self.changes, added)
    }
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

/// Plans an import of `imported` over all of the conference's `stored` talks, comparing
/// every one: the reference [`plan_settled`] must agree with.
pub fn plan_import<'a>(
    stored: &[StoredTalk],
    imported: &'a ImportedSchedule,
) -> Result<ImportPlan<'a>, PlanError> {
    plan_settled(stored, imported, &Settled::nothing(imported))
}

/// Plans an import over the conference's talks, of which `stored` holds every one but the
/// rows `settled` already matched to an unchanged entry (see [`settle`]).
pub fn plan_settled<'a>(
    stored: &[StoredTalk],
    imported: &'a ImportedSchedule,
    settled: &Settled,
) -> Result<ImportPlan<'a>, PlanError> {
    check_unique_source_ids(&imported.talks)?;
    #[cfg(debug_assertions)]
    {
        let settled_ids: HashSet<TalkId> = settled.ids.iter().copied().collect();
        debug_assert!(
            stored.iter().all(|t| !settled_ids.contains(&t.id)),
            "a settled row was passed to be compared: it would be cancelled"
        );
        debug_assert!(
            !settled.deferred || stored.is_empty(),
            "digests deferred with stored rows to compare: their digests would be lost"
        );
    }
    let mut index = Index::new(stored, &imported.talks);
    // A stored talk is copied only when the import touches it.
    let mut working: Vec<TalkRef<'_>> = stored.iter().map(|t| TalkRef::Borrowed(&t.data)).collect();
    let mut touched: HashSet<usize> = HashSet::new();
    // The entry each touched row was merged from; `None` after a second one.
    let mut merged_from: HashMap<usize, Option<usize>> = HashMap::new();
    // With nothing stored at most every entry is new: sized once, a first import's lists are
    // not copied as they grow. A re-import's new talks are few.
    let at_most = match stored {
        [] => imported.talks.len().saturating_sub(settled.ids.len()),
        _ => 0,
    };
    let mut inserts: Vec<TalkRef<'a>> = Vec::with_capacity(at_most);
    let mut insert_entries: Vec<usize> = Vec::with_capacity(at_most);
    let mut insert_digests: Vec<NewDigest> = Vec::with_capacity(at_most);

    for (j, talk) in imported.talks.iter().enumerate() {
        if settled.is_settled(j) {
            continue;
        }
        let target = match imported.scope {
            ScheduleScope::Timetable => index.find_for_timetable(talk, &working),
            ScheduleScope::Catalogue => index.find_by_title(talk, &working, &inserts),
        };
        match target {
            Some(Target::Stored(i)) => {
                merge(working[i].to_mut(), talk, imported.scope);
                index.note_source_id(i, &working[i]);
                touched.insert(i);
                merged_from
                    .entry(i)
                    .and_modify(|from| *from = None)
                    .or_insert(Some(j));
            }
            Some(Target::New(i)) => {
                merge(inserts[i].to_mut(), talk, imported.scope);
                if let Some(digest) = insert_digests.get_mut(i) {
                    *digest = NewDigest::None;
                }
            }
            None => {
                // Only a listing's entries are matched to new talks by title (`find_by_title`);
                // a timetable's title lookups want stored rows. Indexing a timetable's new
                // talks cost a 100,000-talk first import a title key and an entry per talk.
                if imported.scope == ScheduleScope::Catalogue {
                    index.note_new(inserts.len(), talk);
                }
                inserts.push(new_talk(talk, imported.scope));
                insert_entries.push(j);
                insert_digests.push(settled.new_digest(j));
            }
        }
    }
    let digest_of = |i: usize| {
        merged_from
            .get(&i)
            .copied()
            .flatten()
            .and_then(|j| settled.digest(j))
    };

    let mut plan = ImportPlan::default();
    plan.changes.scheduled_before =
        stored.iter().filter(|t| t.data.slot.is_some()).count() + settled.scheduled;
    plan.changes.unchanged = settled.ids.len();
    if imported.scope == ScheduleScope::Timetable {
        // A timetable talk (one with a source id) missing from the new timetable was
        // cancelled, unless its event was there but could not be read: then it stays as it
        // was, since cancelling would tell every subscriber a falsehood.
        for (i, talk) in working.iter_mut().enumerate() {
            let Some(id) = talk.source_id.as_deref().filter(|_| !touched.contains(&i)) else {
                continue;
            };
            if is_unreadable(id, &imported.unreadable) {
                if let Some(stored_talk) = stored.get(i) {
                    plan.changes.kept.push(DiffEntry {
                        talk_id: Some(stored_talk.id.0),
                        source_id: Some(id.to_owned()),
                        title: talk.title.clone(),
                        fields: Vec::new(),
                        before: None,
                        after: Placement::of(talk),
                    });
                }
            } else if talk.status == TalkStatus::Confirmed {
                talk.to_mut().status = TalkStatus::Cancelled;
                touched.insert(i);
            }
        }
    }

    let mut touched: Vec<usize> = touched.into_iter().collect();
    touched.sort_unstable();
    for i in touched {
        let Some(stored_talk) = stored.get(i) else {
            continue;
        };
        let before = &stored_talk.data;
        // Every touched talk was merged or cancelled, so this moves the copy, never clones.
        let after = std::mem::replace(&mut working[i], TalkRef::Borrowed(before)).into_owned();
        let fields = changed_fields(before, &after);
        if fields.is_empty() {
            plan.changes.unchanged += 1;
            if before.source_id != after.source_id {
                // A catalogue entry adopted a timetable id: persist it, nothing to report.
                plan.updates.push(TalkUpdate {
                    id: stored_talk.id,
                    data: after,
                    reschedules: false,
                    speakers_changed: false,
                    source_digest: digest_of(i),
                });
            } else if let Some(digest) = digest_of(i) {
                if !settled.holding.contains(&stored_talk.id) {
                    plan.unchanged_digests.push((stored_talk.id, digest));
                }
            }
            continue;
        }
        let entry = DiffEntry {
            talk_id: Some(stored_talk.id.0),
            source_id: after.source_id.as_deref().map(str::to_owned),
            title: after.title.clone(),
            before: Some(Box::new(Placement::of(before))),
            after: Placement::of(&after),
            fields: Vec::new(),
        };
        let reschedules = fields.iter().any(|f| f.affects_schedule());
        let speakers_changed = fields.contains(&Field::Speakers);
        let cancelled_now =
            before.status == TalkStatus::Confirmed && after.status == TalkStatus::Cancelled;
        if cancelled_now && fields == [Field::Status] {
            plan.changes.cancelled.push(entry);
        } else {
            plan.changes.changed.push(DiffEntry { fields, ..entry });
        }
        plan.updates.push(TalkUpdate {
            id: stored_talk.id,
            data: after,
            reschedules,
            speakers_changed,
            source_digest: digest_of(i),
        });
    }
    plan.inserts = inserts;
    plan.insert_entries = insert_entries;
    plan.insert_digests = insert_digests;
    Ok(plan)
}

/// Whether a stored talk's id belongs to an event that could not be read: the event's UID
/// itself, or one of its occurrences (`uid/20270326T120000Z`).
fn is_unreadable(id: &str, unreadable: &[String]) -> bool {
    unreadable.iter().any(|uid| {
        id == uid
            || id
                .strip_prefix(uid.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

fn check_unique_source_ids(talks: &[TalkData]) -> Result<(), PlanError> {
    // The ids alone: with each title beside it, the set was 2.1 MB more of a 100,000-talk
    // import. The first holder's title is looked up only when a repeat is found.
    let mut seen: HashSet<&str> = HashSet::with_capacity(talks.len());
    for (at, talk) in talks.iter().enumerate() {
        let Some(id) = talk.source_id.as_deref() else {
            continue;
        };
        if !seen.insert(id) {
            let first = talks
                .get(..at)
                .unwrap_or_default()
                .iter()
                .find(|t| t.source_id.as_deref() == Some(id))
                .map_or("", |t| t.title.as_str());
            return Err(PlanError::DuplicateSourceId {
                id: id.to_owned(),
                first: first.to_owned(),
                second: talk.title.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_inserts;
