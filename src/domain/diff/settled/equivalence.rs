//! The settled path against the reference: after any sequence of timetable and listing
//! imports, settling talks by digest leaves the stored programme, and reports each import,
//! exactly as comparing every talk does.

use std::collections::HashMap;

use proptest::prelude::*;

use super::{settle, Digest, StoredKey};
use crate::domain::diff::testing::{apply, at};
use crate::domain::diff::{plan_import, plan_settled, ImportPlan};
use crate::domain::model::{
    ImportedSchedule, ScheduleScope, Slot, SpeakerData, StoredTalk, TalkData, TalkId, TalkStatus,
};

const TALKS: usize = 6;
const PEOPLE: [&str; 3] = ["Ada Lovelace", "Grace Hopper", "Edsger Dijkstra"];

/// What one timetable says about one talk, or that it leaves it out.
#[derive(Debug, Clone)]
struct Entry {
    listed: bool,
    title: u8,
    room: u8,
    hour: u8,
    person: usize,
    abstract_text: Option<u8>,
    cancelled: bool,
}

#[derive(Debug, Clone)]
enum Step {
    /// The entries and the biography version every person has in this export.
    Timetable(Vec<Entry>, u8),
    /// A listing enriching some talks by title: (talk, title variant, abstract, biography).
    Listing(Vec<(usize, u8, u8, u8)>),
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        prop::bool::weighted(0.85),
        0u8..3,
        0u8..2,
        0u8..2,
        0..PEOPLE.len(),
        prop::option::of(0u8..2),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(listed, title, room, hour, person, abstract_text, cancelled)| Entry {
                listed,
                title,
                room,
                hour,
                person,
                abstract_text,
                cancelled,
            },
        )
}

/// How one timetable treats one talk: as the first export had it (so a talk often comes
/// back exactly as it was, after a cancellation or a listing), left out, or changed.
#[derive(Debug, Clone)]
enum Choice {
    AsFirst,
    Absent,
    Changed(Entry),
}

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![
        6 => Just(Choice::AsFirst),
        1 => Just(Choice::Absent),
        3 => entry().prop_map(Choice::Changed),
    ]
}

#[derive(Debug, Clone)]
enum Later {
    Timetable(Vec<Choice>, bool),
    Listing(Vec<(usize, u8, u8, u8)>),
    ListingAgain,
}

/// Imports over one first timetable: later timetables mostly repeat it.
fn steps() -> impl Strategy<Value = Vec<Step>> {
    let timetable = (
        prop::collection::vec(choice(), TALKS),
        prop::bool::weighted(0.7),
    );
    let listing = prop::collection::vec((0..TALKS, 0u8..3, 0u8..2, 0u8..2), 1..4);
    let later = prop_oneof![
        6 => timetable.prop_map(|(choices, same_bios)| Later::Timetable(choices, same_bios)),
        2 => listing.prop_map(Later::Listing),
        // An organiser's listing imported again, so its entries can settle.
        1 => Just(Later::ListingAgain),
    ];
    (
        prop::collection::vec(entry(), TALKS),
        prop::collection::vec(later, 1..8),
    )
        .prop_map(|(first, later)| {
            let mut steps = vec![Step::Timetable(first.clone(), 0)];
            for step in later {
                match step {
                    Later::Timetable(choices, same_bios) => {
                        let entries = first
                            .iter()
                            .zip(choices)
                            .map(|(first, choice)| match choice {
                                Choice::AsFirst => first.clone(),
                                Choice::Absent => Entry {
                                    listed: false,
                                    ..first.clone()
                                },
                                Choice::Changed(entry) => entry,
                            })
                            .collect();
                        steps.push(Step::Timetable(entries, u8::from(!same_bios)));
                    }
                    Later::Listing(entries) => steps.push(Step::Listing(entries)),
                    Later::ListingAgain => {
                        let last = steps.iter().rev().find(|s| matches!(s, Step::Listing(_)));
                        if let Some(last) = last.cloned() {
                            steps.push(last);
                        }
                    }
                }
            }
            steps
        })
}

/// Variant 2 is variant 0 spelled otherwise: the same title to a listing.
fn title(talk: usize, variant: u8) -> String {
    match variant {
        2 => format!("TALK {talk}: take 0!"),
        _ => format!("Talk {talk} take {variant}"),
    }
}

