//! The attendee side of reminders through the stand-in: `/subscribe`, `/unsubscribe`,
//! `/mytalks` (with its `.ics`), `/remind` and the "Remind me" button, each checked against
//! what the store holds afterwards. The organisers' `/channel` is in `channels.rs`.

use chrono::{DateTime, TimeDelta, Utc};
use confbot::domain::import::{self, ImportOptions};
use confbot::domain::model::TalkId;
use confbot::domain::reminders::SubscriptionTarget;
use confbot::store::subscriptions;
use serde_json::{json, Value};

use super::commands::text;
use super::payloads::{self, GUILD_ID, USER_ID};
use super::standin::{Recorded, WAIT};
use super::{data, is_ephemeral, Bot, CONFERENCE, ORCHESTRATOR};

const FLASK: &str = "Flask for Fun and Profit";

/// Sends the interaction `build(id, token)` and returns its first response.
pub(super) async fn ask(bot: &Bot, build: impl FnOnce(u64, &str) -> Value) -> Recorded {
    let (id, token) = bot.next_interaction();
    bot.standin.send_interaction(build(id, &token)).await;
    bot.callback(&token).await
}

/// `/command` with string options, answered.
async fn slash(bot: &Bot, command: &str, options: &[(&str, &str)]) -> Recorded {
    let (token, _) = bot.slash(command, options).await;
    bot.callback(&token).await
}

/// The content of a private message response (asserting it is one).
pub(super) fn private_text(callback: &Recorded) -> String {
    assert_eq!(callback.body["type"], 4, "{}", callback.body);
    assert!(is_ephemeral(data(callback)), "{}", callback.body);
    text(data(callback))
}

pub(super) async fn conference_id(bot: &Bot) -> i64 {
    sqlx::query_scalar("SELECT id FROM conferences WHERE slug = $1")
        .bind(CONFERENCE)
        .fetch_one(&bot.db.pool)
        .await
        .expect("conference stored")
}

async fn talk_id(bot: &Bot, title: &str) -> TalkId {
    let id = sqlx::query_scalar("SELECT id FROM talks WHERE title = $1")
        .bind(title)
        .fetch_one(&bot.db.pool)
        .await
        .expect("talk stored");
    TalkId(id)
}

async fn targets(bot: &Bot) -> Vec<SubscriptionTarget> {
    let conference = conference_id(bot).await;
    subscriptions::of_user(&bot.db.pool, conference, USER_ID)
        .await
        .expect("subscriptions")
        .into_iter()
        .map(|s| s.target)
        .collect()
}

/// Waits for the bot's `plan_changed` (a stored permit counts: `notify_one` before the wait
/// is not lost).
pub(super) async fn plan_changed(bot: &Bot) {
    tokio::time::timeout(WAIT, bot.plan_changed.notified())
        .await
        .expect("plan_changed notified");
}

/// Every message the bot sent (responses, follow-ups, edits) pings nobody.
pub(super) fn assert_every_message_pings_nobody(bot: &Bot) {
    let messages = bot.sent_messages();
    assert!(!messages.is_empty());
    for message in &messages {
        assert_eq!(
            message["allowed_mentions"],
            json!({"parse": [], "users": [], "roles": []}),
            "{message}"
        );
    }
}

