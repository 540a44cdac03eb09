//! A wrong source must not wipe a programme: another conference's file imported into a slug,
//! or a URL that now serves a different event, would cancel nearly every talk and send every
//! subscriber a cancellation. Such an import is refused with the numbers unless the organiser
//! confirms it.

use std::collections::HashSet;
use std::fmt;

use chrono_tz::Tz;

use crate::domain::diff::{ImportDiff, StoredKey};
use crate::domain::model::{ImportedSchedule, TalkStatus};

/// Why an import needs the organiser's confirmation. Safe to show to the organiser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MassChange {
    /// Scheduled talks the import would cancel, of how many.
    pub cancelled: usize,
    pub scheduled: usize,
    /// The conference's zone before and after, when the import changes it.
    pub zone: Option<(Tz, Tz)>,
}

impl fmt::Display for MassChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut reasons = Vec::new();
        if is_mass_cancellation(self.cancelled, self.scheduled) {
            let noun = if self.scheduled == 1 { "talk" } else { "talks" };
            reasons.push(format!(
                "would cancel {} of {} {noun}",
                self.cancelled, self.scheduled
            ));
        }
        if let Some((from, to)) = self.zone {
            reasons.push(format!("would change the time zone from {from} to {to}"));
        }
        write!(
            f,
            "this import {}: refused in case it is another conference's schedule, nothing was \
             changed",
            reasons.join(" and ")
        )
    }
}

/// More than half of the scheduled talks.
fn is_mass_cancellation(cancelled: usize, scheduled: usize) -> bool {
    scheduled > 0 && cancelled * 2 > scheduled
}

/// Whether applying `diff` (planned from `imported`) over `stored` (a conference whose zone was `zone_before`, `None`
/// for a new one) to a conference in `zone_after` needs confirming: it cancels more than
/// half of the scheduled (confirmed, timed) talks, or changes the zone of a conference that
/// has scheduled talks.
pub fn mass_change(
    stored: &[StoredKey],
    imported: &ImportedSchedule,
    diff: &ImportDiff,
    zone_before: Option<Tz>,
    zone_after: Tz,
) -> Option<MassChange> {
    let scheduled = stored
        .iter()
        .filter(|t| t.status == TalkStatus::Confirmed && t.scheduled)
        .count();
    let confirmed = TalkStatus::Confirmed;
    let cancelled_status = TalkStatus::Cancelled;
    // Only talks that vanished from the source count: one the source itself marks cancelled
    // (STATUS:CANCELLED, a "CANCELLED" title) is the organiser's word, not a wrong file.
    let stated_cancelled: HashSet<&str> = imported
        .talks
        .iter()
        .filter(|t| t.status == TalkStatus::Cancelled)
        .filter_map(|t| t.source_id.as_deref())
        .collect();
    let cancelled = diff
        .cancelled
        .iter()
        .chain(&diff.changed)
        .filter(|e| {
            e.before.as_ref().is_some_and(|b| b.status == confirmed)
                && e.after.status == cancelled_status
                && !e
                    .source_id
                    .as_deref()
                    .is_some_and(|id| stated_cancelled.contains(id))
        })
        .count();
    // A conference without scheduled talks (new, or created by a talk listing with the
    // default zone) has no times a zone change could shift.
    let zone = zone_before
        .filter(|before| scheduled > 0 && *before != zone_after)
        .map(|before| (before, zone_after));
    (is_mass_cancellation(cancelled, scheduled) || zone.is_some()).then_some(MassChange {
        cancelled,
        scheduled,
        zone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diff::{DiffEntry, Placement};
    use crate::domain::model::{ScheduleScope, StoredTalk, TalkData};
    use crate::domain::programme::testing;

    fn stored(n: usize) -> Vec<StoredTalk> {
        (0..n)
            .map(|i| {
                let data = TalkData {
                    source_id: Some(format!("t{i}").into()),
                    ..testing::talk(
                        &format!("Talk {i}"),
                        "Speaker",
                        "Hall",
                        "2026-06-12T08:00:00Z",
                        60,
                    )
                };
                testing::stored(i, data)
            })
            .collect()
    }

    /// `n` confirmed, scheduled talks as a re-import first reads them.
    fn keys(n: usize) -> Vec<StoredKey> {
        stored(n)
            .into_iter()
            .map(|t| StoredKey {
                id: t.id,
                source_id: t.data.source_id,
                title: t.data.title,
                digest: None,
                status: t.data.status,
                scheduled: t.data.slot.is_some(),
            })
            .collect()
    }

    fn cancelling(n: usize) -> ImportDiff {
        let placement = |status: TalkStatus| Placement {
            start: None,
            end: None,
            room: None,
            status,
        };
        ImportDiff {
            cancelled: (0..n)
                .map(|i| DiffEntry {
                    talk_id: Some(i as i64),
                    source_id: None,
                    title: format!("Talk {i}"),
                    fields: Vec::new(),
                    before: Some(Box::new(placement(TalkStatus::Confirmed))),
                    after: placement(TalkStatus::Cancelled),
                })
                .collect(),
            ..ImportDiff::default()
        }
    }

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn empty() -> ImportedSchedule {
        ImportedSchedule::new(ScheduleScope::Timetable)
    }

    #[test]
    fn talks_the_source_itself_marks_cancelled_do_not_count() {
        let mut imported = empty();
        let mut diff = cancelling(3);
        for (i, entry) in diff.cancelled.iter_mut().enumerate() {
            entry.source_id = Some(format!("t{i}"));
            let mut talk = stored(1).remove(0).data;
            talk.source_id = Some(format!("t{i}").into());
            talk.status = TalkStatus::Cancelled;
            imported.talks.push(talk);
        }
        assert_eq!(mass_change(&keys(4), &imported, &diff, None, BERLIN), None);
        imported.talks.pop();
        let change = mass_change(&keys(4), &imported, &diff, None, BERLIN);
        assert_eq!(change, None, "1 of 4 vanished");
        let change = mass_change(&keys(1), &imported, &diff, None, BERLIN).expect("refused");
        assert_eq!(change.cancelled, 1);
    }

    #[test]
    fn cancelling_more_than_half_of_the_talks_needs_confirming_and_says_how_many() {
        let change = mass_change(&keys(420), &empty(), &cancelling(412), Some(BERLIN), BERLIN)
            .expect("refused");
        assert_eq!(
            change.to_string(),
            "this import would cancel 412 of 420 talks: refused in case it is another \
             conference's schedule, nothing was changed"
        );
    }

    #[test]
    fn cancelling_half_or_fewer_goes_through() {
        assert_eq!(
            mass_change(&keys(420), &empty(), &cancelling(210), Some(BERLIN), BERLIN),
            None
        );
        assert_eq!(
            mass_change(&[], &empty(), &ImportDiff::default(), None, BERLIN),
            None
        );
    }

    #[test]
    fn changing_the_zone_of_an_existing_conference_needs_confirming() {
        let change = mass_change(
            &keys(10),
            &empty(),
            &ImportDiff::default(),
            Some(BERLIN),
            chrono_tz::America::New_York,
        )
        .expect("refused");
        assert!(
            change
                .to_string()
                .contains("would change the time zone from Europe/Berlin to America/New_York"),
            "{change}"
        );
        assert_eq!(
            mass_change(&[], &empty(), &ImportDiff::default(), None, chrono_tz::UTC),
            None,
            "a new conference has no zone to change"
        );
    }
}
