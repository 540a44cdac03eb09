use std::collections::BTreeMap;

use super::*;
use crate::domain::model::TalkStatus;
use crate::domain::programme::testing::{programme, talk, utc};
use crate::domain::reminders::{LeadTime, Subject, Target};

const BARN: u64 = 11;
const LOFT: u64 = 12;

fn channels() -> ChannelPlan {
    ChannelPlan {
        by_room: BTreeMap::from([("Barn".to_owned(), BARN), ("Loft".to_owned(), LOFT)]),
        default: None,
        lead: LeadTime::from_minutes(10).expect("lead"),
        names: BTreeMap::new(),
    }
}

/// Barn: Rust at 10:00 (track Web, by "**Ann** @everyone"), Loft: Go at 10:30; a cancelled
/// talk in Barn at 11:00; and a talk next day.
fn day() -> Programme {
    let mut rust = talk(
        "Rust",
        "**Ann** @everyone",
        "Barn",
        "2026-06-01T10:00:00Z",
        30,
    );
    rust.track = Some("Web".into());
    rust.url = Some("https://example.org/rust".into());
    let mut gone = talk("Gone", "Nobody", "Barn", "2026-06-01T11:00:00Z", 30);
    gone.status = TalkStatus::Cancelled;
    programme(
        chrono_tz::UTC,
        vec![],
        vec![
            rust,
            talk("Go", "Bob", "Loft", "2026-06-01T10:30:00Z", 30),
            gone,
            talk("Tomorrow", "Cy", "Barn", "2026-06-02T10:00:00Z", 30),
        ],
    )
}

fn keys(posts: &[PlannedPost]) -> Vec<(Target, PostKind, i64, i64)> {
    posts
        .iter()
        .map(|p| {
            let Subject::Talk(talk) = p.key.subject else {
                panic!("{p:?}");
            };
            (p.key.target, p.key.kind, talk.0, p.due.timestamp())
        })
        .collect()
}

#[test]
fn each_talk_reminded_in_a_channel_gets_a_thread_after_its_reminder_and_an_archive_after_it_ends() {
    let p = day();
    let settings = ThreadSettings {
        grace_minutes: 20,
        lock: true,
        ..ThreadSettings::default()
    };
    let now = utc("2026-06-01T09:00:00Z");

    let posts = thread_posts(&p, &channels(), 77, &settings, now);

    let ts = |s: &str| utc(s).timestamp();
    let rust = p
        .talks
        .iter()
        .find(|t| t.data.title == "Rust")
        .expect("Rust");
    let go = p.talks.iter().find(|t| t.data.title == "Go").expect("Go");
    assert_eq!(
        keys(&posts),
        [
            (
                Target::Channel(BARN),
                PostKind::Thread,
                rust.id.0,
                ts("2026-06-01T09:50:02Z")
            ),
            (
                Target::Channel(BARN),
                PostKind::ThreadClose,
                rust.id.0,
                ts("2026-06-01T10:50:00Z")
            ),
            (
                Target::Channel(LOFT),
                PostKind::Thread,
                go.id.0,
                ts("2026-06-01T10:20:02Z")
            ),
            (
                Target::Channel(LOFT),
                PostKind::ThreadClose,
                go.id.0,
                ts("2026-06-01T11:20:00Z")
            ),
        ],
        "no thread for the cancelled talk nor for tomorrow's"
    );
    let reminders = crate::domain::reminders::plan_channels(&p, &channels());
    let reminder = reminders
        .iter()
        .find(|r| r.key.subject == Subject::Talk(rust.id))
        .expect("Rust's reminder");
    assert_eq!(posts[0].key.schedule_version, reminder.key.schedule_version);
    assert_eq!(posts[0].expires, Some(utc("2026-06-01T10:30:00Z")));
    assert_eq!(posts[1].expires, None);
    assert_eq!(posts[1].body, PostBody::ThreadClose { lock: true });
    let PostBody::ThreadOpen { guild, name, card } = &posts[0].body else {
        panic!("{:?}", posts[0]);
    };
    assert_eq!((*guild, name.as_str()), (77, "Q&A · Rust"));
    assert_eq!(
        card,
        &format!(
            "🎤 **Rust**\nWith \\*\\*Ann\\*\\* @\u{200b}everyone\nEnds <t:{0}:t> (<t:{0}:R>)\n\
             <https://example.org/rust>\nQuestions and comments about this talk go here.",
            ts("2026-06-01T10:30:00Z")
        )
    );
}

#[test]
fn threads_can_be_for_some_rooms_and_some_tracks_only() {
    let p = day();
    let now = utc("2026-06-01T09:00:00Z");
    let only = |rooms: &[&str], tracks: &[&str]| {
        let settings = ThreadSettings {
            rooms: rooms.iter().map(|r| (*r).to_owned()).collect(),
            tracks: tracks.iter().map(|t| (*t).to_owned()).collect(),
            ..ThreadSettings::default()
        };
        let posts = thread_posts(&p, &channels(), 77, &settings, now);
        let mut names: Vec<String> = posts
            .iter()
            .filter_map(|post| match &post.body {
                PostBody::ThreadOpen { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names
    };

    assert_eq!(
        only(&["loft"], &[]),
        ["Q&A · Go"],
        "rooms match like everywhere"
    );
    assert_eq!(only(&[], &["web"]), ["Q&A · Rust"]);
    assert_eq!(only(&["Loft"], &["Web"]), Vec::<String>::new());
    assert_eq!(only(&[], &[]), ["Q&A · Go", "Q&A · Rust"]);
}

#[test]
fn a_thread_name_is_plain_and_within_discords_100_characters() {
    assert_eq!(
        name("  Rust\n\tin   production "),
        "Q&A · Rust in production"
    );
    let long = name(&"x".repeat(300));
    assert_eq!(long.chars().count(), MAX_NAME);
    assert!(long.ends_with('…'));
}

#[test]
fn a_dm_links_the_thread_unless_that_would_pass_discords_limit() {
    use crate::domain::reminders::with_thread_link;
    assert_eq!(
        with_thread_link("⏰ **Rust**", 5, 9),
        "⏰ **Rust**\n💬 Questions: https://discord.com/channels/5/9"
    );
    let full = "x".repeat(limits::CONTENT - 10);
    assert_eq!(with_thread_link(&full, 5, 9), full);
}
