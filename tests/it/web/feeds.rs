//! `/cal/<token>.ics`: a person's live calendar, read back with confbot's own importer.

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use confbot::domain::feeds::FeedToken;
use confbot::domain::import::{self, ImportOptions};
use confbot::domain::model::{TalkData, TalkStatus};
use confbot::domain::reminders::LeadTime;
use confbot::store::{feeds, subscriptions};
use sqlx::PgPool;

use super::{header, Web};
use crate::harness::TestDb;
use crate::reminders::{ics, ids, import as import_schedule, subscribe, Talk};

const USER: u64 = 4_242_424_242;

fn programme(start: DateTime<Utc>, moved: bool) -> String {
    let shift = if moved {
        Duration::minutes(30)
    } else {
        Duration::zero()
    };
    ics(&[
        Talk {
            uid: "feed-a",
            title: "Alpha",
            room: "Barn",
            start: start + shift,
            cancelled: false,
        },
        Talk {
            uid: "feed-b",
            title: "Beta",
            room: "Loft",
            start: start + Duration::hours(1),
            cancelled: moved,
        },
        Talk {
            uid: "feed-c",
            title: "Gamma",
            room: "Barn",
            start: start + Duration::hours(2),
            cancelled: false,
        },
    ])
}

/// A programme of three talks tomorrow; [`USER`] follows Alpha and Beta and has a link.
async fn seeded() -> (TestDb, i64, FeedToken, DateTime<Utc>) {
    let db = TestDb::new().await;
    let start = (Utc::now() + Duration::days(1))
        .duration_trunc(TimeDelta::minutes(1))
        .expect("trunc");
    import_schedule(&db.pool, &programme(start, false)).await;
    let (conference, alpha) = ids(&db.pool, "feed-a").await;
    let (_, beta) = ids(&db.pool, "feed-b").await;
    subscribe(&db.pool, conference, USER, alpha).await;
    subscribe(&db.pool, conference, USER, beta).await;
    let token = link(&db.pool, conference, 1).await;
    (db, conference, token, start)
}

async fn link(pool: &PgPool, conference: i64, seed: u8) -> FeedToken {
    let fresh = FeedToken::from_random([seed; FeedToken::BYTES]);
    feeds::token_of(pool, conference, USER, Some(1), &fresh, Utc::now())
        .await
        .expect("token")
}

fn path(token: &FeedToken) -> String {
    format!("/cal/{}.ics", token.as_str())
}

/// The feed's text and its talks as confbot's importer reads them.
async fn read(response: reqwest::Response) -> (String, Vec<TalkData>) {
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    let parsed = import::parse(text.as_bytes(), None, &ImportOptions::default())
        .unwrap_or_else(|e| panic!("the feed imports: {e}\n{text}"));
    (text, parsed.talks)
}

/// The value of `name` in the VEVENT whose UID is `uid`.
fn property(text: &str, uid: &str, name: &str) -> String {
    let event = text
        .split("BEGIN:VEVENT")
        .find(|event| event.contains(&format!("\r\nUID:{uid}\r\n")))
        .unwrap_or_else(|| panic!("no event {uid} in {text}"));
    event
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {event}"))
        .to_owned()
}

