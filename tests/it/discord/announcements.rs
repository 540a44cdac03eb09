//! Organiser announcements through the stand-in: `/announce` answered with the text modal,
//! the modal's submit with a preview, Confirm and Cancel against the store, and refusals
//! that store nothing. `/announcements`, servers kept apart and delivery: see
//! `announcements_manage.rs`.

use chrono::{TimeDelta, Utc};
use confbot::domain::announcements::{AnnouncementId, Ping, MAX_TEXT};
use confbot::store::announcements::{self as store, Status, StoredAnnouncement};
use serde_json::{json, Value};

use super::payloads::{self, GUILD_ID, USER_ID};
use super::standin::Recorded;
use super::subscriptions::{ask, assert_every_message_pings_nobody, private_text};
use super::{data, is_ephemeral, Bot};

pub(super) const MANAGE_GUILD: u64 = 1 << 5;
/// Send Messages: a member, not an organiser.
pub(super) const MEMBER: u64 = 1 << 11;
pub(super) const NEWS: u64 = 4_000_000_000_000_100;
pub(super) const ROLE: u64 = 4_000_000_000_000_200;

/// `/announce` with `options` (name, type, value) from a member of `guild` with
/// `permissions`; a channel option is resolved as Discord does.
fn announce(
    guild: u64,
    permissions: u64,
    options: Vec<(&'static str, u8, Value)>,
) -> impl FnOnce(u64, &str) -> Value {
    move |id, token| {
        let channel = options
            .iter()
            .find(|(name, _, _)| *name == "channel")
            .and_then(|(_, _, value)| value.as_str().map(str::to_owned));
        let options = options
            .into_iter()
            .map(|(name, kind, value)| payloads::option(name, kind, value))
            .collect();
        let mut interaction = payloads::as_member_of(
            payloads::slash_with(id, token, "announce", options),
            guild,
            USER_ID,
            permissions,
            &[],
        );
        if let Some(channel) = channel.and_then(|c| c.parse().ok()) {
            interaction = payloads::resolved_channel(interaction, channel, "news");
        }
        interaction
    }
}

/// `/announcements <subcommand> [id]` from an organiser of `guild`.
pub(super) fn announcements(
    guild: u64,
    subcommand: &'static str,
    id: Option<i64>,
) -> impl FnOnce(u64, &str) -> Value {
    move |interaction_id, token| {
        let options: Vec<Value> = id
            .map(|id| vec![payloads::option("id", 4, json!(id))])
            .unwrap_or_default();
        let command = payloads::slash_with(
            interaction_id,
            token,
            "announcements",
            vec![json!({"name": subcommand, "type": 1, "options": options})],
        );
        payloads::as_member_of(command, guild, USER_ID, MANAGE_GUILD, &[])
    }
}

/// A submitted text modal (interaction type 5) from an organiser of `guild`.
pub(super) fn submit(guild: u64, custom_id: &str, text: &str) -> impl FnOnce(u64, &str) -> Value {
    let custom_id = custom_id.to_owned();
    let text = text.to_owned();
    move |id, token| {
        payloads::as_member_of(
            payloads::modal_submit(id, token, &custom_id, &[("text", &text)]),
            guild,
            USER_ID,
            MANAGE_GUILD,
            &[],
        )
    }
}

/// A click on `custom_id` by an organiser of `guild` (or, with `permissions`, anyone).
pub(super) fn click(
    guild: u64,
    permissions: u64,
    custom_id: &str,
) -> impl FnOnce(u64, &str) -> Value {
    let custom_id = custom_id.to_owned();
    move |id, token| {
        payloads::as_member_of(
            payloads::button(id, token, &custom_id),
            guild,
            USER_ID,
            permissions,
            &[],
        )
    }
}

/// A click on an announcement's Confirm button by a member of `guild` with `permissions`.
pub(super) fn press_confirm(
    guild: u64,
    permissions: u64,
    id: AnnouncementId,
) -> impl FnOnce(u64, &str) -> Value {
    click(guild, permissions, &format!("announce-confirm:{}", id.0))
}

/// The modal a callback opened: its `custom_id` and the pre-filled text.
pub(super) fn opened_modal(callback: &Recorded) -> (String, Option<String>) {
    assert_eq!(callback.body["type"], 9, "a modal: {}", callback.body);
    let modal = data(callback);
    let input = &modal["components"][0]["components"][0];
    assert_eq!(input["custom_id"], "text");
    assert_eq!(input["style"], 2, "a paragraph");
    assert_eq!(input["max_length"], MAX_TEXT);
    (
        modal["custom_id"].as_str().expect("custom_id").to_owned(),
        input["value"].as_str().map(str::to_owned),
    )
}

fn draft_id(custom_id: &str) -> AnnouncementId {
    AnnouncementId(
        custom_id
            .strip_prefix("announce:")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("a draft's modal: {custom_id}")),
    )
}

