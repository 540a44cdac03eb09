//! `/setup events` through the stand-in: organisers only, refused while confbot lacks
//! Manage Events, the selected talks' events made by the scheduler, `/status` saying when
//! the permission goes missing, and turning events off cancelling them.

use serde_json::json;

use super::guilds::MANAGE_EVENTS;
use super::payloads::{self, GUILD_ID};
use super::setup::{sub, ATTENDEE, ORGANISER};
use super::subscriptions::{ask, private_text};
use super::Bot;
use crate::reminders::Scheduler;
use confbot::jobs::Clock;

#[tokio::test]
async fn setup_events_needs_manage_events_and_status_says_when_it_goes_missing() {
    let bot = Bot::start().await;
    let scheduler = Scheduler::start(&bot.db.url, &bot.standin, Clock::wall(), "w1", |_| {}).await;
    let events = |options: Vec<serde_json::Value>, who| sub("setup", "events", options, who);
    let text = |name: &str, value: &str| payloads::option(name, 3, json!(value));
    let on = vec![text("enabled", "on"), text("rooms", "Loft")];
    let overview = || sub("status", "overview", vec![], ORGANISER);
    let path = format!("/api/v10/guilds/{GUILD_ID}/scheduled-events");

    let refused = private_text(&ask(&bot, events(on.clone(), ATTENDEE)).await);
    let lacking = private_text(&ask(&bot, events(on.clone(), ORGANISER)).await);
    let stored_then: Option<bool> = sqlx::query_scalar("SELECT events FROM guild_settings")
        .fetch_optional(&bot.db.pool)
        .await
        .expect("read");
    bot.standin.guilds().grant_bot(MANAGE_EVENTS);
    let saved = private_text(&ask(&bot, events(on, ORGANISER)).await);
    let created = bot
        .standin
        .wait_for("the Loft talk's event", |r| r.is("POST", &path))
        .await;
    scheduler
        .wait_for("the event recorded", |counts| counts.sent >= 1)
        .await;
    let status = private_text(&ask(&bot, overview()).await);
    bot.standin.guilds().grant_bot(0);
    let warned = private_text(&ask(&bot, overview()).await);
    bot.standin.guilds().grant_bot(MANAGE_EVENTS);
    let off = private_text(&ask(&bot, events(vec![text("enabled", "off")], ORGANISER)).await);
    let cancelled = bot
        .standin
        .wait_for("the event cancelled", |r| {
            r.method == "PATCH" && r.path.starts_with(&path) && r.body["status"] == 4
        })
        .await;
    scheduler.stop().await;

    assert_eq!(
        refused,
        "Only this server's organisers (Manage Server, or the organiser role) can use `/setup events`."
    );
    assert_eq!(
        lacking,
        "I need the Manage Events permission in this server to keep its events. Give it to me \
         (Server Settings → Roles), then try again."
    );
    assert_ne!(stored_then, Some(true), "nothing turned on while refused");
    assert_eq!(saved, "Saved.\n**Discord Events**: off → on for rooms Loft");
    assert_eq!(created.body["name"], "Flask for Fun and Profit");
    assert_eq!(created.body["entity_metadata"]["location"], "Loft");
    assert!(
        created.body["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("With Armin Ronacher")),
        "{}",
        created.body
    );
    assert!(
        status.contains("**Discord Events:** on, 1 event scheduled or under way"),
        "{status}"
    );
    assert!(
        warned.contains("confbot lacks the Manage Events permission"),
        "{warned}"
    );
    assert_eq!(off, "Saved.\n**Discord Events**: on for rooms Loft → off");
    let id = created_id(&bot);
    assert!(cancelled.path.ends_with(&id.to_string()));
    assert_eq!(bot.standin.guilds().events().live(GUILD_ID).len(), 0);
}

fn created_id(bot: &Bot) -> u64 {
    bot.standin.guilds().events().of(GUILD_ID)[0].0.id
}
