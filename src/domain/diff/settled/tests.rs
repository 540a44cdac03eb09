use super::*;
use crate::domain::model::{SpeakerData, TalkKind};
use crate::domain::programme::testing;

fn talk(id: &str, title: &str) -> TalkData {
    TalkData {
        source_id: Some(id.into()),
        ..testing::talk(title, "Ada", "Hall", "2026-06-12T08:00:00Z", 60)
    }
}

fn timetable(talks: Vec<TalkData>) -> ImportedSchedule {
    ImportedSchedule {
        talks,
        ..ImportedSchedule::new(ScheduleScope::Timetable)
    }
}

fn key(id: i64, talk: &TalkData, digest: Option<Digest>) -> StoredKey {
    StoredKey {
        id: TalkId(id),
        source_id: talk.source_id.clone(),
        title: talk.title.clone(),
        digest,
        status: talk.status,
        scheduled: talk.slot.is_some(),
    }
}

#[test]
fn any_change_to_what_a_source_states_changes_the_digest() {
    let base = talk("a", "Async Rust");
    let some = |s: &str| Some(s.into());
    type Change = Box<dyn Fn(&mut TalkData)>;
    let changes: Vec<(&str, Change)> = vec![
        ("source id", Box::new(|t| t.source_id = None)),
        ("title", Box::new(|t| t.title.push('!'))),
        ("subtitle", Box::new(move |t| t.subtitle = some("x"))),
        ("abstract", Box::new(move |t| t.abstract_text = some(""))),
        ("description", Box::new(move |t| t.description = some("d"))),
        ("speaker name", Box::new(|t| t.speakers[0].name.push('x'))),
        (
            "speaker id",
            Box::new(move |t| t.speakers[0].source_id = some("7")),
        ),
        (
            "biography",
            Box::new(move |t| t.speakers[0].biography = some("b").map(Into::into)),
        ),
        (
            "a second speaker",
            Box::new(|t| {
                t.speakers.push(SpeakerData {
                    name: "Grace".into(),
                    source_id: None,
                    biography: None,
                })
            }),
        ),
        ("no speakers", Box::new(|t| t.speakers.clear())),
        ("track", Box::new(move |t| t.track = Some("Web".into()))),
        (
            "level",
            Box::new(move |t| t.level = Some("Beginner".into())),
        ),
        ("type", Box::new(move |t| t.talk_type = Some("Talk".into()))),
        (
            "language",
            Box::new(move |t| t.language = Some("en".into())),
        ),
        ("room", Box::new(|t| t.room = None)),
        (
            "start",
            Box::new(|t| {
                if let Some(s) = &mut t.slot {
                    s.start += chrono::Duration::nanoseconds(1);
                }
            }),
        ),
        (
            "end",
            Box::new(|t| {
                if let Some(s) = &mut t.slot {
                    s.end += chrono::Duration::minutes(5);
                }
            }),
        ),
        (
            "all day",
            Box::new(|t| {
                if let Some(s) = &mut t.slot {
                    s.all_day = true;
                }
            }),
        ),
        ("unscheduled", Box::new(|t| t.slot = None)),
        ("status", Box::new(|t| t.status = TalkStatus::Cancelled)),
        ("kind", Box::new(|t| t.kind = TalkKind::Other)),
        (
            "url",
            Box::new(move |t| t.url = some("https://example.org/a")),
        ),
    ];
    let original = source_digest(&base);
    assert_eq!(source_digest(&base.clone()), original);
    let mut seen = vec![original];
    for (what, change) in changes {
        let mut changed = base.clone();
        change(&mut changed);
        assert_ne!(changed, base, "{what}: the change changes nothing");
        let digest = source_digest(&changed);
        assert!(!seen.contains(&digest), "{what}: digest seen before");
        seen.push(digest);
    }
}

#[test]
fn fields_cannot_borrow_each_others_bytes() {
    let mut a = talk("a", "T");
    a.subtitle = Some("xy".into());
    let mut b = talk("a", "T");
    b.subtitle = Some("x".into());
    b.abstract_text = Some("y".into());
    assert_ne!(source_digest(&a), source_digest(&b));
}

