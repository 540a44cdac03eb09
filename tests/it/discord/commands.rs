//! Registration, each command, autocomplete, buttons and mentions through the stand-in.

use chrono::TimeDelta;
use serde_json::{json, Value};

use super::payloads::{self, APP_ID, GUILD_ID};
use super::{data, is_ephemeral, Bot, LIGHTNING_TALKS, ORCHESTRATOR};

#[tokio::test]
async fn commands_are_registered_in_the_configured_guild_with_described_options() {
    let bot = Bot::start().await;

    let identify = bot.standin.wait_for_identify().await;
    let path = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
    let registration = bot
        .standin
        .wait_for("guild command registration", |r| r.is("PUT", &path))
        .await;

    assert_eq!(identify["intents"], 1, "GUILDS only, nothing privileged");
    let commands = registration.body.as_array().expect("a list of commands");
    let names: Vec<&str> = commands.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "talk",
            "next",
            "now",
            "schedule",
            "speaker",
            "subscribe",
            "unsubscribe",
            "mytalks",
            "remind",
            "channel",
            "setup",
            "status",
            "sync",
            "announce",
            "announcements",
            "ask",
            "questions",
            "forget",
            "help"
        ]
    );
    assert!(commands
        .iter()
        .all(|c| c["description"].as_str().is_some_and(|d| !d.is_empty())));
    let talk_query = &commands[0]["options"][0];
    assert_eq!(talk_query["name"], "query");
    assert_eq!(talk_query["type"], 3);
    assert_eq!(talk_query["required"], true);
    assert_eq!(talk_query["autocomplete"], true);
    let next_options: Vec<&str> = commands[1]["options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(next_options, ["room", "track"]);
    assert!(
        !bot.standin
            .requests()
            .iter()
            .any(|r| r.path == format!("/api/v10/applications/{APP_ID}/commands")),
        "no global registration when guild ids are configured"
    );
    bot.stop().await.expect("clean stop");
}

