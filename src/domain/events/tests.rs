use chrono::Duration;

use super::*;
use crate::domain::model::{TalkData, TalkKind, TalkStatus};
use crate::domain::programme::testing::{programme, talk, utc};

const GUILD: u64 = 77;
const NOW: &str = "2026-06-01T08:00:00Z";

fn keynote(title: &str, start: &str) -> TalkData {
    let mut data = talk(title, "Ann", "Main Hall", start, 60);
    data.talk_type = Some("Keynote".into());
    data.track = Some("Keynotes".into());
    data
}

/// 1 a keynote at 09:00, 2 a talk in Barn at 10:00, 3 a cancelled keynote, 4 a break,
/// 5 a keynote the next day.
fn day() -> Programme {
    let mut cancelled = keynote("Gone", "2026-06-01T11:00:00Z");
    cancelled.status = TalkStatus::Cancelled;
    let mut lunch = talk("Lunch", "", "Main Hall", "2026-06-01T12:00:00Z", 60);
    lunch.kind = TalkKind::Other;
    programme(
        chrono_tz::UTC,
        vec![],
        vec![
            keynote("Opening", "2026-06-01T09:00:00Z"),
            talk("Rust", "Bob", "Barn", "2026-06-01T10:00:00Z", 30),
            cancelled,
            lunch,
            keynote("Closing", "2026-06-02T17:00:00Z"),
        ],
    )
}

fn every_talk() -> EventSelection {
    EventSelection::default()
}

fn created(posts: &[PlannedPost]) -> Vec<(i64, String)> {
    posts
        .iter()
        .map(|post| {
            let PostBody::Event { spec, .. } = &post.body else {
                panic!("{post:?}");
            };
            let talk = post.key.subject.talk().expect("a talk").0;
            (
                talk,
                spec.as_ref().map_or("(cancel)".into(), |s| s.name.clone()),
            )
        })
        .collect()
}

/// The events recorded for `posts` as if each had been sent at `now`.
fn recorded(posts: &[PlannedPost]) -> Vec<StoredEvent> {
    posts
        .iter()
        .enumerate()
        .filter_map(|(i, post)| {
            let PostBody::Event {
                spec: Some(spec), ..
            } = &post.body
            else {
                return None;
            };
            Some(StoredEvent {
                talk: post.key.subject.talk()?,
                event: Some(1000 + i as u64),
                shown: Some(spec.digest()),
                start: Some(spec.start),
                end: Some(spec.end),
                cancelled: false,
                revision: 1,
            })
        })
        .collect()
}

#[test]
fn every_talk_that_takes_place_gets_one_event_and_a_selection_narrows_it() {
    let p = day();
    let now = utc(NOW);

    let all = event_posts(&p, GUILD, Some(&every_talk()), &[], now);
    let keynotes = EventSelection {
        types: vec!["keynote".into()],
        ..EventSelection::default()
    };
    let by_track = EventSelection {
        tracks: vec!["KEYNOTES".into()],
        rooms: vec!["main hall".into()],
        ..EventSelection::default()
    };

    assert_eq!(
        created(&all),
        [
            (1, "Opening".into()),
            (2, "Rust".into()),
            (5, "Closing".into())
        ],
        "no event for a cancelled talk or a break"
    );
    let only_keynotes = [(1, "Opening".to_owned()), (5, "Closing".to_owned())];
    assert_eq!(
        created(&event_posts(&p, GUILD, Some(&keynotes), &[], now)),
        only_keynotes
    );
    assert_eq!(
        created(&event_posts(&p, GUILD, Some(&by_track), &[], now)),
        only_keynotes
    );
    assert!(
        event_posts(&p, GUILD, None, &[], now).is_empty(),
        "events off"
    );
    let key = all[0].key;
    assert_eq!(
        (key.target, key.kind),
        (Target::Guild(GUILD), PostKind::Event)
    );
    assert!(all[0].due <= now, "due at once");
    assert_eq!(all[0].expires, Some(utc("2026-06-01T10:00:00Z")));
}

