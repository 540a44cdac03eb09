//! `/setup board` and `/setup threads` through the stand-in: organisers choose the board's
//! channel and layout, the scheduler keeps one message for every room there, and leaving
//! the channel out removes the board; threads are turned on for some rooms and off again,
//! organisers only.

use std::time::Duration;

use serde_json::json;

use super::payloads;
use super::setup::{sub, ATTENDEE, ORGANISER};
use super::subscriptions::{ask, private_text};
use super::{Bot, ORCHESTRATOR};
use crate::reminders::Scheduler;
use confbot::jobs::Clock;

const WAIT: Duration = Duration::from_secs(20);

fn board(
    options: Vec<serde_json::Value>,
    who: super::setup::As,
) -> impl FnOnce(u64, &str) -> serde_json::Value {
    sub("setup", "board", options, who)
}

async fn panels(bot: &Bot) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM board_panels")
        .fetch_one(&bot.db.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn setup_board_keeps_one_message_for_every_room_until_it_is_removed() {
    let bot = Bot::start().await;
    let channel: u64 = 18_000_000_000_000_000_901;
    bot.standin.guilds().add_text(&[channel]);
    let scheduler = Scheduler::start(&bot.db.url, &bot.standin, Clock::wall(), "w1", |_| {}).await;
    let options = vec![
        payloads::option("channel", 7, json!(channel.to_string())),
        payloads::option("layout", 3, json!("single")),
    ];

    let refused = private_text(&ask(&bot, board(options.clone(), ATTENDEE)).await);
    let saved = private_text(&ask(&bot, board(options, ORGANISER)).await);
    let posted = bot.standin.messages().wait_for_created(1, WAIT).await;

    assert_eq!(
        refused,
        "Only this server's organisers (Manage Server, or the organiser role) can use `/setup board`."
    );
    assert_eq!(
        saved,
        format!("Saved.\n**Now / next board**: none → <#{channel}>, one message")
    );
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].channel, channel);
    let text = &posted[0].content;
    assert!(text.starts_with("📺 **Now and next**\n"), "{text}");
    assert!(
        text.contains(&format!("**Barn** · Now: **{ORCHESTRATOR}** — ends <t:")),
        "{text}"
    );
    assert!(
        text.contains("**Loft** · Now: nothing on · Next: **Flask for Fun and Profit** <t:"),
        "{text}"
    );
    assert_eq!(panels(&bot).await, 1);

    let removed = private_text(&ask(&bot, board(vec![], ORGANISER)).await);
    assert_eq!(
        removed,
        format!("Saved.\n**Now / next board**: <#{channel}>, one message → none")
    );
    // The change notifies the planner, which removes the panel.
    let gone = tokio::time::timeout(WAIT, async {
        while panels(&bot).await > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    scheduler.stop().await;
    assert!(gone.is_ok(), "the board's panel is still there");
    assert_eq!(bot.standin.messages().counts().created, 1);
}

#[tokio::test]
async fn setup_threads_is_for_organisers_and_is_echoed_on_and_off() {
    let bot = Bot::start().await;
    let threads = |options: Vec<serde_json::Value>, who| sub("setup", "threads", options, who);
    let text = |name: &str, value: &str| payloads::option(name, 3, json!(value));
    let on = vec![
        text("enabled", "on"),
        text("rooms", " Barn,  Loft ,"),
        payloads::option("grace", 4, json!(30)),
        text("after", "archive-and-lock"),
    ];

    let refused = private_text(&ask(&bot, threads(on.clone(), ATTENDEE)).await);
    let saved = private_text(&ask(&bot, threads(on, ORGANISER)).await);
    let stored: (bool, Vec<String>, i32, bool) = sqlx::query_as(
        "SELECT threads, thread_rooms, thread_grace_minutes, thread_lock FROM guild_settings",
    )
    .fetch_one(&bot.db.pool)
    .await
    .expect("stored");
    let off = private_text(&ask(&bot, threads(vec![text("enabled", "off")], ORGANISER)).await);

    assert_eq!(
        refused,
        "Only this server's organisers (Manage Server, or the organiser role) can use `/setup threads`."
    );
    assert_eq!(
        saved,
        "Saved.\n**Talk threads**: off → on in Barn, Loft; archived and locked 30 minutes after each talk"
    );
    assert_eq!(
        stored,
        (true, vec!["Barn".to_owned(), "Loft".to_owned()], 30, true)
    );
    assert_eq!(
        off,
        "Saved.\n**Talk threads**: on in Barn, Loft; archived and locked 30 minutes after each talk → off"
    );
}