/// The button custom ids of a message response.
pub(super) fn buttons(callback: &Recorded) -> Vec<String> {
    data(callback)["components"][0]["components"]
        .as_array()
        .map(|row| {
            row.iter()
                .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn count(bot: &Bot) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM announcements")
        .fetch_one(&bot.db.pool)
        .await
        .expect("count")
}

/// The actions of the test guild's ten latest audit entries, newest first.
pub(super) async fn audit_actions(bot: &Bot) -> Vec<String> {
    confbot::store::guilds::recent_audit(&bot.db.pool, GUILD_ID, 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.action)
        .collect()
}

/// The stored announcement `id` of `guild` (which must exist).
pub(super) async fn stored_announcement(
    bot: &Bot,
    guild: u64,
    id: AnnouncementId,
) -> StoredAnnouncement {
    store::get(&bot.db.pool, guild, id)
        .await
        .expect("get")
        .expect("stored")
}

pub(super) async fn status(bot: &Bot, guild: u64, id: AnnouncementId) -> Status {
    stored_announcement(bot, guild, id).await.status
}

/// `/announce` with `options` through to the preview: the draft's id and the preview.
pub(super) async fn draft(
    bot: &Bot,
    options: Vec<(&'static str, u8, Value)>,
    text: &str,
) -> (AnnouncementId, Recorded) {
    let modal = ask(bot, announce(GUILD_ID, MANAGE_GUILD, options)).await;
    let (custom_id, _) = opened_modal(&modal);
    let preview = ask(bot, submit(GUILD_ID, &custom_id, text)).await;
    (draft_id(&custom_id), preview)
}

#[tokio::test]
async fn announce_opens_a_modal_then_previews_and_confirm_schedules_it() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[NEWS, CHANNEL_ID_TEXT]);
    let when = (Utc::now() + TimeDelta::hours(3)).to_rfc3339();
    let options = vec![
        ("channel", 7, json!(NEWS.to_string())),
        ("when", 3, json!(when)),
        ("ping", 3, json!("role")),
        ("role", 8, json!(ROLE.to_string())),
    ];

    let modal = ask(&bot, announce(GUILD_ID, MANAGE_GUILD, options)).await;
    let (custom_id, prefilled) = opened_modal(&modal);
    let id = draft_id(&custom_id);
    let drafted = status(&bot, GUILD_ID, id).await;
    let preview = ask(
        &bot,
        submit(GUILD_ID, &custom_id, "Doors open **now**\nsecond line"),
    )
    .await;
    let confirm = ask(&bot, press_confirm(GUILD_ID, MANAGE_GUILD, id)).await;
    let again = ask(&bot, press_confirm(GUILD_ID, MANAGE_GUILD, id)).await;

    assert_eq!(prefilled, None);
    assert_eq!(drafted, Status::Draft);
    assert_eq!(preview.body["type"], 4);
    assert!(is_ephemeral(data(&preview)));
    assert_eq!(
        data(&preview)["content"],
        format!("<@&{ROLE}> Doors open **now**\nsecond line"),
        "the text exactly as it will be posted"
    );
    let embed = data(&preview)["embeds"][0].to_string();
    let first = chrono::DateTime::parse_from_rfc3339(&when)
        .expect("when")
        .timestamp();
    assert!(
        embed.contains(&format!("<t:{first}:F> (<t:{first}:R>)")),
        "{embed}"
    );
    assert!(embed.contains(&format!("<#{NEWS}>")), "{embed}");
    assert_eq!(
        buttons(&preview),
        [
            format!("announce-confirm:{}", id.0),
            format!("announce-cancel:{}", id.0)
        ]
    );
    assert!(private_text(&confirm).starts_with(&format!(
        "Scheduled: announcement #{} in <#{NEWS}>, first post <t:{first}:R>",
        id.0
    )));
    assert!(
        private_text(&again).contains("already scheduled"),
        "{}",
        again.body
    );
    let stored = stored_announcement(&bot, GUILD_ID, id).await;
    assert_eq!(stored.status, Status::Scheduled);
    assert_eq!(stored.announcement.text, "Doors open **now**\nsecond line");
    assert_eq!(stored.announcement.ping, Ping::Role(ROLE));
    assert_eq!(stored.announcement.channel, NEWS);
    let audit = audit_actions(&bot).await;
    assert_eq!(audit, ["announce confirm", "announce create"]);
    assert_every_message_pings_nobody(&bot);
}

#[tokio::test]
async fn non_organisers_bad_times_repeats_and_channels_are_refused_and_nothing_is_stored() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[NEWS, CHANNEL_ID_TEXT]);
    bot.standin.guilds().add_muted(NEWS);
    let channel = || ("channel", 7, json!(CHANNEL_ID_TEXT.to_string()));
    // `/announce` from an organiser with a text channel and one more option.
    let with_channel = |option| announce(GUILD_ID, MANAGE_GUILD, vec![channel(), option]);

    let member = ask(&bot, announce(GUILD_ID, MEMBER, vec![channel()])).await;
    let garbled = ask(&bot, with_channel(("when", 3, json!("half past nine")))).await;
    let past = ask(&bot, with_channel(("when", 3, json!("2020-01-01 09:00")))).await;
    let cron = ask(&bot, with_channel(("repeat", 3, json!("61 * * * *")))).await;
    let no_role = ask(&bot, with_channel(("ping", 3, json!("role")))).await;
    let muted = ask(
        &bot,
        announce(
            GUILD_ID,
            MANAGE_GUILD,
            vec![("channel", 7, json!(NEWS.to_string()))],
        ),
    )
    .await;
    let no_channel = ask(&bot, announce(GUILD_ID, MANAGE_GUILD, vec![])).await;

    assert!(
        private_text(&member).starts_with("Only this server's organisers"),
        "{}",
        member.body
    );
    assert!(private_text(&garbled).starts_with("`when`: \"half past nine\" is not a time"));
    assert!(
        private_text(&past).contains("is in the past"),
        "{}",
        past.body
    );
    assert!(
        private_text(&cron).contains("is not a valid cron expression"),
        "{}",
        cron.body
    );
    assert!(private_text(&no_role).contains("`ping:role` needs the `role` option"));
    assert!(
        private_text(&muted).starts_with(&format!("I can't use <#{NEWS}>")),
        "{}",
        muted.body
    );
    assert!(
        private_text(&muted).contains("Send Messages"),
        "{}",
        muted.body
    );
    assert!(private_text(&no_channel).contains("/setup channel kind:announcements"));
    assert_eq!(count(&bot).await, 0, "nothing stored");
}

