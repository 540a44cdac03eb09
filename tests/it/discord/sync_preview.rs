//! `/sync` of a source that would cancel most of the programme (another conference's file at
//! the URL): refused with the numbers and previewed privately with Apply / Keep; nothing
//! changes until an organiser applies it, and Apply applies exactly the previewed source.

use serde_json::{json, Value};

use super::announcements::{buttons, click};
use super::payloads::GUILD_ID;
use super::subscriptions::{ask, private_text};
use super::sync::{follow_source, organiser, schedule_server, LOG_CHANNEL, MANAGE_GUILD};
use super::{data, is_ephemeral, Bot, ALLOW_PRIVATE_ADDRESSES, ORCHESTRATOR};

const OTHER: &str = include_str!("../../fixtures/real-world/miniconf-pretalx.ics");

/// Each stored talk's title and status, sorted.
async fn programme(bot: &Bot) -> Vec<(String, String)> {
    sqlx::query_as("SELECT title, status FROM talks ORDER BY title, status")
        .fetch_all(&bot.db.pool)
        .await
        .expect("talks")
}

/// The content of an edit or update (asserting it removes the buttons).
fn final_text(body: &Value) -> String {
    assert_eq!(
        body["components"],
        json!([]),
        "the buttons are gone: {body}"
    );
    body["content"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_mass_change_from_sync_is_previewed_and_only_the_previewed_source_is_applied_by_an_organiser(
) {
    let bot = Bot::start_with_title(ORCHESTRATOR, &[ALLOW_PRIVATE_ADDRESSES]).await;
    bot.standin.guilds().add_text(&[LOG_CHANNEL]);
    let (served, url) = schedule_server(OTHER).await;
    follow_source(&bot, &url).await;
    let before = programme(&bot).await;
    let scheduled = before.len();

    // /sync: refused, with the numbers and the two buttons.
    let preview = ask(&bot, organiser("sync", None)).await;
    let text = private_text(&preview);
    assert!(
        text.contains(&format!("would cancel {scheduled} of {scheduled} talks")),
        "{text}"
    );
    let ids = buttons(&preview);
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(
        ids[0].starts_with("sync-apply:") && ids[0].len() == 75,
        "{ids:?}"
    );
    assert_eq!(ids[1], "sync-keep");
    let log = bot
        .standin
        .wait_for("the refusal in the organiser log", |r| {
            r.path
                .ends_with(&format!("/channels/{LOG_CHANNEL}/messages"))
        })
        .await;
    let log = log.body["content"].as_str().unwrap_or_default();
    assert!(
        log.contains("was refused") && log.contains("review it and apply it with `/sync`"),
        "{log}"
    );
    assert_eq!(
        programme(&bot).await,
        before,
        "nothing applied by the refusal"
    );

    // Keep: the preview becomes "nothing was changed", without buttons.
    let kept = ask(&bot, click(GUILD_ID, MANAGE_GUILD, &ids[1])).await;
    assert_eq!(
        kept.body["type"], 7,
        "an update of the preview: {}",
        kept.body
    );
    assert!(final_text(data(&kept)).contains("Nothing was changed"));

    // Apply by someone who is not an organiser: refused, nothing applied.
    let stranger = ask(&bot, click(GUILD_ID, 0, &ids[0])).await;
    assert!(
        final_text(data(&stranger)).contains("organiser"),
        "{}",
        stranger.body
    );
    assert_eq!(programme(&bot).await, before);

    // The source changes after the preview: Apply refuses to apply what was not shown.
    served.lock().unwrap().body = OTHER.replace("Main Hall", "Main Hall 2");
    let (id, token) = bot.next_interaction();
    bot.standin
        .send_interaction(click(GUILD_ID, MANAGE_GUILD, &ids[0])(id, &token))
        .await;
    let acknowledged = bot.callback(&token).await;
    assert_eq!(
        acknowledged.body["type"], 6,
        "a deferred update: {}",
        acknowledged.body
    );
    let outdated = final_text(&bot.edit(&token).await.body);
    assert!(
        outdated.starts_with("Not applied:") && outdated.contains("changed since it was previewed"),
        "{outdated}"
    );
    assert_eq!(programme(&bot).await, before);

    // A new preview of what the source serves now, applied.
    let preview = ask(&bot, organiser("sync", None)).await;
    let apply = buttons(&preview)
        .into_iter()
        .next()
        .expect("an Apply button");
    assert_ne!(apply, ids[0], "a different source, a different button");
    let (id, token) = bot.next_interaction();
    bot.standin
        .send_interaction(click(GUILD_ID, MANAGE_GUILD, &apply)(id, &token))
        .await;
    let applied = final_text(&bot.edit(&token).await.body);
    assert!(
        applied.starts_with(&format!("Applied: {scheduled} cancelled, 3 added.")),
        "{applied}"
    );
    let after = programme(&bot).await;
    assert_eq!(
        after.iter().filter(|(_, s)| s == "cancelled").count(),
        scheduled,
        "{after:?}"
    );
    assert!(
        after.contains(&("Opening the Miniconf".to_owned(), "confirmed".to_owned())),
        "{after:?}"
    );
    let audited: Value = sqlx::query_scalar(
        "SELECT after FROM audit_log WHERE action = 'sync' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&bot.db.pool)
    .await
    .expect("the apply is audited");
    assert_eq!(
        audited["applied_mass_change"].as_str(),
        apply.strip_prefix("sync-apply:"),
        "{audited}"
    );
    assert!(is_ephemeral(data(&preview)));
}
