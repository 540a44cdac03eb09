use std::collections::HashSet;

use chrono::Duration;

use super::*;
use crate::domain::diff::{plan_import, ImportDiff};
use crate::domain::model::{ScheduleScope, Slot, TalkStatus};

/// What the store does with an import: apply the updates, bumping the schedule version of
/// rescheduled talks. Returns the new talks and the diff.
fn reimport(old: &[StoredTalk], imported: &ImportedSchedule) -> (Vec<StoredTalk>, ImportDiff) {
    let plan = plan_import(old, imported).expect("import plans");
    let mut talks = old.to_vec();
    for update in plan.updates {
        let talk = talks
            .iter_mut()
            .find(|t| t.id == update.id)
            .expect("stored");
        talk.data = update.data;
        if update.reschedules {
            talk.schedule_version += 1;
        }
    }
    assert!(plan.inserts.is_empty(), "no new talks in these tests");
    (talks, plan.changes)
}

/// The seed moved one hour later into Room B.
fn seed_moved() -> ImportedSchedule {
    let mut import = seed_import();
    let talk = &mut import.talks[0];
    talk.room = Some("Room B".into());
    talk.slot = talk.slot.map(|s| Slot {
        start: s.start + Duration::hours(1),
        end: s.end + Duration::hours(1),
        all_day: false,
    });
    import
}

fn keys(posts: &[PlannedPost]) -> HashSet<PostKey> {
    posts.iter().map(|p| p.key).collect()
}

const IMPORTED_AT: &str = "2026-04-20T12:00:00Z";

#[test]
fn a_moved_talk_gets_new_reminder_keys_and_a_moved_notice_with_both_times() {
    let old = stored(seed_import().talks, 1);
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];
    let before = plan(&seed(), &subs, &no_leads(), lead(10), &channels());

    let (new, diff) = reimport(&old, &seed_moved());
    let programme = programme_of(Tz::America__Los_Angeles, new);
    let after = plan(&programme, &subs, &no_leads(), lead(10), &channels());
    let notices = change_notices(&diff, &programme, &subs, utc(IMPORTED_AT));

    assert!(keys(&before).is_disjoint(&keys(&after)));
    let planned: Vec<(Target, DateTime<Utc>, i32)> = after
        .iter()
        .map(|p| (p.key.target, p.due, p.key.schedule_version))
        .collect();
    assert_eq!(
        planned,
        [
            (Target::Channel(LOBBY), utc("2026-04-25T23:35:00Z"), 2),
            (Target::Dm(42), utc("2026-04-25T23:35:00Z"), 2),
        ]
    );
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].key.target, Target::Dm(42));
    assert_eq!(notices[0].key.kind, PostKind::Moved);
    assert_eq!(notices[0].key.schedule_version, 2);
    assert_eq!(notices[0].due, utc(IMPORTED_AT));
    assert_eq!(
        sent(&notices[0], utc(IMPORTED_AT)).content,
        format!(
            "Moved: **{SEED_TITLE}** now <t:{}:F> in Room B (was <t:{SEED_START}:F> in Barn)",
            SEED_START + 3600
        )
    );
}

#[test]
fn subscribers_of_the_room_a_talk_left_are_told_it_moved() {
    let old = stored(seed_import().talks, 1);
    let subs = [subscribe(11, SubscriptionTarget::Room("Barn".to_owned()))];

    let (new, diff) = reimport(&old, &seed_moved());
    let programme = programme_of(Tz::America__Los_Angeles, new);
    let notices = change_notices(&diff, &programme, &subs, utc(IMPORTED_AT));
    let reminders = plan(&programme, &subs, &no_leads(), lead(10), &channels());

    let targets: Vec<Target> = notices.iter().map(|p| p.key.target).collect();
    assert_eq!(targets, [Target::Dm(11)]);
    // It is no longer in their room, so they are not reminded of it.
    assert!(reminders.iter().all(|p| p.key.target != Target::Dm(11)));
}

#[test]
fn a_cancelled_talk_gets_no_reminder_and_a_cancelled_notice() {
    let old = stored(seed_import().talks, 1);
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];
    let empty_timetable = ImportedSchedule::new(ScheduleScope::Timetable);

    let (new, diff) = reimport(&old, &empty_timetable);
    let programme = programme_of(Tz::America__Los_Angeles, new);
    let reminders = plan(&programme, &subs, &no_leads(), lead(10), &channels());
    let notices = change_notices(&diff, &programme, &subs, utc(IMPORTED_AT));

    assert_eq!(programme.talks[0].data.status, TalkStatus::Cancelled);
    assert_eq!(reminders, []);
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].key.kind, PostKind::Cancelled);
    assert_eq!(notices[0].key.schedule_version, 2);
    assert_eq!(
        sent(&notices[0], utc(IMPORTED_AT)).content,
        format!("Cancelled: **{SEED_TITLE}** (was <t:{SEED_START}:F> in Barn)")
    );
}

#[test]
fn an_uncancelled_talk_is_reminded_again_under_fresh_keys() {
    let old = stored(seed_import().talks, 1);
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];
    let first = plan(&seed(), &subs, &no_leads(), lead(10), &channels());
    let (cancelled, _) = reimport(&old, &ImportedSchedule::new(ScheduleScope::Timetable));

    let (back, diff) = reimport(&cancelled, &seed_import());
    let programme = programme_of(Tz::America__Los_Angeles, back);
    let again = plan(&programme, &subs, &no_leads(), lead(10), &channels());
    let notices = change_notices(&diff, &programme, &subs, utc(IMPORTED_AT));

    let planned: Vec<(Target, DateTime<Utc>, i32)> = again
        .iter()
        .map(|p| (p.key.target, p.due, p.key.schedule_version))
        .collect();
    assert_eq!(
        planned,
        [
            (Target::Channel(BARN), utc("2026-04-25T22:35:00Z"), 3),
            (Target::Dm(42), utc("2026-04-25T22:35:00Z"), 3),
        ]
    );
    assert!(keys(&first).is_disjoint(&keys(&again)));
    assert_eq!(
        notices,
        [],
        "coming back is announced by the reminder itself"
    );
}

#[test]
fn no_notice_is_planned_about_a_talk_that_already_started() {
    let old = stored(seed_import().talks, 1);
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];

    let (new, diff) = reimport(&old, &ImportedSchedule::new(ScheduleScope::Timetable));
    let programme = programme_of(Tz::America__Los_Angeles, new);
    let notices = change_notices(&diff, &programme, &subs, utc("2026-04-25T22:50:00Z"));

    assert_eq!(notices, []);
}
