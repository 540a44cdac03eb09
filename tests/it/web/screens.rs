//! Room-door screens in a real headless Chromium: the page at 1920×1080 shows the room's
//! now and next, a schedule change reaches the open page within five seconds without a
//! reload, and the page carries on after the server restarts. No page error at any point.

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::json;

use super::browser::{png_size, Browser};
use super::{header, Web};
use crate::harness::TestDb;
use crate::reminders::{ics, import as import_schedule, Talk, SLUG};

/// How soon the open page must show a change (the promise).
const SHOWN_WITHIN: Duration = Duration::from_secs(5);

fn programme(now: DateTime<Utc>, next_title: &str, next_cancelled: bool) -> String {
    ics(&[
        Talk {
            uid: "screen-now",
            title: "Keeping Time in Rust",
            room: "Barn",
            start: now - TimeDelta::minutes(10),
            cancelled: false,
        },
        Talk {
            uid: "screen-next",
            title: next_title,
            room: "Barn",
            start: now + TimeDelta::minutes(20),
            cancelled: next_cancelled,
        },
        Talk {
            uid: "screen-loft",
            title: "Elsewhere Entirely",
            room: "Loft",
            start: now + TimeDelta::minutes(5),
            cancelled: false,
        },
    ])
}

const NOW_TITLE: &str = "document.querySelector('.now .title')?.textContent ?? null";
const NEXT_TITLE: &str = "document.querySelector('.next .title')?.textContent ?? null";

#[tokio::test]
async fn a_room_screen_shows_now_and_next_and_follows_changes_live_through_a_restart() {
    let db = TestDb::new().await;
    let now = Utc::now()
        .duration_trunc(TimeDelta::minutes(1))
        .expect("trunc");
    import_schedule(&db.pool, &programme(now, "Zero-Copy Parsing", false)).await;
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, web_public, updated_by)
         VALUES (1, $1, true, 0)",
    )
    .bind(SLUG)
    .execute(&db.pool)
    .await
    .expect("public");
    let web = Web::start(db.pool.clone()).await;
    let addr = web.addr;
    let page = web.get(&format!("/c/{SLUG}/screen?room=Barn"), &[]).await;
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert!(header(&page, "content-security-policy").contains("script-src 'self'"));
    let css = web.get("/static/screen.css", &[]).await;
    assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");

    let mut browser = Browser::open(&format!("http://{addr}/c/{SLUG}/screen?room=Barn")).await;
    let live = browser
        .wait_until(
            "document.body?.dataset.live ?? null",
            json!("yes"),
            Duration::from_secs(20),
        )
        .await;
    assert!(live, "the page's stream never delivered");
    assert_eq!(browser.eval(NOW_TITLE).await, json!("Keeping Time in Rust"));
    assert_eq!(browser.eval(NEXT_TITLE).await, json!("Zero-Copy Parsing"));
    assert_eq!(
        browser
            .eval("document.getElementById('room').textContent")
            .await,
        json!("Barn")
    );
    let clock = browser
        .eval("document.getElementById('clock').textContent")
        .await;
    assert!(clock.as_str().is_some_and(|c| c.contains(':')), "{clock}");
    let shot = browser.screenshot().await;
    assert_eq!(png_size(&shot), (1920, 1080));
    if let Ok(path) = std::env::var("CONFBOT_SCREENSHOT") {
        std::fs::write(path, &shot).expect("screenshot written");
    }
    browser.eval("window.confbotMarker = 42").await;

    // The next talk is renamed: the open page shows it without a reload.
    import_schedule(
        &db.pool,
        &programme(now, "Zero-Copy Parsing, Revisited", false),
    )
    .await;
    let renamed = browser
        .wait_until(
            NEXT_TITLE,
            json!("Zero-Copy Parsing, Revisited"),
            SHOWN_WITHIN,
        )
        .await;
    assert!(
        renamed,
        "the change did not reach the page within {SHOWN_WITHIN:?}"
    );
    assert_eq!(
        browser.eval("window.confbotMarker ?? null").await,
        json!(42),
        "no reload"
    );

    // The server restarts; the page reconnects by itself and shows the next change.
    web.stop().await;
    let web = Web::start_on(db.pool.clone(), addr).await;
    import_schedule(
        &db.pool,
        &programme(now, "Zero-Copy Parsing, Revisited", true),
    )
    .await;
    let cancelled = browser
        .wait_until(
            "document.querySelector('.next.cancelled .status')?.textContent ?? null",
            json!("Cancelled"),
            Duration::from_secs(20),
        )
        .await;
    assert!(cancelled, "the page did not come back after the restart");
    assert_eq!(
        browser.eval("window.confbotMarker ?? null").await,
        json!(42),
        "no reload"
    );
    let errors = browser.errors.clone();
    browser.close().await;
    web.stop().await;
    assert!(errors.is_empty(), "page errors: {errors:?}");
}

#[tokio::test]
async fn a_screen_of_a_conference_that_is_not_public_is_a_404() {
    let db = TestDb::new().await;
    import_schedule(&db.pool, &programme(Utc::now(), "Anything", false)).await;
    let web = Web::start(db.pool.clone()).await;
    let page = web.get(&format!("/c/{SLUG}/screen"), &[]).await.status();
    let stream = web
        .get(&format!("/c/{SLUG}/screen/events"), &[])
        .await
        .status();
    let asset = web.get("/static/nothing.js", &[]).await.status();
    web.stop().await;
    assert_eq!(
        (page.as_u16(), stream.as_u16(), asset.as_u16()),
        (404, 404, 404)
    );
}
