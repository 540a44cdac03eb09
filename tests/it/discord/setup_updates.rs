//! `/setup updates` through the stand-in: organisers choose the channel where each schedule
//! change is posted for everyone, the scheduler (planner and delivery, as `confbot run`
//! runs them beside the gateway) posts the next import's changes there, and leaving the
//! channel out stops it.

use std::time::Duration;

use confbot::store::subscriptions::{self, SubscriptionRef};
use serde_json::json;

use super::payloads;
use super::setup::{sub, ATTENDEE, ORGANISER};
use super::subscriptions::{ask, assert_every_message_pings_nobody, conference_id, private_text};
use super::{import_ics, live_schedule, Bot, ORCHESTRATOR};
use crate::reminders::Scheduler;
use confbot::domain::model::TalkId;
use confbot::jobs::Clock;

const WAIT: Duration = Duration::from_secs(20);

/// `/setup updates`, with `channel` or without, sent by an organiser unless `who` says.
fn updates(
    channel: Option<u64>,
    who: super::setup::As,
) -> impl FnOnce(u64, &str) -> serde_json::Value {
    let options = channel
        .map(|c| vec![payloads::option("channel", 7, json!(c.to_string()))])
        .unwrap_or_default();
    sub("setup", "updates", options, who)
}

/// How many schedule update posts the outbox holds.
async fn update_rows(bot: &Bot) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = 'schedule_update'")
        .fetch_one(&bot.db.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn setup_updates_posts_the_next_schedule_change_in_the_chosen_channel_until_turned_off() {
    let bot = Bot::start().await;
    let (muted, good) = (811, 18_000_000_000_000_000_812);
    let guilds_side = bot.standin.guilds();
    guilds_side.add_text(&[good]);
    guilds_side.add_muted(muted);
    // A subscriber of the talk that moves: their change notice comes from the same planning
    // transaction as the update, so it tells when the import was planned.
    let conference = conference_id(&bot).await;
    let (flask,): (i64,) = sqlx::query_as(
        "SELECT id FROM talks WHERE conference_id = $1 AND title = 'Flask for Fun and Profit'",
    )
    .bind(conference)
    .fetch_one(&bot.db.pool)
    .await
    .expect("talk");
    subscriptions::subscribe(
        &bot.db.pool,
        conference,
        None,
        4242,
        SubscriptionRef::Talk(TalkId(flask)),
    )
    .await
    .expect("subscribe");

    let scheduler = Scheduler::start(&bot.db.url, &bot.standin, Clock::wall(), "w1", |_| {}).await;

    let refused = private_text(&ask(&bot, updates(Some(good), ATTENDEE)).await);
    let muted_refused = private_text(&ask(&bot, updates(Some(muted), ORGANISER)).await);
    let saved = private_text(&ask(&bot, updates(Some(good), ORGANISER)).await);
    let schedule = live_schedule(bot.now, ORCHESTRATOR);
    let moved = schedule.replace("LOCATION:Loft\r\n", "LOCATION:Hall\r\n");
    assert_ne!(moved, schedule);
    import_ics(&bot.db, &moved).await;
    let created = bot.standin.messages().wait_for_created(2, WAIT).await;

    assert_eq!(
        refused,
        "Only this server's organisers (Manage Server, or the organiser role) can use `/setup updates`."
    );
    assert_eq!(
        muted_refused,
        format!("I can't use <#{muted}>: I don't have the Send Messages permission there. Give it to me, then try again.")
    );
    assert_eq!(
        saved,
        format!("Saved.\n**Schedule updates channel**: none → <#{good}>")
    );
    let in_channel: Vec<&str> = created
        .iter()
        .filter(|p| p.channel == good)
        .map(|p| p.content.as_str())
        .collect();
    assert_eq!(in_channel.len(), 1, "{created:?}");
    assert!(
        in_channel[0]
            .starts_with("📅 **Schedule update**\nMoved: **Flask for Fun and Profit** now <t:"),
        "{in_channel:?}"
    );
    assert!(in_channel[0].ends_with(" in Loft)"), "{in_channel:?}");
    assert!(created.iter().any(|p| p.dm_user == Some(4242)));

    // Off: the next change reaches the subscriber only.
    let off = private_text(&ask(&bot, updates(None, ORGANISER)).await);
    assert_eq!(
        off,
        format!("Saved.\n**Schedule updates channel**: <#{good}> → none")
    );
    import_ics(&bot.db, &schedule).await;
    let created = bot.standin.messages().wait_for_created(3, WAIT).await;
    assert_eq!(
        created.iter().filter(|p| p.dm_user == Some(4242)).count(),
        2
    );
    assert_eq!(created.iter().filter(|p| p.channel == good).count(), 1);
    assert_eq!(
        update_rows(&bot).await,
        1,
        "nothing queued for the second import"
    );
    assert_every_message_pings_nobody(&bot);
    scheduler.stop().await;
}
