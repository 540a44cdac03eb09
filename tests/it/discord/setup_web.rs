//! `/setup web public:on|off` through the stand-in: organisers only, and only of the server
//! the operator assigned the conference to (any server may follow any conference); the
//! conference's feed served while on (its address in the echo) and gone when off.

use serde_json::json;

use super::payloads::{self, GUILD_ID};
use super::setup::{sub, ATTENDEE, ORGANISER};
use super::subscriptions::{ask, private_text};
use super::{Bot, CONFERENCE, ORCHESTRATOR};
use crate::web::Web;

#[tokio::test]
async fn a_server_that_only_follows_the_conference_cannot_publish_it() {
    let bot = Bot::start().await;
    let web = Web::start(bot.db.pool.clone()).await;
    let on = vec![payloads::option("public", 3, json!("on"))];

    let refused = private_text(&ask(&bot, sub("setup", "web", on, ORGANISER)).await);
    let served = web.get(&format!("/c/{CONFERENCE}.ics"), &[]).await.status();
    web.stop().await;

    assert_eq!(
        refused,
        "Only the server that imports this conference's programme (with `/setup source`), or \
         the one the bot's operator assigned it to, can publish it on the web."
    );
    assert_eq!(served.as_u16(), 404);
}

#[tokio::test]
async fn setup_web_publishes_the_conference_feed_and_takes_it_back() {
    let public = "https://confbot.example.org";
    let assigned = format!("[{{guild_id = {GUILD_ID}, conference = \"{CONFERENCE}\"}}]");
    let env = [
        ("CONFBOT__WEB__PUBLIC_URL", public),
        ("CONFBOT__GUILDS", assigned.as_str()),
    ];
    let bot = Bot::start_with_title(ORCHESTRATOR, &env).await;
    let web = Web::start(bot.db.pool.clone()).await;
    let setting = |value: &str| vec![payloads::option("public", 3, json!(value))];
    let feed = format!("/c/{CONFERENCE}.ics");

    let before = web.get(&feed, &[]).await.status().as_u16();
    let refused = private_text(&ask(&bot, sub("setup", "web", setting("on"), ATTENDEE)).await);
    let refused_then = web.get(&feed, &[]).await.status().as_u16();
    let saved = private_text(&ask(&bot, sub("setup", "web", setting("on"), ORGANISER)).await);
    let served = web.get(&feed, &[]).await;
    let served_status = served.status();
    let body = served.text().await.expect("body");
    let shown = private_text(&ask(&bot, sub("setup", "show", vec![], ORGANISER)).await);
    let off = private_text(&ask(&bot, sub("setup", "web", setting("off"), ORGANISER)).await);
    let after = web.get(&feed, &[]).await.status();
    web.stop().await;

    assert_eq!((before, refused_then), (404, 404));
    assert_eq!(
        refused,
        "Only this server's organisers (Manage Server, or the organiser role) can use `/setup web`."
    );
    assert_eq!(
        saved,
        format!(
            "Saved.\n**Public calendar feed and room screens**: off → on\nThe programme's \
             calendar: <{public}/c/{CONFERENCE}.ics> (`?room=` and `?track=` narrow it). Room \
             screens: <{public}/c/{CONFERENCE}/screen> (`?room=` for one room's door)."
        )
    );
    assert_eq!(served_status, 200);
    assert!(
        body.contains(ORCHESTRATOR.split(':').next().unwrap_or_default()),
        "{body}"
    );
    assert!(
        shown.contains("Public calendar feed and room screens: on"),
        "{shown}"
    );
    assert_eq!(
        off,
        "Saved.\n**Public calendar feed and room screens**: on → off"
    );
    assert_eq!(after, 404);
}