/// A channel of the test guild nobody configured: the bot can post there.
const CHANNEL_ID_TEXT: u64 = 4_000_000_000_000_101;

#[tokio::test]
async fn text_over_the_limit_is_refused_and_cancel_leaves_the_draft_cancelled() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[NEWS, CHANNEL_ID_TEXT]);
    let options = || vec![("channel", 7, json!(NEWS.to_string()))];

    let (long, too_long) = draft(&bot, options(), &"x".repeat(MAX_TEXT + 1)).await;
    let (id, _) = draft(&bot, options(), "Lunch is served").await;
    let cancel = ask(
        &bot,
        click(GUILD_ID, MANAGE_GUILD, &format!("announce-cancel:{}", id.0)),
    )
    .await;
    let confirm_after = ask(&bot, press_confirm(GUILD_ID, MANAGE_GUILD, id)).await;

    assert!(private_text(&too_long).contains(&format!("{} characters long", MAX_TEXT + 1)));
    let untouched = store::get(&bot.db.pool, GUILD_ID, long)
        .await
        .expect("get")
        .expect("draft");
    assert_eq!(
        (untouched.status, untouched.announcement.text.as_str()),
        (Status::Draft, "")
    );
    assert_eq!(
        private_text(&cancel),
        format!("Cancelled announcement #{}, nothing will be posted.", id.0)
    );
    assert!(private_text(&confirm_after).contains("was cancelled"));
    assert_eq!(status(&bot, GUILD_ID, id).await, Status::Cancelled);
}