#[test]
fn a_stated_id_with_its_stored_digest_is_settled_and_nothing_else_is() {
    let same = talk("same", "Unchanged");
    let moved = talk("moved", "Moved");
    let cancelled_before = talk("back", "Cancelled, now back");
    let listing_enriched = talk("enriched", "Enriched by a listing");
    let new = talk("new", "New");
    let mut no_id = talk("x", "No id");
    no_id.source_id = None;
    let mut moved_now = moved.clone();
    moved_now.room = Some("Barn".into());
    let stored = [
        key(1, &same, Some(source_digest(&same))),
        key(2, &moved, Some(source_digest(&moved))),
        // A cancellation or a listing wrote these rows last: no digest.
        key(3, &cancelled_before, None),
        key(4, &listing_enriched, None),
        StoredKey {
            source_id: None,
            ..key(5, &no_id, Some(source_digest(&no_id)))
        },
    ];
    let imported = timetable(vec![
        same.clone(),
        moved_now,
        cancelled_before,
        listing_enriched,
        new,
        no_id,
    ]);

    let settled = settle(&stored, &imported);

    assert_eq!(settled.settled, [true, false, false, false, false, false]);
    assert_eq!(settled.ids, [TalkId(1)]);
    assert_eq!(settled.scheduled, 1);
    assert_eq!(settled.digests.len(), 6);
    assert!(settled.digests.iter().all(Option::is_some));
    assert_eq!(settled.digest(0), Some(source_digest(&same)));
}

fn listing(talks: Vec<TalkData>) -> ImportedSchedule {
    ImportedSchedule {
        talks,
        ..ImportedSchedule::new(ScheduleScope::Catalogue)
    }
}

#[test]
fn a_listing_entry_settles_on_the_one_row_of_its_title_holding_its_digest() {
    let entry = |title: &str| TalkData {
        source_id: None,
        slot: None,
        room: None,
        ..talk("unused", title)
    };
    let unique = entry("Unique");
    let twice_stored = entry("Stored twice");
    let twice_listed = entry("Listed twice");
    let timetable_digest = entry("Holds a timetable digest");
    let no_digest = entry("Holds none");
    let changed = entry("Changed since");
    let mut changed_now = changed.clone();
    changed_now.abstract_text = Some("Rewritten".into());
    let stored = [
        key(1, &unique, Some(listing_digest(&unique))),
        key(2, &twice_stored, Some(listing_digest(&twice_stored))),
        // Another row whose title folds to the same key: the entry could be merged into it.
        key(3, &entry("STORED  twice"), None),
        key(4, &twice_listed, Some(listing_digest(&twice_listed))),
        key(5, &timetable_digest, Some(source_digest(&timetable_digest))),
        key(6, &no_digest, None),
        key(7, &changed, Some(listing_digest(&changed))),
    ];
    let imported = listing(vec![
        unique.clone(),
        twice_stored,
        twice_listed.clone(),
        entry("listed TWICE"),
        timetable_digest,
        no_digest,
        changed_now,
        entry("New"),
    ]);

    let settled = settle(&stored, &imported);

    assert_eq!(
        settled.settled,
        [true, false, false, false, false, false, false, false]
    );
    assert_eq!(settled.ids, [TalkId(1)]);
    assert_eq!(settled.scheduled, 0);
    assert_eq!(settled.digest(0), Some(listing_digest(&unique)));
    assert!(settled.digests.iter().all(Option::is_some));
}

#[test]
fn timetable_and_listing_digests_never_settle_each_other() {
    let same = talk("a", "Same");
    assert_ne!(source_digest(&same), listing_digest(&same));
    let stored = [key(1, &same, Some(listing_digest(&same)))];
    assert!(settle(&stored, &timetable(vec![same.clone()]))
        .ids
        .is_empty());
    let stored = [key(1, &same, Some(source_digest(&same)))];
    assert!(settle(&stored, &listing(vec![same.clone()])).ids.is_empty());
    let stored = [key(1, &same, Some(listing_digest(&same)))];
    assert_eq!(settle(&stored, &listing(vec![same])).ids, [TalkId(1)]);
}

