use super::*;
use crate::domain::model::{TalkKind, TalkStatus};
use crate::domain::programme::testing::{programme, talk, utc};

fn ts(s: &str) -> i64 {
    utc(s).timestamp()
}

/// Barn: A 10:00-10:30, B 10:45-11:15. Loft: C 10:00-11:00. Hall: a cancelled talk only.
fn day() -> Programme {
    let mut cancelled = talk("Gone", "Nobody", "Hall", "2026-06-01T10:00:00Z", 30);
    cancelled.status = TalkStatus::Cancelled;
    let mut lunch = talk("Lunch", "", "Barn", "2026-06-01T12:00:00Z", 60);
    lunch.kind = TalkKind::Other;
    programme(
        chrono_tz::Europe::Berlin,
        vec![],
        vec![
            talk("A", "Ann", "Barn", "2026-06-01T10:00:00Z", 30),
            talk("B", "Bob", "Barn", "2026-06-01T10:45:00Z", 30),
            talk("C", "Cy", "Loft", "2026-06-01T10:00:00Z", 60),
            cancelled,
            lunch,
        ],
    )
}

fn panel(id: i64, room: Option<&str>) -> Panel {
    Panel {
        id,
        spec: PanelSpec {
            channel: 500,
            room: room.map(str::to_owned),
        },
        shown: None,
    }
}

#[test]
fn a_rooms_panel_shows_what_is_on_and_what_is_next() {
    let p = day();

    let during_a = render(&p, Some("Barn"), utc("2026-06-01T10:10:00Z"));
    let between = render(&p, Some("Barn"), utc("2026-06-01T10:30:00Z"));
    let after = render(&p, Some("Barn"), utc("2026-06-01T11:15:00Z"));

    assert_eq!(
        during_a,
        format!(
            "📍 **Barn**\nNow: **A** — Ann — ends <t:{0}:R>\nNext: **B** — Bob — <t:{1}:t> (<t:{1}:R>)",
            ts("2026-06-01T10:30:00Z"),
            ts("2026-06-01T10:45:00Z")
        )
    );
    assert!(
        between.contains("\nNow: nothing on\nNext: **B**"),
        "{between}"
    );
    assert_eq!(
        after, "📍 **Barn**\nNow: nothing on\nNext: nothing more scheduled",
        "the lunch break is no talk"
    );
}

