//! The stand-in's guild side, for the bot's channel checks: `GET /channels/{id}`,
//! `GET /guilds/{id}/roles` and `GET /guilds/{id}/members/{user}`.
//!
//! Every guild has an @everyone role (its id is the guild's) allowing View Channel and Send
//! Messages, and the bot is a member without other roles. As on Discord, a channel exists
//! only once made: [`Guilds::add_text`] makes text channels of [`payloads::GUILD_ID`]
//! without overwrites, where the bot can post; [`Guilds::set`] makes one muted for
//! @everyone, of another guild, a voice channel, hidden from the bot (403), or deleted.
//! Any other id is unknown (404,
//! code 10003), for reads and for messages alike.
//!
//! The bot has no permission beyond @everyone's until a test grants it more
//! ([`Guilds::grant_bot`]: a role of its own); interactions carry its permissions as
//! `app_permissions`, and the guild's scheduled events ([`ScheduledEvents`]) check them.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::payloads::{self, BOT_USER_ID, GUILD_ID};

// A sibling on disk, so the benches that include this file by path find it too.
#[path = "guild_events.rs"]
mod guild_events;
#[allow(unused_imports)] // the benches use the events but not their statuses
pub use guild_events::{Event, ScheduledEvents, ACTIVE, CANCELED, COMPLETED, SCHEDULED};

pub const VIEW_CHANNEL: u64 = 1 << 10;
pub const SEND_MESSAGES: u64 = 1 << 11;
pub const MANAGE_EVENTS: u64 = 1 << 33;
/// The role the bot gets when a test grants it more than @everyone has.
pub const BOT_ROLE: u64 = 4_000_000_000_000_777;

/// What a configured channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A text channel of `guild`; `muted`: @everyone may not send there.
    Text { guild: u64, muted: bool },
    /// A voice channel of the test guild.
    Voice,
    /// Deleted, or never there: 404.
    Missing,
    /// There, but the bot may not view it: 403, code 50001 (Missing Access), as Discord
    /// answers for a channel hidden from the bot.
    Hidden,
}

#[derive(Default)]
pub struct Guilds {
    channels: Mutex<HashMap<u64, Channel>>,
    /// What the bot's own role allows (0: it has none).
    bot_role: Mutex<u64>,
    events: ScheduledEvents,
}

impl Guilds {
    /// Makes `id` this kind of channel.
    pub fn set(&self, id: u64, channel: Channel) {
        self.channels.lock().unwrap().insert(id, channel);
    }

    /// Makes each of `ids` a text channel of the test guild where everybody may post.
    pub fn add_text(&self, ids: &[u64]) {
        let text = Channel::Text {
            guild: GUILD_ID,
            muted: false,
        };
        let mut channels = self.channels.lock().unwrap();
        for id in ids {
            channels.insert(*id, text);
        }
    }

    /// Makes `id` a text channel of the test guild where @everyone may not post (the bot
    /// lacks Send Messages there).
    pub fn add_muted(&self, id: u64) {
        self.set(
            id,
            Channel::Text {
                guild: GUILD_ID,
                muted: true,
            },
        );
    }

    /// Gives the bot a role allowing `permissions` (replacing what it allowed before; 0
    /// takes the role away).
    pub fn grant_bot(&self, permissions: u64) {
        *self.bot_role.lock().unwrap() = permissions;
    }

    /// The bot's permissions in the server: @everyone's and its role's.
    pub fn bot_permissions(&self) -> u64 {
        VIEW_CHANNEL | SEND_MESSAGES | *self.bot_role.lock().unwrap()
    }

    /// The servers' scheduled events.
    pub fn events(&self) -> &ScheduledEvents {
        &self.events
    }

    /// Answers the scheduled-event routes; `None` for any other request.
    pub(super) fn handle_events(
        &self,
        method: &str,
        segments: &[&str],
        body: &Value,
    ) -> Option<Response> {
        let allowed = self.bot_permissions() & MANAGE_EVENTS != 0;
        self.events.handle(method, segments, body, allowed)
    }

    /// Whether messages can be posted to (or read from) guild channel `id`.
    pub(super) fn has_text_channel(&self, id: u64) -> bool {
        matches!(
            self.channels.lock().unwrap().get(&id),
            Some(Channel::Text { .. })
        )
    }