#[tokio::test]
async fn talk_autocomplete_suggests_titles_and_talk_answers_with_an_embed_and_a_remind_button() {
    let bot = Bot::start().await;
    let (id, token) = bot.next_interaction();

    bot.standin
        .send_interaction(payloads::autocomplete(
            id,
            &token,
            "talk",
            &[("query", "orchestr")],
            "query",
        ))
        .await;
    let suggestions = bot.callback(&token).await;
    let (talk, _) = bot.slash("talk", &[("query", "glue compute")]).await;
    let answer = bot.callback(&talk).await;

    assert_eq!(suggestions.body["type"], 8);
    let choices = data(&suggestions)["choices"].as_array().expect("choices");
    assert!(choices.len() <= 25);
    assert!(
        choices.iter().any(|c| c["name"]
            .as_str()
            .is_some_and(|n| n.contains("Python as Orchestrator"))),
        "{choices:?}"
    );
    assert_eq!(answer.body["type"], 4);
    let message = data(&answer);
    assert_eq!(message["allowed_mentions"]["parse"], json!([]));
    assert!(!is_ephemeral(message), "/talk can be shared");
    assert_eq!(message["embeds"][0]["title"], ORCHESTRATOR);
    let start = (bot.now - TimeDelta::minutes(10)).timestamp();
    let card = text(message);
    assert!(card.contains(&format!("<t:{start}:F>")), "{card}");
    assert!(card.contains(&format!("<t:{start}:R>")), "{card}");
    assert!(
        card.contains("Freya Bhushan Mehta") && card.contains("Barn"),
        "{card}"
    );
    let button = &message["components"][0]["components"][0];
    assert!(
        button["custom_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("remind:")),
        "{button}"
    );
}

#[tokio::test]
async fn next_and_now_answer_privately_about_the_talks_around_now() {
    let bot = Bot::start().await;

    let (next, _) = bot.slash("next", &[]).await;
    let (now, _) = bot.slash("now", &[("room", "Barn")]).await;
    let next = bot.callback(&next).await;
    let now = bot.callback(&now).await;

    assert_eq!(next.body["type"], 4);
    assert!(is_ephemeral(data(&next)));
    let flask = (bot.now + TimeDelta::minutes(30)).timestamp();
    let next = text(data(&next));
    assert!(next.contains("**Flask for Fun and Profit**"), "{next}");
    assert!(
        next.contains(&format!("starts <t:{flask}:R> in Loft")),
        "{next}"
    );
    assert_eq!(now.body["type"], 4);
    assert!(is_ephemeral(data(&now)));
    let ends = (bot.now + TimeDelta::minutes(20)).timestamp();
    let now = text(data(&now));
    assert!(
        now.contains(ORCHESTRATOR) && now.contains("in Barn now"),
        "{now}"
    );
    assert!(now.contains(&format!("<t:{ends}:R>")), "{now}");
}

#[tokio::test]
async fn a_long_schedule_is_paged_into_follow_ups_within_discord_limits() {
    let bot = Bot::start().await;

    let (token, _) = bot.slash("schedule", &[]).await;
    let first = bot.callback(&token).await;
    let last = format!("Lightning talk {}:", LIGHTNING_TALKS - 1);
    let followups = bot
        .followups_until(&token, |pages| {
            pages.iter().any(|p| text(&p.body).contains(&last))
        })
        .await;

    assert_eq!(first.body["type"], 4);
    assert!(!followups.is_empty(), "paged into follow-ups");
    let pages: Vec<Value> = std::iter::once(data(&first).clone())
        .chain(followups.into_iter().map(|r| r.body))
        .collect();
    for page in &pages {
        assert!(text(page).chars().count() <= 2000, "{page}");
        assert_eq!(page["allowed_mentions"]["parse"], json!([]));
        assert!(is_ephemeral(page));
    }
    let all: String = pages.iter().map(text).collect();
    for i in 0..LIGHTNING_TALKS {
        let line = format!("**Lightning talk {i}: notes from a test suite**");
        assert_eq!(all.matches(&line).count(), 1, "{line} once");
    }
}

#[tokio::test]
async fn a_hostile_title_pings_nobody_in_any_message() {
    let hostile = format!("@everyone <@&1> {ORCHESTRATOR}");
    let bot = Bot::start_with_title(&hostile, &[]).await;

    let (talk, _) = bot.slash("talk", &[("query", "orchestrator")]).await;
    let (now, _) = bot.slash("now", &[]).await;
    let (schedule, _) = bot.slash("schedule", &[]).await;
    for token in [&talk, &now, &schedule] {
        bot.callback(token).await;
    }

    let messages = bot.sent_messages();
    assert!(messages.len() >= 3);
    for message in &messages {
        assert_eq!(message["allowed_mentions"]["parse"], json!([]), "{message}");
        assert_eq!(message["allowed_mentions"]["roles"], json!([]), "{message}");
    }
    let shown: String = messages.iter().map(text).collect();
    assert!(
        !shown.contains("@everyone"),
        "the text itself is defused too: {shown}"
    );
}

#[tokio::test]
async fn an_unknown_command_gets_a_private_explanation() {
    let bot = Bot::start().await;

    let (token, _) = bot.slash("karaoke", &[]).await;
    let answer = bot.callback(&token).await;

    assert_eq!(answer.body["type"], 4);
    assert!(is_ephemeral(data(&answer)));
    assert!(text(data(&answer)).contains("/karaoke"), "{}", answer.body);
    assert!(text(data(&answer)).contains("/help"));
}

/// A message's visible text: content, embed titles, descriptions and fields.
pub fn text(message: &Value) -> String {
    let mut out = message["content"].as_str().unwrap_or_default().to_owned();
    for embed in message["embeds"].as_array().into_iter().flatten() {
        for key in ["title", "description"] {
            out.push('\n');
            out.push_str(embed[key].as_str().unwrap_or_default());
        }
        for field in embed["fields"].as_array().into_iter().flatten() {
            out.push('\n');
            out.push_str(field["name"].as_str().unwrap_or_default());
            out.push('\n');
            out.push_str(field["value"].as_str().unwrap_or_default());
        }
    }
    out
}