fn schedule(step: &Step) -> ImportedSchedule {
    match step {
        Step::Timetable(entries, bio) => ImportedSchedule {
            talks: entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.listed)
                .map(|(n, e)| TalkData {
                    source_id: Some(format!("t{n}").into()),
                    title: title(n, e.title),
                    abstract_text: e.abstract_text.map(|a| format!("Abstract {a}").into()),
                    speakers: vec![SpeakerData {
                        name: PEOPLE[e.person].to_owned(),
                        source_id: None,
                        biography: Some(format!("{} bio {bio}", PEOPLE[e.person]).into()),
                    }],
                    room: Some(format!("Room {}", e.room).into()),
                    slot: Some(Slot {
                        start: at("2027-03-01T09:00:00Z")
                            + chrono::Duration::hours(i64::from(e.hour)),
                        end: at("2027-03-01T09:45:00Z")
                            + chrono::Duration::hours(i64::from(e.hour)),
                        all_day: false,
                    }),
                    status: if e.cancelled {
                        TalkStatus::Cancelled
                    } else {
                        TalkStatus::Confirmed
                    },
                    ..TalkData::default()
                })
                .collect(),
            ..ImportedSchedule::new(ScheduleScope::Timetable)
        },
        Step::Listing(entries) => ImportedSchedule {
            talks: entries
                .iter()
                .map(|&(n, variant, abstract_text, bio)| TalkData {
                    title: title(n, variant),
                    abstract_text: Some(format!("Listed abstract {abstract_text}").into()),
                    speakers: vec![SpeakerData {
                        name: PEOPLE[n % PEOPLE.len()].to_owned(),
                        source_id: None,
                        biography: Some(format!("listed bio {bio}").into()),
                    }],
                    ..TalkData::default()
                })
                .collect(),
            ..ImportedSchedule::new(ScheduleScope::Catalogue)
        },
    }
}

/// The store's side of the settled path: the rows and the digests it keeps beside them.
#[derive(Default)]
struct Settling {
    talks: Vec<StoredTalk>,
    digests: HashMap<TalkId, Digest>,
}

impl Settling {
    fn import<'a>(&mut self, imported: &'a ImportedSchedule) -> ImportPlan<'a> {
        let keys: Vec<StoredKey> = self
            .talks
            .iter()
            .map(|t| StoredKey {
                id: t.id,
                source_id: t.data.source_id.clone(),
                title: t.data.title.clone(),
                digest: self.digests.get(&t.id).copied(),
                status: t.data.status,
                scheduled: t.data.slot.is_some(),
            })
            .collect();
        let settled = settle(&keys, imported);
        let unsettled: Vec<StoredTalk> = self
            .talks
            .iter()
            .filter(|t| !settled.ids.contains(&t.id))
            .cloned()
            .collect();
        let plan = plan_settled(&unsettled, imported, &settled).expect("plans");
        let next = self.talks.iter().map(|t| t.id.0).max().unwrap_or(0) + 1;
        self.talks = apply(&self.talks, &plan);
        for update in &plan.updates {
            match update.source_digest {
                Some(digest) => self.digests.insert(update.id, digest),
                None => self.digests.remove(&update.id),
            };
        }
        for (offset, digest) in plan.insert_digests.iter().enumerate() {
            if let Some(digest) = digest.resolve(imported) {
                self.digests.insert(TalkId(next + offset as i64), digest);
            }
        }
        self.digests.extend(plan.unchanged_digests.iter().copied());
        plan
    }
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(256))]

    #[test]
    fn settling_by_digest_stores_and_reports_what_comparing_everything_does(
        steps in steps()
    ) {
        let mut reference: Vec<StoredTalk> = Vec::new();
        let mut settling = Settling::default();
        for (n, step) in steps.iter().enumerate() {
            let imported = schedule(step);
            let expected = plan_import(&reference, &imported).expect("plans");
            reference = apply(&reference, &expected);

            let plan = settling.import(&imported);

            prop_assert_eq!(&plan.report(), &expected.report(), "the report of import {}", n);
            prop_assert_eq!(&settling.talks, &reference, "the programme after import {}", n);
        }
    }
}

/// A timetable listing every talk: rooms alternate, people go round, abstracts as given.
fn every_talk(abstract_text: Option<u8>) -> Step {
    Step::Timetable(
        (0..TALKS)
            .map(|n| Entry {
                listed: true,
                title: 0,
                room: (n % 2) as u8,
                hour: 0,
                person: n % PEOPLE.len(),
                abstract_text,
                cancelled: false,
            })
            .collect(),
        0,
    )
}

