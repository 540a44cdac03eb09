use super::testing::{at, import, slot, timetable_talk};
use super::*;
use crate::domain::model::{SpeakerData, TalkKind};

fn speaker(name: &str, bio: Option<&str>) -> SpeakerData {
    SpeakerData {
        source_id: None,
        name: name.to_owned(),
        biography: bio.map(Into::into),
    }
}

fn listing_talk(title: &str, speaker_name: &str, description: &str) -> TalkData {
    TalkData {
        title: title.to_owned(),
        speakers: vec![speaker(speaker_name, Some("Writes code."))],
        description: Some(description.into()),
        track: Some("Fundamentals".into()),
        level: Some("Intermediate".into()),
        ..TalkData::default()
    }
}

pub(super) fn schedule(scope: ScheduleScope, talks: Vec<TalkData>) -> ImportedSchedule {
    ImportedSchedule {
        talks,
        ..ImportedSchedule::new(scope)
    }
}

pub(super) fn two_talks() -> ImportedSchedule {
    schedule(
        ScheduleScope::Timetable,
        vec![
            timetable_talk(
                "A",
                "Glue",
                "Barn",
                "2026-04-25T22:45:00Z",
                "2026-04-25T23:10:00Z",
            ),
            timetable_talk(
                "B",
                "Compute",
                "Loft",
                "2026-04-25T23:15:00Z",
                "2026-04-25T23:40:00Z",
            ),
        ],
    )
}

#[test]
fn a_first_import_adds_every_talk() {
    let (plan, after) = import(&[], &two_talks());
    let report = plan.report();

    assert_eq!(report.added.len(), 2);
    assert_eq!(report.added[0].title, "Glue");
    assert_eq!(report.added[0].after.room.as_deref(), Some("Barn"));
    assert!(report.changed.is_empty() && report.cancelled.is_empty());
    assert_eq!(after.len(), 2);
}

#[test]
fn reimporting_an_unchanged_schedule_changes_nothing() {
    let (_, stored) = import(&[], &two_talks());

    let (plan, after) = import(&stored, &two_talks());
    let report = plan.report();

    assert!(report.is_empty(), "{:?}", report);
    assert_eq!(report.unchanged, 2);
    assert!(plan.inserts.is_empty() && plan.updates.is_empty());
    assert_eq!(after, stored);
}

#[test]
fn a_moved_talk_reports_start_end_and_room_and_bumps_its_version() {
    let (_, stored) = import(&[], &two_talks());
    let mut moved = two_talks();
    moved.talks[0].slot = slot("2026-04-26T00:00:00Z", "2026-04-26T00:25:00Z");
    moved.talks[0].room = Some("Loft".into());

    let (plan, after) = import(&stored, &moved);

    let report = plan.report();
    assert_eq!(report.changed.len(), 1);
    let change = &report.changed[0];
    assert_eq!(change.fields, vec![Field::Start, Field::End, Field::Room]);
    let before = change.before.as_ref().expect("before");
    assert_eq!(before.room.as_deref(), Some("Barn"));
    assert_eq!(before.start, Some(at("2026-04-25T22:45:00Z")));
    assert_eq!(change.after.start, Some(at("2026-04-26T00:00:00Z")));
    assert_eq!(report.unchanged, 1);
    let glue = after.iter().find(|t| t.data.title == "Glue").expect("glue");
    assert_eq!(glue.schedule_version, 2);
}

#[test]
fn a_talk_missing_from_the_timetable_is_cancelled_not_deleted() {
    let (_, stored) = import(&[], &two_talks());
    let mut shorter = two_talks();
    shorter.talks.remove(1);

    let (plan, after) = import(&stored, &shorter);
    let report = plan.report();

    assert_eq!(report.cancelled.len(), 1);
    assert_eq!(report.cancelled[0].title, "Compute");
    assert_eq!(after.len(), 2, "nothing is deleted");
    let compute = after
        .iter()
        .find(|t| t.data.title == "Compute")
        .expect("kept");
    assert_eq!(compute.data.status, TalkStatus::Cancelled);
    assert_eq!(compute.schedule_version, 2);

    // Importing the shorter timetable again does not cancel twice.
    let (again, _) = import(&after, &shorter);
    assert!(again.report().is_empty(), "{:?}", again.report());
}