#[tokio::test]
async fn subscribing_to_a_talk_stores_it_and_mytalks_lists_it_with_a_calendar_that_imports_back() {
    let bot = Bot::start().await;
    let start = bot.now - TimeDelta::minutes(10);

    let first = slash(&bot, "subscribe", &[("talk", "glue compute")]).await;
    plan_changed(&bot).await;
    let stored = targets(&bot).await;
    let again = slash(&bot, "subscribe", &[("talk", "glue compute")]).await;
    slash(&bot, "subscribe", &[("talk", "flask")]).await;
    let overlapping = slash(&bot, "subscribe", &[("talk", "data is large")]).await;
    let mine = slash(&bot, "mytalks", &[]).await;

    // It started ten minutes ago: in /mytalks, but honestly without a reminder.
    assert!(
        private_text(&first).starts_with(&format!(
            "**{ORCHESTRATOR}** started <t:{}:R>, so no reminder will come;",
            start.timestamp()
        )),
        "{}",
        first.body
    );
    assert_eq!(
        stored,
        [SubscriptionTarget::Talk(talk_id(&bot, ORCHESTRATOR).await)]
    );
    assert!(private_text(&again).starts_with("You are already subscribed."));
    assert!(
        private_text(&overlapping).contains(&format!("It overlaps with **{FLASK}** in Loft.")),
        "{}",
        overlapping.body
    );
    assert_eq!(
        targets(&bot).await.len(),
        3,
        "subscribing twice made one row"
    );
    let list = private_text(&mine);
    for title in [
        ORCHESTRATOR,
        FLASK,
        "What to do when your data is large, but not big",
    ] {
        assert!(list.contains(&format!("**{title}**")), "{title} in {list}");
    }
    assert!(list.contains("overlaps with"), "{list}");
    assert_eq!(mine.attachments.len(), 1, "the .ics is attached");
    assert_eq!(mine.attachments[0].filename, "mytalks.ics");
    assert_eq!(data(&mine)["attachments"][0]["filename"], "mytalks.ics");
    let calendar = import::parse(&mine.attachments[0].bytes, None, &ImportOptions::default())
        .expect("the .ics imports back");
    let starts: Vec<(String, Option<DateTime<Utc>>)> = calendar
        .talks
        .iter()
        .map(|t| (t.title.clone(), t.slot.map(|s| s.start)))
        .collect();
    assert_eq!(calendar.talks.len(), 3);
    assert!(
        starts.contains(&(ORCHESTRATOR.to_owned(), Some(start))),
        "{starts:?}"
    );
    assert_every_message_pings_nobody(&bot);
}

