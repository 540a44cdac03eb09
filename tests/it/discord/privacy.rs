//! `/forget` through the stand-in: a private preview with Forget me / Keep my data, and the
//! store afterwards (in a server: that server's data; in a DM: everything).

use serde_json::Value;

use super::payloads;
use super::subscriptions::{ask, conference_id, plan_changed, private_text};
use super::Bot;

/// In a direct message: the same interaction without a server.
fn in_dm(mut interaction: Value) -> Value {
    if let Some(fields) = interaction.as_object_mut() {
        fields.remove("guild_id");
    }
    interaction
}

async fn subscriptions_of_user(bot: &Bot) -> Vec<Option<i64>> {
    let conference = conference_id(bot).await;
    sqlx::query_scalar(
        "SELECT guild_id FROM subscriptions WHERE conference_id = $1 AND user_id = $2
         ORDER BY guild_id NULLS LAST",
    )
    .bind(conference)
    .bind(payloads::USER_ID as i64)
    .fetch_all(&bot.db.pool)
    .await
    .expect("subscriptions")
}

fn button_ids(callback: &super::standin::Recorded) -> Vec<String> {
    super::data(callback)["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|button| button["custom_id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn forget_in_a_server_asks_first_and_then_deletes_only_what_was_done_there() {
    let bot = Bot::start().await;
    let subscribe = |room: &'static str, dm: bool| {
        move |id: u64, token: &str| {
            let slash = payloads::slash(id, token, "subscribe", &[("room", room)]);
            if dm {
                in_dm(slash)
            } else {
                slash
            }
        }
    };
    ask(&bot, subscribe("Loft", false)).await;
    plan_changed(&bot).await;
    ask(&bot, subscribe("Barn", true)).await;
    plan_changed(&bot).await;
    assert_eq!(subscriptions_of_user(&bot).await.len(), 2);

    let preview = ask(&bot, |id, token| payloads::slash(id, token, "forget", &[])).await;
    let kept = ask(&bot, |id, token| payloads::button(id, token, "forget-keep")).await;
    let after_keep = subscriptions_of_user(&bot).await;
    let forgotten = ask(&bot, |id, token| payloads::button(id, token, "forget-me")).await;
    plan_changed(&bot).await;
    let after_forget = subscriptions_of_user(&bot).await;

    let preview_text = private_text(&preview);
    assert!(preview_text.contains("in this server"), "{preview_text}");
    assert!(
        preview_text.contains("• 1 subscription\n"),
        "{preview_text}"
    );
    assert_eq!(button_ids(&preview), ["forget-me", "forget-keep"]);
    assert_eq!(private_text(&kept), "Nothing was deleted.");
    assert_eq!(after_keep.len(), 2);
    assert!(
        private_text(&forgotten).starts_with("Done: I deleted everything"),
        "{}",
        private_text(&forgotten)
    );
    // The subscription made in a direct message belongs to no server: it stays.
    assert_eq!(after_forget, [None]);
}

#[tokio::test]
async fn forget_in_a_direct_message_deletes_everything_everywhere() {
    let bot = Bot::start().await;
    ask(&bot, |id, token| {
        payloads::slash(id, token, "subscribe", &[("room", "Loft")])
    })
    .await;
    plan_changed(&bot).await;

    let preview = ask(&bot, |id, token| {
        in_dm(payloads::slash(id, token, "forget", &[]))
    })
    .await;
    let forgotten = ask(&bot, |id, token| {
        in_dm(payloads::button(id, token, "forget-me"))
    })
    .await;
    plan_changed(&bot).await;
    let again = ask(&bot, |id, token| {
        in_dm(payloads::slash(id, token, "forget", &[]))
    })
    .await;

    assert!(
        private_text(&preview).contains("in every server"),
        "{}",
        private_text(&preview)
    );
    assert!(private_text(&forgotten).contains("• 1 subscription"));
    assert!(subscriptions_of_user(&bot).await.is_empty());
    assert!(private_text(&again).starts_with("I hold nothing about you in every server"));
    assert!(button_ids(&again).is_empty());
}