#[test]
fn a_cancelled_talk_that_comes_back_is_confirmed_again() {
    let (_, stored) = import(&[], &two_talks());
    let mut shorter = two_talks();
    shorter.talks.remove(1);
    let (_, cancelled) = import(&stored, &shorter);

    let (plan, after) = import(&cancelled, &two_talks());
    let report = plan.report();

    assert_eq!(report.changed.len(), 1);
    assert_eq!(report.changed[0].fields, vec![Field::Status]);
    let compute = after
        .iter()
        .find(|t| t.data.title == "Compute")
        .expect("kept");
    assert_eq!(compute.data.status, TalkStatus::Confirmed);
}

#[test]
fn a_status_cancelled_in_the_source_is_reported_as_cancelled() {
    let (_, stored) = import(&[], &two_talks());
    let mut with_cancellation = two_talks();
    with_cancellation.talks[1].status = TalkStatus::Cancelled;

    let (plan, _) = import(&stored, &with_cancellation);
    let report = plan.report();

    assert_eq!(report.cancelled.len(), 1);
    assert_eq!(report.cancelled[0].talk_id, Some(2));
}

#[test]
fn renamed_talks_and_new_speakers_are_reported_by_field() {
    let (_, stored) = import(&[], &two_talks());
    let mut renamed = two_talks();
    renamed.talks[0].title = "Glue, revisited".to_owned();
    renamed.talks[1]
        .speakers
        .push(speaker("Grace Hopper", None));

    let (plan, _) = import(&stored, &renamed);

    let fields: Vec<(String, Vec<Field>)> = plan
        .report()
        .changed
        .iter()
        .map(|c| (c.title.clone(), c.fields.clone()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("Glue, revisited".to_owned(), vec![Field::Title]),
            ("Compute".to_owned(), vec![Field::Speakers]),
        ]
    );
    assert!(plan.updates.iter().all(|u| !u.reschedules));
    assert!(plan.updates[1].speakers_changed);
}

#[test]
fn a_listing_enriches_a_scheduled_talk_matched_by_normalised_title() {
    let (_, stored) = import(&[], &two_talks());
    let listing = schedule(
        ScheduleScope::Catalogue,
        vec![listing_talk(
            "GLUE!",
            "Ada Lovelace",
            "Sticks things together.",
        )],
    );

    let (plan, after) = import(&stored, &listing);
    let report = plan.report();

    assert!(plan.inserts.is_empty());
    assert_eq!(report.changed.len(), 1);
    assert_eq!(
        report.changed[0].fields,
        vec![
            Field::Description,
            Field::Track,
            Field::Level,
            Field::Biography
        ]
    );
    let glue = after
        .iter()
        .find(|t| t.data.title == "Glue")
        .expect("title kept");
    assert_eq!(
        glue.data.room.as_deref(),
        Some("Barn"),
        "placement untouched"
    );
    assert_eq!(glue.schedule_version, 1);
    assert_eq!(
        glue.data.speakers[0].biography.as_deref(),
        Some("Writes code.")
    );
}

#[test]
fn a_listing_never_cancels_timetable_talks() {
    let (_, stored) = import(&[], &two_talks());
    let listing = schedule(
        ScheduleScope::Catalogue,
        vec![listing_talk("Something else", "Bob", "New.")],
    );

    let (plan, after) = import(&stored, &listing);
    let report = plan.report();

    assert!(report.cancelled.is_empty());
    assert_eq!(report.added.len(), 1);
    assert!(after.iter().all(|t| t.data.status == TalkStatus::Confirmed));
    let added = &after[2].data;
    assert_eq!((added.source_id.as_ref(), added.slot), (None, None));
}

