//! The JSON Discord sends, trimmed to what serenity 0.12.5 requires (see NOTES.md): gateway
//! READY, INTERACTION_CREATE payloads, and the message objects REST calls return.

use serde_json::{json, Value};

/// The application (bot) id the stand-in announces in READY.
pub const APP_ID: u64 = 4_000_000_000_000_001;
/// The guild the stand-in's bot is in.
pub const GUILD_ID: u64 = 4_000_000_000_000_002;
/// The channel interactions come from.
pub const CHANNEL_ID: u64 = 4_000_000_000_000_003;
/// The attendee who uses the commands.
pub const USER_ID: u64 = 4_000_000_000_000_004;
/// The bot's own user.
pub const BOT_USER_ID: u64 = 4_000_000_000_000_005;
/// A second guild the bot is in (multi-guild tests).
pub const OTHER_GUILD_ID: u64 = 4_000_000_000_000_006;

pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0", "global_name": name,
           "avatar": null, "bot": bot})
}

/// The READY dispatch: serenity takes the application id from it (command registration
/// needs it).
pub fn ready(session: &str, resume_url: &str) -> Value {
    json!({
        "v": 10,
        "user": user(BOT_USER_ID, "confbot", true),
        "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
        "session_id": session,
        "resume_gateway_url": resume_url,
        "application": {"id": APP_ID.to_string(), "flags": 0},
    })
}

/// The fields every interaction has, for an interaction of `kind` with `data`.
fn interaction(id: u64, token: &str, kind: u8, data: Value) -> Value {
    json!({
        "id": id.to_string(),
        "application_id": APP_ID.to_string(),
        "type": kind,
        "data": data,
        "guild_id": GUILD_ID.to_string(),
        "channel_id": CHANNEL_ID.to_string(),
        "user": user(USER_ID, "attendee", false),
        "token": token,
        "version": 1,
        "app_permissions": "0",
        "locale": "en-GB",
        "guild_locale": "en-GB",
        "entitlements": [],
        "attachment_size_limit": 8_388_608,
    })
}

/// String options as Discord sends them (`type` 3); `focused` marks the one being typed.
fn options(values: &[(&str, &str)], focused: Option<&str>) -> Value {
    values
        .iter()
        .map(|(name, value)| {
            let mut option = json!({"name": name, "type": 3, "value": value});
            if focused == Some(*name) {
                option["focused"] = json!(true);
            }
            option
        })
        .collect()
}

/// An option of any type as Discord sends it: 3 string, 4 integer, 7 channel (its id as a
/// string, with the channel in the interaction's `resolved` block: see [`resolved_channel`]).
pub fn option(name: &str, kind: u8, value: Value) -> Value {
    json!({"name": name, "type": kind, "value": value})
}

/// A slash command invocation with options of any type (see [`option`]).
pub fn slash_with(id: u64, token: &str, command: &str, options: Vec<Value>) -> Value {
    let data = json!({"id": "5000", "name": command, "type": 1, "options": options});
    interaction(id, token, 2, data)
}

/// The interaction as a guild member with these permissions (the bitfield as Discord
/// sends it, a decimal string) sends it: `member` instead of `user`.
pub fn as_member(interaction: Value, permissions: u64) -> Value {
    as_member_of(interaction, GUILD_ID, USER_ID, permissions, &[])
}

/// The interaction as sent by `user` in `guild`, a member with these permissions and roles.
pub fn as_member_of(
    mut interaction: Value,
    guild: u64,
    user_id: u64,
    permissions: u64,
    roles: &[u64],
) -> Value {
    let roles: Vec<String> = roles.iter().map(u64::to_string).collect();
    if let Some(fields) = interaction.as_object_mut() {
        fields.remove("user");
        fields.insert("guild_id".to_owned(), json!(guild.to_string()));
        fields.insert(
            "member".to_owned(),
            json!({
                "user": user(user_id, "attendee", false),
                "roles": roles,
                "joined_at": "2026-01-01T00:00:00.000000+00:00",
                "deaf": false,
                "mute": false,
                "flags": 0,
                "permissions": permissions.to_string(),
            }),
        );
    }
    interaction
}

/// The interaction sent in a direct message: no guild, no member.
pub fn in_dm(mut interaction: Value) -> Value {
    if let Some(fields) = interaction.as_object_mut() {
        fields.remove("guild_id");
        fields.remove("guild_locale");
        fields.remove("member");
        fields.insert("user".to_owned(), user(USER_ID, "attendee", false));
    }
    interaction
}

/// Adds a text channel to the command's `resolved` block, as Discord does for a channel
/// option.
pub fn resolved_channel(mut interaction: Value, channel: u64, name: &str) -> Value {
    interaction["data"]["resolved"]["channels"][channel.to_string()] = json!({
        "id": channel.to_string(),
        "name": name,
        "type": 0,
        "permissions": "0",
    });
    interaction
}

