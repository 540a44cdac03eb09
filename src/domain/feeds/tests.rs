use chrono::Duration;

use super::*;
use crate::domain::import::{ics as import_ics, ImportOptions};
use crate::domain::model::{TalkId, TalkStatus};
use crate::domain::programme::testing::{programme, talk, utc};

/// Ids 1 Rust in Barn (track Systems), 2 Web in Loft, 3 a cancelled talk in Barn, 4 Web again
/// in Loft (track Systems).
fn day() -> Programme {
    let mut rust = talk("Rust", "Ann", "Barn", "2026-06-01T09:00:00Z", 30);
    rust.track = Some("Systems".into());
    let mut cancelled = talk("Gone", "Bob", "Barn", "2026-06-01T10:00:00Z", 30);
    cancelled.status = TalkStatus::Cancelled;
    let mut again = talk("Web again", "Eve", "Loft", "2026-06-01T11:00:00Z", 30);
    again.track = Some("systems".into());
    programme(
        chrono_tz::Europe::Berlin,
        vec![],
        vec![
            rust,
            talk("Web", "Cy", "Loft", "2026-06-01T09:00:00Z", 30),
            cancelled,
            again,
        ],
    )
}

fn titles(talks: &[StoredTalk]) -> Vec<&str> {
    talks.iter().map(|t| t.data.title.as_str()).collect()
}

fn token() -> FeedToken {
    FeedToken::from_random([7; FeedToken::BYTES])
}

#[test]
fn a_token_is_43_url_safe_characters_parsed_only_in_that_shape() {
    let token = token();
    assert_eq!(token.as_str().len(), FeedToken::LEN);
    assert_eq!(FeedToken::parse(token.as_str()), Some(token.clone()));
    let too_long = format!("{}A", token.as_str());
    let slashed = format!("{}/", &token.as_str()[1..]);
    for bad in ["", "abc", too_long.as_str(), slashed.as_str()] {
        assert_eq!(FeedToken::parse(bad), None, "{bad:?}");
    }
    assert!(token.matches(token.as_str()));
    assert!(!token.matches(FeedToken::from_random([8; 32]).as_str()));
    assert!(!token.matches(""));
    assert_ne!(
        token.lookup_key(),
        FeedToken::from_random([8; 32]).lookup_key()
    );
    assert_eq!(format!("{token:?}"), "FeedToken(…)", "never logged");
}

#[test]
fn feed_urls_sit_under_the_public_base_with_a_webcal_twin() {
    let token = token();
    let (https, webcal) = personal_urls("https://bot.example.org/", &token);
    assert_eq!(
        https,
        format!("https://bot.example.org/cal/{}.ics", token.as_str())
    );
    assert_eq!(
        webcal,
        format!("webcal://bot.example.org/cal/{}.ics", token.as_str())
    );
    let (https, _) = personal_urls("https://example.org/confbot", &token);
    assert!(
        https.starts_with("https://example.org/confbot/cal/"),
        "{https}"
    );
}

#[test]
fn a_personal_feed_holds_the_talks_rooms_and_tracks_subscribed_to() {
    let day = day();
    let only_talk = [SubscriptionTarget::Talk(TalkId(2))];
    assert_eq!(titles(&personal_talks(&day, &only_talk)), ["Web"]);
    let room = [SubscriptionTarget::Room("barn".into())];
    assert_eq!(titles(&personal_talks(&day, &room)), ["Rust", "Gone"]);
    let track_and_talk = [
        SubscriptionTarget::Track("SYSTEMS".into()),
        SubscriptionTarget::Talk(TalkId(1)),
    ];
    assert_eq!(
        titles(&personal_talks(&day, &track_and_talk)),
        ["Rust", "Web again"],
        "each talk once, in programme order"
    );
    assert!(personal_talks(&day, &[]).is_empty());
}