#[test]
fn a_board_has_a_panel_per_room_with_talks_or_one_for_all() {
    let p = day();
    let boards = [
        Board {
            channel: 1,
            layout: BoardLayout::Rooms,
        },
        Board {
            channel: 2,
            layout: BoardLayout::Single,
        },
    ];

    let specs = panels(&p, &boards);

    let shown: Vec<(u64, Option<&str>)> = specs
        .iter()
        .map(|s| (s.channel, s.room.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [(1, Some("Barn")), (1, Some("Loft")), (2, None)],
        "Hall has only a cancelled talk"
    );
}

#[test]
fn posts_run_from_the_current_period_to_the_horizon_each_expiring_at_the_next() {
    let p = day();
    let now = utc("2026-06-01T10:10:00Z");

    let posts = board_posts(&p, &[panel(9, Some("Barn"))], now);

    let periods: Vec<(i64, Option<i64>)> = posts
        .iter()
        .map(|post| (post.due.timestamp(), post.expires.map(|e| e.timestamp())))
        .collect();
    assert_eq!(
        periods,
        [
            (ts("2026-06-01T10:00:00Z"), Some(ts("2026-06-01T10:30:00Z"))),
            (ts("2026-06-01T10:30:00Z"), Some(ts("2026-06-01T10:45:00Z"))),
            (ts("2026-06-01T10:45:00Z"), Some(ts("2026-06-01T11:15:00Z"))),
            (ts("2026-06-01T11:15:00Z"), None),
        ]
    );
    for post in &posts {
        assert_eq!(post.key.target, Target::Channel(500));
        assert_eq!(post.key.subject, Subject::Panel(9));
        assert_eq!(post.key.kind, PostKind::Board);
        let PostBody::Board { panel, content } = &post.body else {
            panic!("{post:?}");
        };
        assert_eq!(*panel, 9);
        assert_eq!(content, &render(&p, Some("Barn"), post.due));
    }
}

#[test]
fn before_the_first_talk_the_current_period_has_a_stable_key_and_later_ones_wait() {
    let p = day();
    let early = board_posts(&p, &[panel(9, Some("Loft"))], utc("2026-06-01T06:00:00Z"));
    let later = board_posts(&p, &[panel(9, Some("Loft"))], utc("2026-06-01T06:01:00Z"));

    assert_eq!(early.len(), 1, "10:00 is beyond the horizon: {early:?}");
    assert_eq!(early[0].due, DateTime::UNIX_EPOCH);
    assert_eq!(early[0].expires, Some(utc("2026-06-01T10:00:00Z")));
    assert_eq!(
        early[0].key, later[0].key,
        "a sweep a minute later plans the same post"
    );
}

#[test]
fn a_schedule_change_rekeys_exactly_the_periods_whose_text_changed() {
    let before = day();
    let mut talks: Vec<_> = before.talks.iter().map(|t| t.data.clone()).collect();
    // B moves from 10:45 to 11:00.
    if let Some(b) = talks.iter_mut().find(|t| t.title == "B") {
        b.slot = talk("B", "Bob", "Barn", "2026-06-01T11:00:00Z", 30).slot;
    }
    let after = programme(chrono_tz::Europe::Berlin, vec![], talks);
    let now = utc("2026-06-01T09:30:00Z");

    let old = board_posts(&before, &[panel(9, Some("Barn"))], now);
    let new = board_posts(&after, &[panel(9, Some("Barn"))], now);

    let keys = |posts: &[PlannedPost]| -> Vec<(i64, i32)> {
        posts
            .iter()
            .map(|p| (p.due.timestamp(), p.key.schedule_version))
            .collect()
    };
    let (old, new) = (keys(&old), keys(&new));
    assert_eq!(old[0], new[0], "before 10:00 Barn shows A next either way");
    assert_ne!(old[1], new[1], "10:00 names B's new time");
    assert!(new
        .iter()
        .any(|(due, _)| *due == ts("2026-06-01T11:00:00Z")));
    assert!(!new
        .iter()
        .any(|(due, _)| *due == ts("2026-06-01T10:45:00Z")));
}

#[test]
fn one_message_for_all_rooms_stays_within_discords_limit() {
    let mut talks = Vec::new();
    for room in 0..60 {
        talks.push(talk(
            &"A very long title about a great many things ".repeat(3),
            "Ann",
            &format!("Room {room}"),
            "2026-06-01T10:00:00Z",
            30,
        ));
    }
    let p = programme(chrono_tz::UTC, vec![], talks);

    let text = render(&p, None, utc("2026-06-01T10:05:00Z"));

    assert!(text.chars().count() <= limits::CONTENT);
    assert!(text.starts_with("📺 **Now and next**\n**Room 0** · Now: **A very long"));
    let shown = text.lines().filter(|l| l.starts_with("**Room")).count();
    assert!(
        text.ends_with(&format!(
            "…and {} more rooms: `/now` and `/next` show them.",
            60 - shown
        )),
        "{text}"
    );
}

#[test]
fn schedule_text_on_a_board_is_escaped() {
    let p = programme(
        chrono_tz::UTC,
        vec![],
        vec![talk(
            "**@everyone** <@&1>",
            "_Mallory_",
            "`Barn`",
            "2026-06-01T10:00:00Z",
            30,
        )],
    );

    let text = render(&p, Some("`Barn`"), utc("2026-06-01T10:05:00Z"));

    assert!(
        text.starts_with("📍 **\\`Barn\\`**\nNow: **\\*\\*@\u{200b}everyone\\*\\* \\<@\u{200b}&1\\>** — \\_Mallory\\_"),
        "{text}"
    );
}

#[test]
fn a_change_undone_within_a_period_is_shown_again_and_what_is_shown_is_not_posted_twice() {
    let a = day();
    let mut talks: Vec<_> = a.talks.iter().map(|t| t.data.clone()).collect();
    if let Some(b) = talks.iter_mut().find(|t| t.title == "B") {
        b.title = "B, renamed".into();
    }
    let b = programme(chrono_tz::Europe::Berlin, vec![], talks);
    let now = utc("2026-06-01T10:10:00Z");
    let showing = |shown: Option<&PlannedPost>| Panel {
        shown: shown.map(|post| Shown {
            version: post.key.schedule_version,
            content: match &post.body {
                PostBody::Board { content, .. } => content.clone(),
                other => panic!("{other:?}"),
            },
        }),
        ..panel(9, Some("Barn"))
    };
    let current = |p: &Programme, shown: Option<&PlannedPost>| {
        board_posts(p, &[showing(shown)], now).remove(0)
    };

    let first_a = current(&a, None);
    let again_a = current(&a, Some(&first_a));
    let then_b = current(&b, Some(&first_a));
    let back_to_a = current(&a, Some(&then_b));
    let still_a = current(&a, Some(&back_to_a));

    assert_eq!(
        again_a.key, first_a.key,
        "shown already: the same post, nothing new"
    );
    assert_ne!(then_b.key, first_a.key);
    assert_eq!(back_to_a.body, first_a.body, "the first text again");
    assert_ne!(
        back_to_a.key, first_a.key,
        "a new post: A was replaced by B meanwhile"
    );
    assert_eq!(still_a.key, back_to_a.key, "and then stable");
}
