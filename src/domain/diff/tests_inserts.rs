//! New talks in a plan borrow the entries that state them as they are.

use super::testing::timetable_talk;
use super::tests::{schedule, two_talks};
use super::*;

fn entry(title: &str, description: Option<&str>) -> TalkData {
    TalkData {
        title: title.to_owned(),
        description: description.map(Into::into),
        ..TalkData::default()
    }
}

// The variant is what is checked, so the `TalkRef` itself is passed.
fn borrows(insert: &TalkRef<'_>, entry: &TalkData) -> bool {
    matches!(insert, TalkRef::Borrowed(t) if std::ptr::eq(*t, entry))
}

#[test]
fn a_timetable_first_import_borrows_every_new_talk() {
    let imported = two_talks();

    let plan = plan_import(&[], &imported).expect("plans");

    assert_eq!(plan.inserts.len(), 2);
    for (insert, talk) in plan.inserts.iter().zip(&imported.talks) {
        assert!(borrows(insert, talk), "{insert:?} is a copy");
    }
}

#[test]
fn a_listing_entry_is_borrowed_unless_its_placement_must_be_dropped() {
    let placed = timetable_talk(
        "X",
        "Placed",
        "Barn",
        "2026-04-25T22:45:00Z",
        "2026-04-25T23:10:00Z",
    );
    let imported = schedule(
        ScheduleScope::Catalogue,
        vec![
            entry("Plain", Some("As listed.")),
            placed,
            TalkData {
                room: Some("Loft".into()),
                ..entry("Roomed", None)
            },
        ],
    );

    let plan = plan_import(&[], &imported).expect("plans");

    assert!(borrows(&plan.inserts[0], &imported.talks[0]));
    let TalkRef::Owned(unplaced) = &plan.inserts[1] else {
        panic!(
            "a placed listing entry was borrowed as it is: {:?}",
            plan.inserts[1]
        );
    };
    assert_eq!(unplaced.title, "Placed");
    assert_eq!(
        (&unplaced.source_id, &unplaced.slot, &unplaced.room),
        (&None, &None, &None)
    );
    assert!(
        imported.talks[1].slot.is_some(),
        "the import itself is left as it was"
    );
    assert_eq!(
        plan.inserts[2].room, None,
        "a room alone is a placement too"
    );
}

#[test]
fn a_new_talk_two_entries_merge_into_is_a_copy_and_the_entries_stay_as_they_were() {
    let imported = schedule(
        ScheduleScope::Catalogue,
        vec![
            entry("Twice", None),
            entry("Twice", Some("From the second entry.")),
        ],
    );

    let plan = plan_import(&[], &imported).expect("plans");

    assert_eq!(plan.inserts.len(), 1);
    assert!(matches!(plan.inserts[0], TalkRef::Owned(_)));
    assert_eq!(
        plan.inserts[0].description.as_deref(),
        Some("From the second entry.")
    );
    assert_eq!(imported.talks[0].description, None);
}

#[test]
fn the_added_talks_are_described_from_the_talks_they_were_made_of_under_their_ids() {
    let imported = two_talks();
    let stored = super::testing::apply(&[], &plan_import(&[], &imported).expect("plans"));
    let mut again = two_talks();
    again.talks.insert(
        1,
        timetable_talk(
            "N",
            "New",
            "Loft",
            "2026-04-26T10:00:00Z",
            "2026-04-26T10:30:00Z",
        ),
    );
    again.talks.push(timetable_talk(
        "M",
        "Newer",
        "Barn",
        "2026-04-26T11:00:00Z",
        "2026-04-26T11:30:00Z",
    ));

    let plan = plan_import(&stored, &again).expect("plans");
    let report = plan.report();
    let (diff, added) = plan.finish();
    let talks = again.talks;
    let list = talks.as_ptr() as usize;
    let Described { entries, untouched } = describe_added(added, talks, &[70, 71]);
    let described = entries;

    let ids: Vec<Option<i64>> = described.iter().map(|e| e.talk_id).collect();
    assert_eq!(ids, [Some(70), Some(71)]);
    assert_eq!(
        described.as_ptr() as usize,
        list,
        "the entries are written over the talks' own list"
    );
    assert!(untouched.is_empty());
    let without_ids: Vec<DiffEntry> = described
        .into_iter()
        .map(|e| DiffEntry { talk_id: None, ..e })
        .collect();
    assert_eq!(without_ids, report.added, "the entries a copy gives");
    assert_eq!(without_ids[0].after.room.as_deref(), Some("Loft"));
    assert_eq!(
        diff,
        ImportDiff {
            added: Vec::new(),
            ..report
        }
    );
}

#[test]
fn a_new_talk_the_plan_made_is_described_as_made_not_as_its_entry_states_it() {
    let imported = schedule(
        ScheduleScope::Catalogue,
        vec![
            entry("Plain", None),
            TalkData {
                room: Some("Loft".into()),
                ..entry("Roomed", None)
            },
            entry("Twice", None),
            entry("Twice", Some("Merged.")),
        ],
    );

    let (_, added) = plan_import(&[], &imported).expect("plans").finish();
    let described = describe_added(added, imported.talks.clone(), &[5]).entries;

    let entries: Vec<(Option<i64>, &str, Option<&str>)> = described
        .iter()
        .map(|e| (e.talk_id, e.title.as_str(), e.after.room.as_deref()))
        .collect();
    assert_eq!(
        entries,
        [
            (Some(5), "Plain", None),
            (None, "Roomed", None),
            (None, "Twice", None)
        ],
        "no id past the ids given; a listing's room is not a placement"
    );
}

#[test]
fn a_few_added_talks_are_copies_and_every_talk_is_handed_back_whole() {
    let imported = two_talks();
    let stored = super::testing::apply(&[], &plan_import(&[], &imported).expect("plans"));
    let mut again = two_talks();
    let new = timetable_talk(
        "N",
        "New",
        "Loft",
        "2026-04-26T10:00:00Z",
        "2026-04-26T10:30:00Z",
    );
    again.talks.insert(1, new.clone());

    let plan = plan_import(&stored, &again).expect("plans");
    let report = plan.report();
    let (_, added) = plan.finish();
    let expected = again.talks.clone();
    let Described { entries, untouched } = describe_added(added, again.talks, &[9]);

    assert_eq!(
        entries,
        [DiffEntry {
            talk_id: Some(9),
            ..report.added[0].clone()
        }]
    );
    assert_eq!(entries[0].title, "New");
    assert_eq!(untouched, expected, "handed back as they were");
    assert_eq!(untouched[1], new);
}

#[test]
fn an_import_stating_one_id_twice_is_refused_naming_both_talks() {
    let talk = |id: &str, title: &str, hour: u32| {
        let start = format!("2026-04-25T{hour:02}:00:00Z");
        let end = format!("2026-04-25T{hour:02}:30:00Z");
        timetable_talk(id, title, "Barn", &start, &end)
    };
    let imported = schedule(
        ScheduleScope::Timetable,
        vec![
            talk("A", "Glue", 9),
            talk("B", "Opening", 10),
            talk("C", "Lunch", 11),
            talk("B", "Closing", 12),
        ],
    );

    let refused = plan_import(&[], &imported).map(|_| ());

    assert_eq!(
        refused,
        Err(PlanError::DuplicateSourceId {
            id: "B".into(),
            first: "Opening".into(),
            second: "Closing".into(),
        })
    );
}
