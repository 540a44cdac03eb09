use super::*;
use crate::domain::commands::limits;
use crate::domain::diff::testing::{at, import, slot, timetable_talk};
use crate::domain::model::{ImportedSchedule, ScheduleScope, StoredTalk, TalkData, TalkStatus};

const NOW: &str = "2026-06-01T08:00:00Z";

fn timetable(talks: Vec<TalkData>) -> ImportedSchedule {
    ImportedSchedule {
        talks,
        ..ImportedSchedule::new(ScheduleScope::Timetable)
    }
}

fn talk(id: &str, title: &str, room: &str, hour: u32) -> TalkData {
    timetable_talk(
        id,
        title,
        room,
        &format!("2026-06-01T{hour:02}:00:00Z"),
        &format!("2026-06-01T{hour:02}:45:00Z"),
    )
}

fn ts(s: &str) -> i64 {
    at(s).timestamp()
}

/// The programme as first published: A to F, 10:00 to 15:00.
fn first() -> Vec<TalkData> {
    vec![
        talk("A", "Async Rust", "Barn", 10),
        talk("B", "Borrowing", "Barn", 11),
        talk("C", "Cancel Me", "Loft", 12),
        talk("D", "Docs", "Loft", 13),
        talk("E", "Errrors", "Loft", 14),
        talk("F", "Futures", "Loft", 15),
    ]
}

/// Imports `talks` over `stored`: the update's messages at [`NOW`] and the talks after.
fn update(stored: &[StoredTalk], talks: Vec<TalkData>) -> (Vec<String>, Vec<StoredTalk>) {
    let (plan, after) = import(stored, &timetable(talks));
    (messages(&plan.report(), at(NOW)), after)
}

#[test]
fn the_first_timetable_publishes_the_programme_and_posts_nothing() {
    let (posted, stored) = update(&[], first());

    assert_eq!(stored.len(), 6);
    assert!(posted.is_empty(), "{posted:?}");
}

#[test]
fn moves_cancellations_and_new_talks_are_posted_and_nothing_else() {
    let (_, stored) = update(&[], first());
    let mut second = first();
    second[0] = talk("A", "Async Rust", "Barn", 16); // moved in time
    second[1] = talk("B", "Borrowing", "Loft", 11); // moved to another room
    second.remove(2); // C is gone: cancelled
    second[2].abstract_text = Some("Typo fixed.".into()); // D: abstract only
    second[3].title = "Errors".into(); // E: title typo only
    second[4].slot = slot("2026-06-01T15:00:00Z", "2026-06-01T15:50:00Z"); // F: end only
    second.push(talk("G", "Generics", "Barn", 9));

    let (posted, _) = update(&stored, second);

    let expected = [
        "📅 **Schedule update**".to_owned(),
        format!(
            "Cancelled: **Cancel Me** (was <t:{}:F> in Loft)",
            ts("2026-06-01T12:00:00Z")
        ),
        format!(
            "Moved: **Borrowing** now <t:{0}:F> in Loft (was <t:{0}:F> in Barn)",
            ts("2026-06-01T11:00:00Z")
        ),
        format!(
            "Moved: **Async Rust** now <t:{}:F> in Barn (was <t:{}:F> in Barn)",
            ts("2026-06-01T16:00:00Z"),
            ts("2026-06-01T10:00:00Z")
        ),
        format!(
            "New: **Generics** <t:{}:F> in Barn",
            ts("2026-06-01T09:00:00Z")
        ),
    ];
    assert_eq!(posted, [expected.join("\n")]);
}

#[test]
fn an_import_changing_only_what_attendees_do_not_need_posts_nothing() {
    let (_, stored) = update(&[], first());
    let mut second = first();
    second[0].abstract_text = Some("Now with more detail.".into());
    second[1].description = Some("Longer.".into());

    let (posted, _) = update(&stored, second);

    assert!(posted.is_empty(), "{posted:?}");
}

#[test]
fn a_cancelled_talk_stays_cancelled_in_later_posts_until_the_source_restores_it() {
    let (_, stored) = update(&[], first());
    let without_c = || {
        let mut talks = first();
        talks.remove(2);
        talks
    };
    let (posted, stored) = update(&stored, without_c());
    assert_eq!(posted.len(), 1);
    assert!(posted[0].contains("Cancelled: **Cancel Me**"), "{posted:?}");

    // Another change while C is still gone: C is not mentioned again.
    let mut still_without = without_c();
    still_without.push(talk("H", "Hashing", "Barn", 17));
    let (posted, stored) = update(&stored, still_without.clone());
    assert_eq!(posted.len(), 1);
    assert!(!posted[0].contains("Cancel Me"), "{posted:?}");
    assert!(posted[0].contains("New: **Hashing**"), "{posted:?}");

    // The same timetable again: nothing at all.
    let (posted, stored) = update(&stored, still_without.clone());
    assert!(posted.is_empty(), "{posted:?}");

    // The source lists C again, in another slot: back on the schedule.
    let mut restored = still_without;
    restored.push(talk("C", "Cancel Me", "Barn", 18));
    let (posted, _) = update(&stored, restored);
    assert_eq!(
        posted,
        [format!(
            "📅 **Schedule update**\nBack on the schedule: **Cancel Me** <t:{}:F> in Barn",
            ts("2026-06-01T18:00:00Z")
        )]
    );
}