#[tokio::test]
async fn a_slow_mytalks_is_deferred_privately_and_its_edit_still_carries_the_calendar() {
    let bot = Bot::start().await;
    slash(&bot, "subscribe", &[("talk", "glue compute")]).await;
    // Another transaction holds the subscriptions table: reading them waits until released.
    let mut blocker = bot.db.pool.begin().await.expect("transaction");
    sqlx::query("LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .expect("lock");

    let (token, _) = bot.slash("mytalks", &[]).await;
    let deferred = bot.callback(&token).await;
    blocker.rollback().await.expect("release the lock");
    let edit = bot.edit(&token).await;

    assert_eq!(deferred.body["type"], 5, "deferred");
    assert!(is_ephemeral(data(&deferred)), "privately");
    assert!(text(&edit.body).contains(&format!("**{ORCHESTRATOR}**")));
    assert_eq!(edit.attachments.len(), 1, "{:?}", edit.body);
    assert_eq!(edit.attachments[0].filename, "mytalks.ics");
    assert_eq!(edit.body["allowed_mentions"]["parse"], json!([]));
}

#[tokio::test]
async fn an_unknown_talk_or_two_targets_at_once_are_refused_and_nothing_is_stored() {
    let bot = Bot::start().await;

    let unknown = slash(&bot, "subscribe", &[("talk", "xylophone quartz")]).await;
    let two = slash(&bot, "subscribe", &[("talk", "flask"), ("room", "Barn")]).await;
    let none = slash(&bot, "unsubscribe", &[]).await;

    assert!(
        private_text(&unknown).starts_with("No talk matches “xylophone quartz”"),
        "{}",
        unknown.body
    );
    for refused in [&two, &none] {
        assert_eq!(
            private_text(refused),
            "Please give exactly one of `talk`, `room` or `track`."
        );
    }
    assert!(targets(&bot).await.is_empty());
    assert_every_message_pings_nobody(&bot);
}

#[tokio::test]
async fn remind_stores_a_lead_in_range_refuses_others_and_shows_the_current_one() {
    let bot = Bot::start().await;
    let conference = conference_id(&bot).await;
    let lead = |minutes: i64| {
        move |id: u64, token: &str| {
            payloads::slash_with(
                id,
                token,
                "remind",
                vec![payloads::option("lead", 4, json!(minutes))],
            )
        }
    };

    let before = slash(&bot, "remind", &[]).await;
    let set = ask(&bot, lead(5)).await;
    plan_changed(&bot).await;
    let refused = ask(&bot, lead(500)).await;
    let shown = slash(&bot, "remind", &[]).await;
    let subscribed = slash(&bot, "subscribe", &[("room", "loft")]).await;

    assert!(private_text(&before).contains("10 minutes before each talk"));
    assert!(private_text(&before).contains("(the default)"));
    assert_eq!(
        private_text(&set),
        "Done: from now on you are reminded 5 minutes before each talk you subscribed to."
    );
    assert_eq!(
        private_text(&refused),
        "`lead` is a whole number from 0 to 120."
    );
    let stored = subscriptions::lead(&bot.db.pool, conference, USER_ID)
        .await
        .expect("lead");
    assert_eq!(stored.map(|l| l.minutes()), Some(5), "500 was not stored");
    assert!(private_text(&shown).contains("5 minutes before each talk"));
    assert!(private_text(&shown).contains("(your choice)"));
    assert!(private_text(&subscribed)
        .starts_with("You will be reminded 5 minutes before every talk in **Loft**."));
    assert_every_message_pings_nobody(&bot);
}

#[tokio::test]
async fn the_remind_me_button_subscribes_the_member_who_clicked() {
    let bot = Bot::start().await;
    let talk = talk_id(&bot, FLASK).await;
    let flask = (bot.now + TimeDelta::minutes(30)).timestamp();

    let clicked = ask(&bot, |id, token| {
        payloads::as_member(
            payloads::button(id, token, &format!("remind:{}", talk.0)),
            0,
        )
    })
    .await;
    plan_changed(&bot).await;
    let stale = ask(&bot, |id, token| {
        payloads::button(id, token, "remind:999999")
    })
    .await;

    assert_eq!(
        private_text(&clicked).lines().next(),
        Some(
            format!("You will be reminded 10 minutes before **{FLASK}** (<t:{flask}:F>, Loft).")
                .as_str()
        )
    );
    assert_eq!(targets(&bot).await, [SubscriptionTarget::Talk(talk)]);
    let conference = conference_id(&bot).await;
    let rows = subscriptions::of_user(&bot.db.pool, conference, USER_ID)
        .await
        .expect("subscriptions");
    assert_eq!(rows[0].guild_id, Some(GUILD_ID));
    assert_eq!(
        private_text(&stale),
        "That talk is no longer in the programme."
    );
    assert_every_message_pings_nobody(&bot);
}

#[tokio::test]
async fn unsubscribe_says_whether_there_was_a_subscription() {
    let bot = Bot::start().await;

    slash(&bot, "subscribe", &[("room", "Barn")]).await;
    let removed = slash(&bot, "unsubscribe", &[("room", "barn")]).await;
    plan_changed(&bot).await;
    let again = slash(&bot, "unsubscribe", &[("room", "Barn")]).await;

    assert_eq!(
        private_text(&removed),
        "You will no longer be reminded about the talks in **Barn**."
    );
    assert_eq!(
        private_text(&again),
        "You were not subscribed to the talks in **Barn**: nothing changed."
    );
    assert!(targets(&bot).await.is_empty());
    assert_every_message_pings_nobody(&bot);
}

#[tokio::test]
async fn the_target_options_autocomplete_like_the_lookup_commands() {
    let bot = Bot::start().await;
    let typing = |command: &'static str, option: &'static str, typed: &'static str| {
        move |id: u64, token: &str| {
            payloads::autocomplete(id, token, command, &[(option, typed)], option)
        }
    };

    let talks = ask(&bot, typing("subscribe", "talk", "orchestr")).await;
    let rooms = ask(&bot, typing("unsubscribe", "room", "ba")).await;
    let channel_rooms = ask(&bot, typing("channel", "room", "lo")).await;

    let names = |callback: &Recorded| -> Vec<String> {
        assert_eq!(callback.body["type"], 8);
        data(callback)["choices"]
            .as_array()
            .expect("choices")
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(
        names(&talks).iter().any(|n| n.starts_with(ORCHESTRATOR)),
        "{:?}",
        names(&talks)
    );
    assert_eq!(names(&rooms), ["Barn"]);
    assert_eq!(names(&channel_rooms), ["Loft"]);
}

#[tokio::test]
async fn a_user_whose_dms_were_refused_is_dmed_again_once_they_use_the_bot() {
    use confbot::store::dm_channels::{self, DmChannel};
    let bot = Bot::start().await;
    let pool = &bot.db.pool;
    let now = Utc::now();
    let other = USER_ID + 1;
    for user in [USER_ID, other] {
        dm_channels::mark_closed(pool, user, Some(user + 10), now)
            .await
            .expect("closed");
    }

    slash(&bot, "subscribe", &[("room", "Barn")]).await;

    let known = dm_channels::of_users(pool, &[USER_ID, other])
        .await
        .expect("read");
    assert_eq!(known[&USER_ID], DmChannel::Open(USER_ID + 10));
    assert_eq!(
        known[&other],
        DmChannel::Closed,
        "only the user who interacted"
    );
}