#[test]
fn a_public_feed_filters_by_room_and_track_together() {
    let day = day();
    assert_eq!(public_talks(&day, &Filter::default()).len(), 4);
    let loft = Filter {
        rooms: vec!["Loft".into()],
        tracks: vec![],
    };
    assert_eq!(titles(&public_talks(&day, &loft)), ["Web", "Web again"]);
    let loft_systems = Filter {
        rooms: vec!["loft".into()],
        tracks: vec!["Systems".into()],
    };
    assert_eq!(titles(&public_talks(&day, &loft_systems)), ["Web again"]);
    let nowhere = Filter {
        rooms: vec!["Attic".into()],
        tracks: vec![],
    };
    assert!(public_talks(&day, &nowhere).is_empty());
}

#[test]
fn the_feed_round_trips_through_the_importer_with_alarms_on_talks_that_take_place() {
    let day = day();
    let talks = public_talks(&day, &Filter::default());
    let feed = Unstamped::render(&day.conference, &talks, Some(Duration::minutes(10)));
    let served = feed.stamped(utc("2026-05-30T12:00:00Z"));

    let imported = import_ics::parse(&served, &ImportOptions::default()).expect("parses");
    assert_eq!(imported.talks.len(), 4);
    assert_eq!(imported.talks[2].status, TalkStatus::Cancelled);
    assert_eq!(imported.talks[0].slot, talks[0].data.slot);
    assert_eq!(
        served.matches("BEGIN:VALARM").count(),
        3,
        "not the cancelled talk"
    );
    assert_eq!(
        served.matches("TRIGGER;RELATED=START:-PT600S\r\n").count(),
        3
    );
    assert!(served.contains("DESCRIPTION:Rust (Barn)\r\n"), "{served}");
    assert!(served.contains("UID:confbot-talk-1-alarm\r\n"), "{served}");
    assert_eq!(served.matches("DTSTAMP:").count(), 7, "4 events, 3 alarms");
    assert_eq!(served.matches("DTSTAMP:20260530T120000Z\r\n").count(), 7);
    assert!(served.contains("REFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n"));
    assert_eq!(
        served,
        feed.stamped(utc("2026-05-30T12:00:00Z")),
        "deterministic"
    );
}

#[test]
fn the_digest_changes_with_the_content_and_not_with_the_stamp() {
    let day = day();
    let talks = public_talks(&day, &Filter::default());
    let at = utc("2026-05-30T12:00:00Z");
    let feed = Unstamped::render(&day.conference, &talks, None);
    let same = Unstamped::render(&day.conference, &talks, None);
    assert_eq!(feed.etag(at), same.etag(at));
    assert_eq!(feed.etag(at).len(), 34);
    assert_ne!(
        feed.etag(at),
        feed.etag(at + Duration::seconds(1)),
        "other bytes"
    );
    let mut moved = talks.clone();
    moved[0].schedule_version += 1;
    let moved = Unstamped::render(&day.conference, &moved, None);
    assert_ne!(moved.etag(at), feed.etag(at));
    let alarmed = Unstamped::render(&day.conference, &talks, Some(Duration::minutes(5)));
    assert_ne!(
        alarmed.etag(at),
        feed.etag(at),
        "a new lead time is a new feed"
    );
}

#[test]
fn conditional_requests_follow_rfc_9110() {
    let changed = utc("2026-12-05T15:32:10Z");
    let etag = "\"abc\"";
    let date = http_date(changed);
    assert_eq!(date, "Sat, 05 Dec 2026 15:32:10 GMT");
    assert!(not_modified(etag, changed, Some("\"abc\""), None));
    assert!(not_modified(etag, changed, Some("\"x\", W/\"abc\""), None));
    assert!(not_modified(etag, changed, Some("*"), None));
    assert!(
        !not_modified(etag, changed, Some("\"x\""), Some(&date)),
        "the tag decides"
    );
    assert!(not_modified(etag, changed, None, Some(&date)));
    let earlier = http_date(changed - Duration::seconds(1));
    assert!(!not_modified(etag, changed, None, Some(&earlier)));
    assert!(!not_modified(etag, changed, None, Some("yesterday")));
    assert!(!not_modified(etag, changed, None, None));
}
