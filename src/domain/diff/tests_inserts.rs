//! New talks in a plan borrow the entries that state them as they are.

use super::testing::timetable_talk;
use super::tests::{schedule, two_talks};
use super::*;

fn entry(title: &str, description: Option<&str>) -> TalkData {
    TalkData {
        title: title.to_owned(),
        description: description.map(str::to_owned),
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
                room: Some("Loft".to_owned()),
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