#[test]
fn an_unchanged_re_import_settles_every_talk_and_reads_none() {
    let imported = schedule(&every_talk(Some(1)));
    let mut settling = Settling::default();
    settling.import(&imported);
    assert_eq!(
        settling.digests.len(),
        TALKS,
        "every new row keeps its digest"
    );

    let plan = settling.import(&imported);

    assert_eq!(plan.report().unchanged, TALKS);
    assert!(plan.report().is_empty() && plan.updates.is_empty() && plan.inserts.is_empty());
    assert!(
        plan.unchanged_digests.is_empty(),
        "settled talks are not even merged"
    );
}

#[test]
fn a_listing_imported_again_settles_every_entry_it_alone_enriched() {
    let first = every_talk(None);
    // Talk 1 twice (its two entries are never settled), talk 4 by another spelling, talk 5
    // under a title no row has (a new catalogue entry).
    let listing = Step::Listing(vec![
        (0, 0, 1, 0),
        (1, 0, 0, 0),
        (1, 0, 1, 1),
        (4, 2, 0, 0),
        (5, 1, 0, 0),
    ]);
    let mut settling = Settling::default();
    settling.import(&schedule(&first));
    let listed = schedule(&listing);
    let enriched = settling.import(&listed).report();
    assert_eq!(enriched.added.len(), 1, "{enriched:?}");
    assert_eq!(enriched.changed.len(), 3, "{enriched:?}");

    let again = settling.import(&listed);

    let report = again.report();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(report.unchanged, 4, "talks 0, 1, 4 and the new entry");
    assert!(again.updates.is_empty() && again.inserts.is_empty());
    assert!(
        again.unchanged_digests.is_empty(),
        "only talk 1 was merged, and it keeps no digest: {:?}",
        again.unchanged_digests
    );
}

#[test]
fn a_timetable_keeps_settling_the_talks_a_listing_enriches_in_turn() {
    // Other people than the listing names, so the two sources never disagree: the listing
    // adds abstracts, which the timetable does not state.
    let Step::Timetable(mut entries, bios) = every_talk(None) else {
        unreachable!("every_talk is a timetable")
    };
    for entry in &mut entries {
        entry.person = (entry.person + 1) % PEOPLE.len();
    }
    let timetable = schedule(&Step::Timetable(entries, bios));
    let listing = schedule(&Step::Listing(vec![(0, 0, 1, 0), (2, 0, 0, 1)]));
    let mut settling = Settling::default();
    settling.import(&timetable);
    let enriched = settling.import(&listing).report();
    assert_eq!(enriched.changed.len(), 2, "{enriched:?}");
    // The enriched rows are compared in full once, and take the timetable's digests back.
    settling.import(&timetable);
    let entry_digests: Vec<Digest> = timetable.talks.iter().map(super::source_digest).collect();
    assert_eq!(settling.digests.len(), TALKS);
    assert!(settling.digests.values().all(|d| entry_digests.contains(d)));
    let timetable_digests = settling.digests.clone();

    let relisted = settling.import(&listing);

    assert!(relisted.report().is_empty(), "{:?}", relisted.report());
    assert!(
        relisted.unchanged_digests.is_empty() && relisted.updates.is_empty(),
        "a listing leaving a row as it is does not displace the row's timetable digest"
    );
    assert_eq!(settling.digests, timetable_digests);
    let last = settling.import(&timetable);
    assert_eq!(last.report().unchanged, TALKS);
    assert!(last.unchanged_digests.is_empty(), "every talk settled");
}

#[test]
fn a_listing_only_talk_takes_the_digest_of_an_entry_that_leaves_it_unchanged() {
    let first = schedule(&Step::Listing(vec![(0, 0, 1, 0)]));
    // The same talk under another spelling of its title, which a listing never renames.
    let respelled = schedule(&Step::Listing(vec![(0, 2, 1, 0)]));
    let mut settling = Settling::default();
    settling.import(&first);

    let unchanged = settling.import(&respelled);

    assert!(unchanged.report().is_empty(), "{:?}", unchanged.report());
    assert_eq!(
        settling.digests.values().copied().collect::<Vec<_>>(),
        [super::listing_digest(&respelled.talks[0])],
        "a row no timetable owns takes the new entry's digest, so it settles next time"
    );
}