#[test]
fn an_event_keeps_to_discords_limits_and_escapes_what_the_schedule_says() {
    let mut data = talk(
        &format!("{}  tail", "Long ".repeat(30)),
        "**Ann** @everyone",
        "Barn",
        "2026-06-01T09:00:00Z",
        30,
    );
    data.abstract_text = Some("x".repeat(5000).into());
    data.url = Some("https://example.org/talk".into());
    data.room = Some("R".repeat(300).into());
    let p = programme(chrono_tz::UTC, vec![], vec![data]);
    let full = p.full_talk(0).expect("talk");

    let spec = EventSpec::of(&full, "Conf").expect("a slot");

    assert_eq!(spec.name.chars().count(), MAX_NAME);
    assert!(!spec.name.contains("  "), "one line: {:?}", spec.name);
    assert!(spec.description.chars().count() <= MAX_DESCRIPTION);
    assert!(
        spec.description
            .starts_with("With \\*\\*Ann\\*\\* @\u{200b}everyone"),
        "{}",
        spec.description
    );
    assert!(
        spec.description.ends_with("<https://example.org/talk>"),
        "the link survives the cut"
    );
    assert_eq!(spec.location.chars().count(), MAX_LOCATION);
    let mut roomless = full.clone();
    roomless.data.room = None;
    assert_eq!(
        EventSpec::of(&roomless, "Test Conf")
            .expect("slot")
            .location,
        "Test Conf"
    );
}

#[test]
fn at_most_a_hundred_events_live_at_once_nearest_first_and_the_rest_as_earlier_ones_end() {
    let start = utc("2026-06-01T09:00:00Z");
    let talks: Vec<TalkData> = (0..150)
        .map(|i| {
            let at = (start + Duration::minutes(30 * i)).to_rfc3339();
            talk(&format!("T{i}"), "Ann", "Barn", &at, 30)
        })
        .collect();
    let p = programme(chrono_tz::UTC, vec![], talks);
    let now = utc(NOW);

    let first = event_posts(&p, GUILD, Some(&every_talk()), &[], now);
    let stored = recorded(&first);
    let unchanged = event_posts(&p, GUILD, Some(&every_talk()), &stored, now);
    // Two hours on, the first four talks are over: four more events.
    let later = event_posts(
        &p,
        GUILD,
        Some(&every_talk()),
        &stored,
        start + Duration::hours(2),
    );

    assert_eq!(first.len(), MAX_EVENTS);
    let names: Vec<String> = created(&first).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names.first().map(String::as_str), Some("T0"));
    assert_eq!(names.last().map(String::as_str), Some("T99"));
    assert!(unchanged.is_empty(), "nothing to do: {unchanged:?}");
    let names: Vec<String> = created(&later).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["T100", "T101", "T102", "T103"]);
}