#[test]
fn overlapping_listings_do_not_duplicate_talks() {
    let first = schedule(
        ScheduleScope::Catalogue,
        vec![
            listing_talk("Python 103: Memory Model", "Wesley Chun", "First."),
            listing_talk("Flask for Fun", "Armin Ronacher", "Flask."),
        ],
    );
    let second = schedule(
        ScheduleScope::Catalogue,
        vec![listing_talk(
            "Python 103 - Memory Model",
            "Wesley Chun",
            "First.",
        )],
    );
    let (_, stored) = import(&[], &first);

    let (plan, after) = import(&stored, &second);

    assert!(plan.inserts.is_empty());
    assert_eq!(plan.report().unchanged, 1);
    assert_eq!(after.len(), 2);
}

#[test]
fn a_timetable_adopts_a_catalogue_entry_imported_before_it() {
    let listing = schedule(
        ScheduleScope::Catalogue,
        vec![listing_talk(
            "Glue",
            "Ada Lovelace",
            "Sticks things together.",
        )],
    );
    let (_, stored) = import(&[], &listing);

    let (plan, after) = import(&stored, &two_talks());
    let report = plan.report();

    assert_eq!(report.added.len(), 1, "only Compute is new");
    assert_eq!(report.changed.len(), 1);
    let glue = after.iter().find(|t| t.data.title == "Glue").expect("glue");
    assert_eq!(glue.data.source_id.as_deref(), Some("A"));
    assert_eq!(
        glue.data.description.as_deref(),
        Some("Sticks things together.")
    );
    assert_eq!(
        glue.data.slot,
        slot("2026-04-25T22:45:00Z", "2026-04-25T23:10:00Z")
    );
    assert_eq!(after.len(), 2);
}

#[test]
fn a_title_repeated_within_a_listing_is_one_entry() {
    let listing = schedule(
        ScheduleScope::Catalogue,
        vec![
            listing_talk("Lightning talks", "Ada Lovelace", "Day one."),
            listing_talk("Lightning talks", "Grace Hopper", "Day two."),
        ],
    );
    let (_, stored) = import(&[], &listing);
    assert_eq!(stored.len(), 1, "{stored:?}");
}

#[test]
fn same_titled_catalogue_entries_are_told_apart_by_speaker() {
    // Two stored entries with one title (two listings can leave them), different speakers.
    let listing = schedule(
        ScheduleScope::Catalogue,
        vec![
            listing_talk("Lightning talks", "Ada Lovelace", "Day one."),
            listing_talk("Lightning talks, again", "Grace Hopper", "Day two."),
        ],
    );
    let (_, mut stored) = import(&[], &listing);
    for talk in &mut stored {
        talk.data.title = "Lightning talks".to_owned();
    }
    let entry_of = |name: &str| {
        stored
            .iter()
            .find(|t| t.data.speakers.iter().any(|s| s.name == name))
            .map(|t| t.id)
            .expect("an entry per speaker")
    };
    assert_ne!(entry_of("Ada Lovelace"), entry_of("Grace Hopper"));

    for name in ["Grace Hopper", "Ada Lovelace"] {
        let mut timetable = two_talks();
        timetable.talks[0].title = "Lightning talks".to_owned();
        timetable.talks[0].speakers = vec![speaker(name, None)];
        let (_, after) = import(&stored, &timetable);

        let adopted = after
            .iter()
            .find(|t| t.data.source_id.as_deref() == Some("A"))
            .expect("adopted");
        assert_eq!(adopted.id, entry_of(name), "{name}'s entry is adopted");
        assert_eq!(
            after
                .iter()
                .filter(|t| t.data.title == "Lightning talks")
                .count(),
            2,
            "the other entry stays as it was"
        );
    }
}

#[test]
fn a_duplicate_source_id_in_one_import_is_refused() {
    let mut imported = two_talks();
    imported.talks[1].source_id = Some("A".into());

    let err = plan_import(&[], &imported).unwrap_err();

    assert_eq!(
        err.to_string(),
        "the id \"A\" is used by two talks in the import (\"Glue\" and \"Compute\")"
    );
}

#[test]
fn a_kind_change_is_reported() {
    let (_, stored) = import(&[], &two_talks());
    let mut other = two_talks();
    other.talks[0].kind = TalkKind::Other;

    let (plan, _) = import(&stored, &other);

    assert_eq!(plan.report().changed[0].fields, vec![Field::Kind]);
}
