//! `/c/<slug>.ics`: a conference's programme for people who are not on Discord, only while
//! a server following it has made it public.

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use confbot::domain::import::{self, ImportOptions};
use confbot::domain::model::TalkStatus;
use sqlx::PgPool;

use super::{header, Web};
use crate::harness::TestDb;
use crate::reminders::{ics, import as import_schedule, Talk, SLUG};

fn programme(start: DateTime<Utc>, moved: bool) -> String {
    let talk = |uid, title, room, hours: i64| Talk {
        uid,
        title,
        room,
        start: start + Duration::hours(hours),
        cancelled: false,
    };
    let mut talks = vec![
        talk("pub-a", "Alpha", "Barn", 0),
        talk("pub-b", "Beta", "Loft", 1),
        talk("pub-c", "Gamma", "Barn", 2),
    ];
    if moved {
        talks[0].start += Duration::minutes(15);
        talks[1].cancelled = true;
    }
    ics(&talks)
}

async fn publish(pool: &PgPool, public: bool) {
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, web_public, updated_by)
         VALUES (1, $1, $2, 0)
         ON CONFLICT (guild_id) DO UPDATE SET web_public = EXCLUDED.web_public",
    )
    .bind(SLUG)
    .bind(public)
    .execute(pool)
    .await
    .expect("settings");
}

async fn titles(web: &Web, query: &str) -> Vec<String> {
    let response = web.get(&format!("/c/{SLUG}.ics{query}"), &[]).await;
    assert_eq!(response.status(), 200, "{query}");
    let body = response.bytes().await.expect("body");
    // The importer refuses an empty timetable: an empty feed is read as text.
    if !String::from_utf8_lossy(&body).contains("BEGIN:VEVENT") {
        return Vec::new();
    }
    let parsed = import::parse(&body, None, &ImportOptions::default()).expect("imports");
    parsed.talks.into_iter().map(|t| t.title).collect()
}

#[tokio::test]
async fn a_conference_feed_is_served_only_while_public_and_filters_by_room_and_track() {
    let db = TestDb::new().await;
    let start = (Utc::now() + Duration::days(2))
        .duration_trunc(TimeDelta::minutes(1))
        .expect("trunc");
    import_schedule(&db.pool, &programme(start, false)).await;
    let web = Web::start(db.pool.clone()).await;
    let feed = format!("/c/{SLUG}.ics");

    assert_eq!(web.get(&feed, &[]).await.status(), 404, "not opted in");
    publish(&db.pool, false).await;
    assert_eq!(web.get(&feed, &[]).await.status(), 404, "opted out");
    publish(&db.pool, true).await;
    assert_eq!(web.get("/c/no-such-con.ics", &[]).await.status(), 404);
    assert_eq!(web.get(&format!("/c/{SLUG}"), &[]).await.status(), 404);

    let first = web.get(&feed, &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "cache-control"), "public, max-age=900");
    let etag = header(&first, "etag").to_owned();
    assert_eq!(titles(&web, "").await, ["Alpha", "Beta", "Gamma"]);
    assert_eq!(titles(&web, "?room=barn").await, ["Alpha", "Gamma"]);
    assert_eq!(titles(&web, "?room=Barn&room=Loft&t=1").await.len(), 3);
    assert!(titles(&web, "?track=Nothing").await.is_empty());
    let unchanged = web.get(&feed, &[("if-none-match", &etag)]).await;
    assert_eq!(unchanged.status(), 304);
    let flood = format!("?{}", vec!["room=x"; 21].join("&"));
    assert_eq!(web.get(&format!("{feed}{flood}"), &[]).await.status(), 400);

    import_schedule(&db.pool, &programme(start, true)).await;
    let changed = web.get(&feed, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status(), 200);
    let body = changed.bytes().await.expect("body");
    let talks = import::parse(&body, None, &ImportOptions::default())
        .expect("imports")
        .talks;
    assert_eq!(
        talks[0].slot.map(|s| s.start),
        Some(start + Duration::minutes(15))
    );
    assert_eq!(talks[1].status, TalkStatus::Cancelled);
    assert!(
        !String::from_utf8_lossy(&body).contains("VALARM"),
        "no alarms in a public feed"
    );

    publish(&db.pool, false).await;
    assert_eq!(web.get(&feed, &[]).await.status(), 404, "turned off again");
    web.stop().await;
}