    /// Answers the guild routes; `None` for any other request.
    pub(super) fn handle(&self, method: &str, segments: &[&str]) -> Option<Response> {
        match (method, segments) {
            ("GET", ["channels", id]) => {
                let id: u64 = id.parse().ok()?;
                let channel = self
                    .channels
                    .lock()
                    .unwrap()
                    .get(&id)
                    .copied()
                    .unwrap_or(Channel::Missing);
                Some(channel_json(id, channel))
            }
            ("GET", ["guilds", guild, "roles"]) => {
                let role = *self.bot_role.lock().unwrap();
                Some(Json(roles(guild.parse().ok()?, role)).into_response())
            }
            ("GET", ["guilds", _, "members", user]) if *user == BOT_USER_ID.to_string() => {
                let role = *self.bot_role.lock().unwrap();
                Some(Json(bot_member(role)).into_response())
            }
            _ => None,
        }
    }
}

/// The guild's roles: @everyone, allowed to view and send, and the bot's own role when it
/// allows anything (`bot_role`).
fn roles(guild: u64, bot_role: u64) -> Value {
    let role = |id: u64, name: &str, permissions: u64| {
        json!({"id": id.to_string(), "name": name, "color": 0,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "hoist": false, "managed": false, "mentionable": false, "position": 0,
            "permissions": permissions.to_string(), "icon": null,
            "unicode_emoji": null, "flags": 0})
    };
    let mut roles = vec![role(guild, "@everyone", VIEW_CHANNEL | SEND_MESSAGES)];
    if bot_role != 0 {
        roles.push(role(BOT_ROLE, "confbot", bot_role));
    }
    json!(roles)
}

/// The bot as a member of any guild, with its own role when it has one.
fn bot_member(bot_role: u64) -> Value {
    let roles: Vec<String> = (bot_role != 0)
        .then(|| BOT_ROLE.to_string())
        .into_iter()
        .collect();
    json!({
        "user": payloads::user(BOT_USER_ID, "confbot", true),
        "roles": roles,
        "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "deaf": false, "mute": false, "flags": 0,
    })
}

fn channel_json(id: u64, channel: Channel) -> Response {
    if channel == Channel::Hidden {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"message": "Missing Access", "code": 50001})),
        )
            .into_response();
    }
    match channel_value(id, channel) {
        Some(value) => Json(value).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "Unknown Channel", "code": 10003})),
        )
            .into_response(),
    }
}

/// The channel object Discord returns; `None` for a missing channel.
fn channel_value(id: u64, channel: Channel) -> Option<Value> {
    let (guild, kind, overwrites) = match channel {
        Channel::Missing | Channel::Hidden => return None,
        Channel::Voice => (GUILD_ID, 2, json!([])),
        Channel::Text { guild, muted } => {
            let overwrites = if muted {
                json!([{"id": guild.to_string(), "type": 0, "allow": "0",
                        "deny": SEND_MESSAGES.to_string()}])
            } else {
                json!([])
            };
            (guild, 0, overwrites)
        }
    };
    Some(
        json!({"id": id.to_string(), "type": kind, "guild_id": guild.to_string(),
                "name": format!("channel-{id}"), "position": 0, "nsfw": false,
                "permission_overwrites": overwrites, "parent_id": null, "topic": null,
                "last_message_id": null, "rate_limit_per_user": 0}),
    )
}

#[test]
fn serenity_reads_the_guild_routes_answers() {
    use serenity::all::{Channel as SerenityChannel, Member, Role};

    let muted = Channel::Text {
        guild: GUILD_ID,
        muted: true,
    };
    let channel: SerenityChannel =
        serde_json::from_value(channel_value(5, muted).expect("a channel")).expect("channel");
    let roles: Vec<Role> = serde_json::from_value(roles(GUILD_ID, MANAGE_EVENTS)).expect("roles");
    let member: Member = serde_json::from_value(bot_member(MANAGE_EVENTS)).expect("member");

    let channel = channel.guild().expect("a guild channel");
    assert_eq!(channel.guild_id.get(), GUILD_ID);
    assert_eq!(channel.permission_overwrites.len(), 1);
    assert_eq!(roles[0].permissions.bits(), VIEW_CHANNEL | SEND_MESSAGES);
    assert_eq!(member.user.id.get(), BOT_USER_ID);
    assert_eq!(roles[1].permissions.bits(), MANAGE_EVENTS);
    assert_eq!(member.roles[0].get(), BOT_ROLE);
    assert_eq!(channel_value(6, Channel::Missing), None);
}