#[tokio::test]
async fn a_personal_feed_follows_moves_and_cancellations_with_stable_uids_and_higher_sequences() {
    let (db, conference, token, start) = seeded().await;
    let web = Web::start(db.pool.clone()).await;

    let first = web.get(&path(&token), &[]).await;
    let etag = header(&first, "etag").to_owned();
    let modified = header(&first, "last-modified").to_owned();
    assert_eq!(
        header(&first, "content-type"),
        "text/calendar; charset=utf-8"
    );
    assert_eq!(header(&first, "cache-control"), "private, max-age=900");
    assert_eq!(header(&first, "x-content-type-options"), "nosniff");
    assert_eq!(header(&first, "referrer-policy"), "no-referrer");
    assert!(header(&first, "content-security-policy").contains("default-src 'none'"));
    let (before, talks) = read(first).await;
    let titles: Vec<&str> = talks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Alpha", "Beta"], "only what the person follows");
    assert_eq!(talks[0].slot.map(|s| s.start), Some(start));
    assert_eq!(before.matches("TRIGGER;RELATED=START:-PT600S").count(), 2);
    assert!(
        !before.contains(&USER.to_string()),
        "the feed never names the person"
    );

    let by_tag = web.get(&path(&token), &[("if-none-match", &etag)]).await;
    let by_date = web
        .get(&path(&token), &[("if-modified-since", &modified)])
        .await;
    assert_eq!(by_tag.status(), 304);
    assert_eq!(header(&by_tag, "etag"), etag);
    assert_eq!(by_date.status(), 304);
    assert!(by_tag.text().await.expect("body").is_empty());

    // Alpha moves half an hour, Beta is cancelled.
    import_schedule(&db.pool, &programme(start, true)).await;
    let changed = web.get(&path(&token), &[("if-none-match", &etag)]).await;
    assert_ne!(
        header(&changed, "etag"),
        etag,
        "a changed feed has a new tag"
    );
    let (after, talks) = read(changed).await;
    assert_eq!(
        talks[0].slot.map(|s| s.start),
        Some(start + Duration::minutes(30))
    );
    assert_eq!(talks[1].status, TalkStatus::Cancelled);
    for uid in ["feed-a", "feed-b"] {
        let old: u32 = property(&before, uid, "SEQUENCE").parse().expect("number");
        let new: u32 = property(&after, uid, "SEQUENCE").parse().expect("number");
        assert!(new > old, "{uid}: SEQUENCE {old} -> {new}");
    }
    assert_eq!(property(&after, "feed-b", "STATUS"), "CANCELLED");
    assert_eq!(
        after.matches("BEGIN:VALARM").count(),
        1,
        "no alarm for a cancelled talk"
    );

    // A new lead time is a new feed too.
    let five = LeadTime::from_minutes(5).expect("lead");
    subscriptions::set_lead(&db.pool, conference, USER, five)
        .await
        .expect("lead");
    let (led, _) = read(web.get(&path(&token), &[]).await).await;
    assert!(led.contains("TRIGGER;RELATED=START:-PT300S"), "{led}");
    web.stop().await;
}

#[tokio::test]
async fn wrong_revoked_and_malformed_tokens_are_plain_404s_and_guessing_is_limited() {
    let (db, conference, token, _) = seeded().await;
    let web = Web::start(db.pool.clone()).await;
    let stranger = FeedToken::from_random([9; FeedToken::BYTES]);

    assert_eq!(web.get(&path(&token), &[]).await.status(), 200);
    let reset = FeedToken::from_random([2; FeedToken::BYTES]);
    feeds::reset(&db.pool, conference, USER, Some(1), &reset, Utc::now())
        .await
        .expect("reset");
    let revoked = web.get(&path(&token), &[]).await;
    assert_eq!(revoked.status(), 404);
    assert_eq!(revoked.text().await.expect("body"), "not found\n");
    assert_eq!(web.get(&path(&reset), &[]).await.status(), 200);
    let unknown = format!("/cal/{}", stranger.as_str());
    for missing in [path(&stranger), unknown, "/cal/short.ics".to_owned()] {
        assert_eq!(web.get(&missing, &[]).await.status(), 404, "{missing}");
    }

    // 4 misses so far; the burst is 20, then 10 a minute.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(web.get(&path(&stranger), &[]).await.status().as_u16());
    }
    let limited = web.get(&path(&stranger), &[]).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(header(&limited, "retry-after"), "60");
    assert_eq!(statuses.iter().filter(|s| **s == 404).count(), 16);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 4);
    assert_eq!(
        web.get(&path(&reset), &[]).await.status(),
        200,
        "a feed that exists is never limited"
    );
    web.stop().await;
}