#[test]
fn settled_rows_are_counted_by_whether_they_are_scheduled() {
    let mut unscheduled = talk("u", "Unscheduled");
    unscheduled.slot = None;
    let mut cancelled = talk("c", "Cancelled");
    cancelled.status = TalkStatus::Cancelled;
    let talks = vec![talk("s", "Scheduled"), unscheduled, cancelled];
    let stored: Vec<StoredKey> = talks
        .iter()
        .zip(1..)
        .map(|(t, id)| key(id, t, Some(source_digest(t))))
        .collect();

    let settled = settle(&stored, &timetable(talks));

    assert_eq!(settled.ids.len(), 3);
    assert_eq!(settled.scheduled, 2, "scheduled, cancelled or not");
}

#[test]
fn a_talk_given_twice_keeps_both_rows_when_its_second_session_moves() {
    use crate::domain::diff::testing::timetable_talk;
    use crate::domain::diff::{plan_import, plan_settled};
    let url: Option<Box<str>> = Some("https://pretalx.example.org/conf/talk/ABCD12/".into());
    let session = |id: &str, start: &str, end: &str| TalkData {
        url: url.clone(),
        ..timetable_talk(id, "Twice", "Hall", start, end)
    };
    let first = session("g1", "2027-03-01T10:00:00Z", "2027-03-01T10:30:00Z");
    let second = session("g1#h1", "2027-03-01T14:00:00Z", "2027-03-01T14:30:00Z");
    let stored = vec![
        testing::stored(0, first.clone()),
        testing::stored(1, second),
    ];
    // The second session moved, so the id derived from its start changed too.
    let moved = session("g1#h2", "2027-03-01T15:00:00Z", "2027-03-01T15:30:00Z");
    let imported = timetable(vec![first.clone(), moved]);

    let full = plan_import(&stored, &imported).expect("plans");
    let keys: Vec<StoredKey> = stored
        .iter()
        .map(|t| key(t.id.0, &t.data, Some(source_digest(&t.data))))
        .collect();
    let settled = settle(&keys, &imported);
    assert_eq!(settled.ids, [TalkId(1)]);
    let unsettled: Vec<_> = stored
        .iter()
        .filter(|t| t.id != TalkId(1))
        .cloned()
        .collect();
    let fast = plan_settled(&unsettled, &imported, &settled).expect("plans");

    for plan in [&full, &fast] {
        let report = plan.report();
        assert!(report.cancelled.is_empty(), "{report:?}");
        assert_eq!(report.changed.len(), 1);
        assert_eq!(
            report.changed[0].talk_id,
            Some(2),
            "the moved session's own row"
        );
        assert_eq!(plan.updates.len(), 1);
        assert_eq!(plan.updates[0].data.source_id.as_deref(), Some("g1#h2"));
    }
    assert_eq!(full.report(), fast.report());
}

#[test]
fn with_nothing_stored_no_digest_is_computed_before_a_new_row_needs_it() {
    use crate::domain::diff::plan_settled;
    let (a, b) = (talk("a", "Alpha"), talk("b", "Beta"));
    let imported = timetable(vec![a.clone(), b.clone()]);

    let settled = settle(&[], &imported);

    assert!(settled.deferred);
    assert!(settled.digests.is_empty());
    assert_eq!(settled.settled, [false, false]);
    let plan = plan_settled(&[], &imported, &settled).expect("plans");
    assert_eq!(
        plan.insert_digests,
        [NewDigest::Entry(0), NewDigest::Entry(1)]
    );
    let resolve = |plan: &crate::domain::diff::ImportPlan<'_>, imported| {
        let digests = plan.insert_digests.iter();
        digests.map(|d| d.resolve(imported)).collect::<Vec<_>>()
    };
    assert_eq!(
        resolve(&plan, &imported),
        [Some(source_digest(&a)), Some(source_digest(&b))]
    );
    let up_front = plan_settled(&[], &imported, &Settled::nothing(&imported)).expect("plans");
    assert_eq!(resolve(&up_front, &imported), resolve(&plan, &imported));

    // A listing's entry records its own layout; two entries of one title make one row, which
    // records neither's digest.
    let untitled = |title: &str| TalkData {
        source_id: None,
        ..talk("", title)
    };
    let entries = listing(vec![untitled("Once"), untitled("Twice"), untitled("Twice")]);
    let plan = plan_settled(&[], &entries, &settle(&[], &entries)).expect("plans");
    assert_eq!(
        resolve(&plan, &entries),
        [Some(listing_digest(&entries.talks[0])), None]
    );
}