#[test]
fn a_moved_talk_is_edited_a_cancelled_one_cancelled_and_an_undone_change_sent_again() {
    let now = utc(NOW);
    let selection = every_talk();
    let p = day();
    let stored = recorded(&event_posts(&p, GUILD, Some(&selection), &[], now));

    let mut talks: Vec<TalkData> = (0..p.talks.len())
        .map(|i| p.full_talk(i).expect("talk").data)
        .collect();
    let opening = talks
        .iter()
        .position(|t| t.title == "Opening")
        .expect("opening");
    let rust = talks.iter().position(|t| t.title == "Rust").expect("rust");
    let slot = talks[opening].slot.as_mut().expect("slot");
    slot.start += Duration::minutes(15);
    slot.end += Duration::minutes(15);
    talks[rust].status = TalkStatus::Cancelled;
    let changed = programme(chrono_tz::UTC, vec![], talks);
    let posts = event_posts(&changed, GUILD, Some(&selection), &stored, now);

    assert_eq!(
        created(&posts),
        [(1, "Opening".into()), (2, "(cancel)".into())]
    );
    let PostBody::Event {
        spec: Some(moved), ..
    } = &posts[0].body
    else {
        panic!("{posts:?}");
    };
    assert_eq!(moved.start, utc("2026-06-01T09:15:00Z"));
    // Every event of a server that turned events off is cancelled.
    let off = event_posts(&p, GUILD, None, &stored, now);
    assert_eq!(off.len(), 3);
    // Moved back after the move was shown: a post again, under another key than the first.
    let mut shown_moved = stored.clone();
    shown_moved[0].shown = Some(moved.digest());
    shown_moved[0].revision += 1;
    let back = event_posts(&p, GUILD, Some(&selection), &shown_moved, now);
    assert_eq!(created(&back), [(1, "Opening".into())]);
    let first = event_posts(&p, GUILD, Some(&selection), &[], now);
    assert_ne!(back[0].key, first[0].key);
    // Events off, then on again: the cancelled events' talks get new ones, under new keys.
    let cancelled: Vec<StoredEvent> = stored
        .iter()
        .map(|event| StoredEvent {
            cancelled: true,
            revision: event.revision + 1,
            ..event.clone()
        })
        .collect();
    let again = event_posts(&p, GUILD, Some(&selection), &cancelled, now);
    assert_eq!(created(&again), created(&first));
    assert!(again.iter().zip(&first).all(|(a, f)| a.key != f.key));
}

#[test]
fn each_post_becomes_the_one_request_the_recorded_event_needs() {
    let p = day();
    let spec = EventSpec::of(&p.full_talk(0).expect("talk"), "Conf").expect("slot");
    let before = spec.start - Duration::minutes(5);
    let during = spec.start + Duration::minutes(5);
    let live = StoredEvent {
        talk: TalkId(1),
        event: Some(42),
        shown: Some(1),
        start: Some(spec.start),
        end: Some(spec.end),
        cancelled: false,
        revision: 3,
    };
    let cancelled = StoredEvent {
        cancelled: true,
        ..live.clone()
    };
    let current = StoredEvent {
        shown: Some(spec.digest()),
        ..live.clone()
    };
    let edit = |spec: &EventSpec, started| EventAction::Edit {
        event: 42,
        spec: spec.clone(),
        started,
    };
    let create = Ok(EventAction::Create(spec.clone()));

    assert_eq!(action(Some(&spec), 0, None, before), create);
    assert_eq!(
        action(Some(&spec), 3, Some(&cancelled), before),
        create,
        "a talk put back gets a new event"
    );
    assert!(
        action(Some(&spec), 0, None, during).is_err(),
        "none in the past"
    );
    assert_eq!(
        action(Some(&spec), 3, Some(&live), during),
        Ok(edit(&spec, true))
    );
    assert_eq!(
        action(Some(&spec), 3, Some(&live), before),
        Ok(edit(&spec, false))
    );
    let mut moved_back = spec.clone();
    moved_back.start = before - Duration::minutes(1);
    assert_eq!(
        action(Some(&moved_back), 3, Some(&live), before),
        Ok(edit(&moved_back, true)),
        "a start in the past is left out: Discord refuses it"
    );
    assert!(
        action(Some(&spec), 3, Some(&current), before).is_err(),
        "shown already"
    );
    assert!(
        action(Some(&spec), 2, Some(&live), before).is_err(),
        "planned from an older revision"
    );
    assert_eq!(
        action(None, 3, Some(&live), before),
        Ok(EventAction::Cancel { event: 42 })
    );
    assert_eq!(
        action(None, 3, Some(&live), during),
        Ok(EventAction::End { event: 42 })
    );
    assert!(action(None, 3, Some(&cancelled), before).is_err());
    assert!(
        action(None, 3, Some(&live), spec.end).is_err(),
        "over by itself"
    );
}