/// A slash command invocation (interaction type 2).
pub fn slash(id: u64, token: &str, command: &str, values: &[(&str, &str)]) -> Value {
    let data = json!({"id": "5000", "name": command, "type": 1, "options": options(values, None)});
    interaction(id, token, 2, data)
}

/// An autocomplete request (interaction type 4) while `focused` is being typed.
pub fn autocomplete(
    id: u64,
    token: &str,
    command: &str,
    values: &[(&str, &str)],
    focused: &str,
) -> Value {
    let data = json!({"id": "5000", "name": command, "type": 1,
                      "options": options(values, Some(focused))});
    interaction(id, token, 4, data)
}

/// A button click (interaction type 3) on a message the bot sent earlier.
pub fn button(id: u64, token: &str, custom_id: &str) -> Value {
    let mut value = interaction(
        id,
        token,
        3,
        json!({"custom_id": custom_id, "component_type": 2}),
    );
    let components = json!([{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Remind me", "custom_id": custom_id}]}]);
    value["message"] = message(9_000, "", &json!([]), &components);
    value
}

/// A submitted modal (interaction type 5): one text input per `(custom_id, value)`, each in
/// its own action row, as Discord sends them (without `style` and `label`).
pub fn modal_submit(id: u64, token: &str, custom_id: &str, inputs: &[(&str, &str)]) -> Value {
    let rows: Vec<Value> = inputs
        .iter()
        .map(|(input, value)| {
            json!({"type": 1, "components": [{"type": 4, "custom_id": input, "value": value}]})
        })
        .collect();
    interaction(
        id,
        token,
        5,
        json!({"custom_id": custom_id, "components": rows}),
    )
}

/// A message object as Discord returns it from message-creating calls.
pub fn message(id: u64, content: &str, embeds: &Value, components: &Value) -> Value {
    json!({
        "id": id.to_string(),
        "channel_id": CHANNEL_ID.to_string(),
        "author": user(BOT_USER_ID, "confbot", true),
        "content": content,
        "timestamp": "2026-04-25T17:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": embeds,
        "components": components,
        "pinned": false,
        "type": 0,
        "flags": 0,
        "application_id": APP_ID.to_string(),
    })
}

#[test]
fn serenity_reads_every_payload_the_stand_in_sends() {
    use serenity::all::{Interaction, Message, Ready};

    let ready: Ready = serde_json::from_value(ready("s", "ws://x")).expect("READY");
    let slash: Interaction =
        serde_json::from_value(slash(1, "t", "next", &[("room", "Barn")])).expect("command");
    let typing: Interaction =
        serde_json::from_value(autocomplete(2, "t", "talk", &[("query", "orch")], "query"))
            .expect("autocomplete");
    let click: Interaction = serde_json::from_value(button(3, "t", "remind:1")).expect("component");
    let submitted: Interaction = serde_json::from_value(as_member(
        modal_submit(7, "t", "announce:1", &[("text", "Doors open")]),
        32,
    ))
    .expect("modal submit");
    let channel = resolved_channel(
        as_member(
            slash_with(5, "t", "channel", vec![option("channel", 7, json!("77"))]),
            32,
        ),
        77,
        "barn-talks",
    );
    let channel: Interaction = serde_json::from_value(channel).expect("member command");
    let dm: Interaction =
        serde_json::from_value(in_dm(self::slash(6, "t", "mytalks", &[]))).expect("DM");
    let _: Message =
        serde_json::from_value(message(4, "hi", &json!([]), &json!([]))).expect("message");

    assert_eq!(ready.application.id.get(), APP_ID);
    assert!(matches!(slash, Interaction::Command(c) if c.data.name == "next"));
    assert!(
        matches!(typing, Interaction::Autocomplete(c) if c.data.autocomplete().map(|o| o.value) == Some("orch"))
    );
    assert!(matches!(click, Interaction::Component(c) if c.data.custom_id == "remind:1"));
    let Interaction::Modal(submitted) = submitted else {
        panic!("a modal submit")
    };
    assert_eq!(submitted.data.custom_id, "announce:1");
    assert!(matches!(
        &submitted.data.components[0].components[0],
        serenity::all::ActionRowComponent::InputText(input) if input.value.as_deref() == Some("Doors open")
    ));
    let Interaction::Command(channel) = channel else {
        panic!("a command")
    };
    assert_eq!(
        channel.user.id.get(),
        USER_ID,
        "the user comes from member.user"
    );
    assert_eq!(
        channel.member.and_then(|m| m.permissions).map(|p| p.bits()),
        Some(32)
    );
    assert_eq!(channel.data.resolved.channels.len(), 1);
    assert!(matches!(dm, Interaction::Command(c) if c.guild_id.is_none()));
}