#[test]
fn a_talk_the_source_marks_cancelled_is_posted_once_and_its_later_moves_are_not() {
    let (_, stored) = update(&[], first());
    let mut marked = first();
    marked[3].status = TalkStatus::Cancelled;
    let (posted, stored) = update(&stored, marked.clone());
    assert_eq!(posted.len(), 1);
    assert!(posted[0].contains("Cancelled: **Docs**"), "{posted:?}");

    let mut moved_while_cancelled = marked;
    moved_while_cancelled[3].room = Some("Barn".into());
    moved_while_cancelled[3].slot = slot("2026-06-01T19:00:00Z", "2026-06-01T19:45:00Z");
    let (posted, _) = update(&stored, moved_while_cancelled);

    assert!(posted.is_empty(), "{posted:?}");
}

#[test]
fn changes_to_talks_that_are_over_are_not_posted() {
    let early = |hour| talk("X", "Breakfast Talk", "Barn", hour);
    let (_, stored) = update(&[], vec![early(6), talk("A", "Async Rust", "Barn", 10)]);
    // X ended at 06:45, before NOW (08:00); moved to 07:00, still over.
    let (posted, stored) = update(&stored, vec![early(7), talk("A", "Async Rust", "Barn", 10)]);
    assert!(posted.is_empty(), "{posted:?}");
    // Cancelling a talk that is over tells nobody anything either.
    let (posted, _) = update(&stored, vec![talk("A", "Async Rust", "Barn", 10)]);
    assert!(posted.is_empty(), "{posted:?}");
}

#[test]
fn titles_and_rooms_from_the_schedule_are_escaped() {
    let (_, stored) = update(&[], first());
    let mut second = first();
    second.push(talk("Z", "**@everyone** _look_ <@123>", "`Barn`", 16));

    let (posted, _) = update(&stored, second);

    let line = posted[0].lines().nth(1).unwrap_or_default();
    assert!(
        line.starts_with("New: **\\*\\*@\u{200b}everyone\\*\\* \\_look\\_ \\<@\u{200b}123\\>**"),
        "{line}"
    );
    assert!(line.ends_with(r"in \`Barn\`"), "{line}");
}

#[test]
fn a_large_update_is_split_within_discords_limits_and_counts_what_does_not_fit() {
    let long = "A rather long title about the many ways programmes change on the day".repeat(2);
    let many: Vec<TalkData> = (0..300)
        .map(|i| {
            talk(
                &format!("T{i}"),
                &format!("{long} {i}"),
                "Barn",
                9 + (i % 10) as u32,
            )
        })
        .collect();
    let (_, stored) = update(&[], many.clone());
    let moved: Vec<TalkData> = many
        .into_iter()
        .map(|mut t| {
            t.room = Some("Loft".into());
            t
        })
        .collect();

    let (posted, _) = update(&stored, moved);

    assert_eq!(posted.len(), MAX_PARTS);
    assert!(posted.iter().all(|m| m.chars().count() <= limits::CONTENT));
    let shown = posted
        .iter()
        .flat_map(|m| m.lines())
        .filter(|l| l.starts_with("Moved: "))
        .count();
    let last = posted
        .last()
        .and_then(|m| m.lines().last())
        .unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "…and {} more: `/schedule` shows the current programme.",
            300 - shown
        )
    );
    assert!(shown > 20, "{shown}");
}

#[test]
fn each_part_goes_to_every_channel_once_and_later_imports_fall_due_later() {
    let (_, stored) = update(&[], first());
    let mut second = first();
    second.remove(2);
    let (plan_two, stored) = import(&stored, &timetable(second.clone()));
    second.push(talk("H", "Hashing", "Barn", 17));
    let (plan_three, _) = import(&stored, &timetable(second));
    let now = at(NOW);

    let posts = schedule_updates(
        &[(7, &plan_two.report()), (8, &plan_three.report())],
        &[100, 200],
        now,
    );

    let keys: Vec<(u64, Subject, i32, DateTime<Utc>)> = posts
        .iter()
        .map(|p| {
            let Target::Channel(channel) = p.key.target else {
                panic!("a DM: {p:?}");
            };
            assert_eq!(p.key.kind, PostKind::ScheduleUpdate);
            assert_eq!(p.expires, None);
            (channel, p.key.subject, p.key.schedule_version, p.due)
        })
        .collect();
    assert_eq!(
        keys,
        [
            (100, Subject::Import(7), 0, now),
            (200, Subject::Import(7), 0, now),
            (100, Subject::Import(8), 0, now + PART_SPACING),
            (200, Subject::Import(8), 0, now + PART_SPACING),
        ]
    );
    assert!(schedule_updates(&[(7, &plan_two.report())], &[], now).is_empty());
}
