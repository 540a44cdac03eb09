//! From [`RawSettings`] to [`Settings`]: every value typed and range-checked, each failure
//! naming its key and the layer (file or variable) that set it.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::TimeDelta;
use figment::Figment;
use reqwest::Url;
use secrecy::ExposeSecret;

use crate::domain::model::ConferenceSlug;
use crate::domain::reminders::{ChannelPlan, LeadTime};
use crate::domain::time::zone_by_name;

use super::raw::{self, RawSettings};
use super::{error, shards, ConfigError, MAX_DEFER_AFTER_MS, MAX_LEAD_MINUTES};
use super::{
    DatabaseSettings, DefaultSettings, DiscordSettings, GuildConference, GuildConferences,
    HttpSettings, ImportSettings, InteractionsSettings, LogSettings, ReminderSettings, Settings,
};

/// Turns the raw values into typed ones; `figment` tells which layer set a failing key.
pub(super) fn validate(raw: RawSettings, figment: &Figment) -> Result<Settings, ConfigError> {
    let invalid = |key: &str, message: String| {
        // figment finds the source of a whole list, not of one item: `guilds[1].x` -> `guilds`.
        let lookup = key.split('[').next().unwrap_or(key);
        let path: Vec<String> = lookup.split('.').map(str::to_owned).collect();
        let origin = error::describe_origin(figment.find_metadata(lookup), &path);
        ConfigError::invalid(key, origin, message)
    };

    // An empty value counts as unset: `DATABASE_URL=` is the usual way to clear it.
    let url = raw
        .database
        .url
        .filter(|url| !url.expose_secret().is_empty());
    if let Some(url) = &url {
        let url = url.expose_secret();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            // The value is not quoted: it may hold a password.
            let message = "expected a postgres:// or postgresql:// URL".to_owned();
            return Err(invalid("database.url", message));
        }
    }
    if raw.database.max_connections == 0 {
        return Err(invalid(
            "database.max_connections",
            "must be at least 1".into(),
        ));
    }

    let proxy_url = match raw.discord.proxy_url.filter(|proxy| !proxy.is_empty()) {
        None => None,
        Some(proxy) => match Url::parse(&proxy) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            // Not quoted either: a proxy URL may carry credentials.
            _ => {
                return Err(invalid(
                    "discord.proxy_url",
                    "expected an http(s) URL".into(),
                ))
            }
        },
    };

    if raw.discord.defer_after_ms > MAX_DEFER_AFTER_MS {
        let message = format!(
            "{} is over the maximum {MAX_DEFER_AFTER_MS}",
            raw.discord.defer_after_ms
        );
        return Err(invalid("discord.defer_after_ms", message));
    }

    let range = raw.discord.shard_range.as_ref().map(|range| match range {
        raw::RawShardRange::Number(shard) => shards::RangeText::Number(*shard),
        raw::RawShardRange::Text(text) => shards::RangeText::Text(text),
    });
    let shards = shards::parse(raw.discord.shards, range).map_err(|error| match error {
        shards::ShardError::Shards(message) => invalid("discord.shards", message),
        shards::ShardError::Range(message) => invalid("discord.shard_range", message),
    })?;

    let Some(time_zone) = zone_by_name(&raw.defaults.time_zone) else {
        let message = format!("unknown time zone {:?}", raw.defaults.time_zone);
        return Err(invalid("defaults.time_zone", message));
    };
    if raw.defaults.lead_minutes > MAX_LEAD_MINUTES {
        let message = format!(
            "{} is over the maximum {MAX_LEAD_MINUTES}",
            raw.defaults.lead_minutes
        );
        return Err(invalid("defaults.lead_minutes", message));
    }
    let default_conference = match raw.defaults.conference.filter(|slug| !slug.is_empty()) {
        None => None,
        Some(slug) => Some(
            ConferenceSlug::parse(&slug)
                .map_err(|error| invalid("defaults.conference", error.to_string()))?,
        ),
    };

    let mut entries: Vec<GuildConference> = Vec::with_capacity(raw.guilds.len());
    for (index, guild) in raw.guilds.into_iter().enumerate() {
        let conference = ConferenceSlug::parse(&guild.conference)
            .map_err(|error| invalid(&format!("guilds[{index}].conference"), error.to_string()))?;
        if entries.iter().any(|entry| entry.guild_id == guild.guild_id) {
            let message = format!("guild {} is listed twice", guild.guild_id);
            return Err(invalid(&format!("guilds[{index}].guild_id"), message));
        }
        if guild.organiser_role == Some(0) {
            let message = "0 is not a role id".to_owned();
            return Err(invalid(&format!("guilds[{index}].organiser_role"), message));
        }
        entries.push(GuildConference {
            guild_id: guild.guild_id,
            conference,
            organiser_role: guild.organiser_role,
        });
    }

    if raw.import.max_bytes == 0 {
        return Err(invalid("import.max_bytes", "must be at least 1".into()));
    }
    if raw.import.fetch_timeout_secs == 0 {
        return Err(invalid(
            "import.fetch_timeout_secs",
            "must be at least 1".into(),
        ));
    }
    if reqwest::header::HeaderValue::from_str(&raw.import.user_agent).is_err() {
        let message = "must be printable ASCII without line breaks".to_owned();
        return Err(invalid("import.user_agent", message));
    }
    let reminders = reminder_settings(raw.reminders, &invalid)?;
    let address = |key: &str, value: Option<String>, example: &str| match value
        .filter(|value| !value.is_empty())
    {
        None => Ok(None),
        Some(value) => value.parse::<SocketAddr>().map(Some).map_err(|_| {
            let message =
                format!("expected an address and port such as \"{example}\", not {value:?}");
            invalid(key, message)
        }),
    };
    let listen = address("http.listen", raw.http.listen, "127.0.0.1:9090")?;
    let interactions_listen = address(
        "interactions.listen",
        raw.interactions.listen,
        "0.0.0.0:8080",
    )?;
    let web = super::web::web_settings(raw.web, &invalid)?;
    let interactions_set = interactions_listen.is_some();
    let interactions_listen = interactions_listen.unwrap_or_else(|| {
        super::DEFAULT_INTERACTIONS_LISTEN
            .parse()
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)))
    });
    let public_key = match raw.discord.public_key.filter(|key| !key.is_empty()) {
        None => None,
        Some(key) => Some(parse_public_key(&key).ok_or_else(|| {
            let message = format!(
                "expected the 64 hex digits of the application's public key, not {} characters",
                key.chars().count()
            );
            invalid("discord.public_key", message)
        })?),
    };
    if let Err(error) = tracing_subscriber::EnvFilter::try_new(&raw.log.level) {
        return Err(invalid("log.level", error.to_string()));
    }

    Ok(Settings {
        database: DatabaseSettings {
            url,
            max_connections: raw.database.max_connections,
        },
        discord: DiscordSettings {
            token: raw
                .discord
                .token
                .filter(|token| !token.expose_secret().is_empty()),
            application_id: raw.discord.application_id,
            guild_ids: raw.discord.guild_ids,
            proxy_url,
            defer_after: Duration::from_millis(raw.discord.defer_after_ms),
            public_key,
            shards,
        },
        defaults: DefaultSettings {
            time_zone,
            lead_time: TimeDelta::minutes(i64::from(raw.defaults.lead_minutes)),
        },
        guilds: GuildConferences {
            entries,
            default_conference,
        },
        http: HttpSettings { listen },
        web,
        interactions: InteractionsSettings {
            listen: interactions_listen,
            set: interactions_set,
        },
        import: ImportSettings {
            max_bytes: raw.import.max_bytes,
            fetch_timeout: Duration::from_secs(raw.import.fetch_timeout_secs),
            user_agent: raw.import.user_agent,
            allow_private_addresses: raw.import.allow_private_addresses,
        },
        log: LogSettings {
            format: raw.log.format,
            level: raw.log.level,
        },
        reminders,
    })
}

/// 64 hex digits as 32 bytes; `None` for anything else.
fn parse_public_key(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim().as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut key = [0_u8; 32];
    for (byte, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(key)
}

/// `[reminders]` typed: lead time in range, a positive rate, each conference's channel plan
/// once with valid slugs and channel ids.
fn reminder_settings(
    raw: raw::RawReminders,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<ReminderSettings, ConfigError> {
    let channel_lead = LeadTime::from_minutes(i64::from(raw.channel_lead_minutes))
        .map_err(|error| invalid("reminders.channel_lead_minutes", error.to_string()))?;
    if raw.rate_per_second == 0 {
        return Err(invalid(
            "reminders.rate_per_second",
            "must be at least 1".into(),
        ));
    }
    // A quarter lease must hold a whole request (its timeout is a fifth of the lease), and a
    // crashed worker's posts wait a lease: more than ten minutes helps nobody.
    if !(1..=600).contains(&raw.lease_seconds) {
        let message = format!("must be 1 to 600 seconds, not {}", raw.lease_seconds);
        return Err(invalid("reminders.lease_seconds", message));
    }
    let max_trust = super::MAX_NONCE_TRUST.as_secs();
    if !(1..=max_trust).contains(&raw.nonce_trust_seconds) {
        let message = format!(
            "must be 1 to {max_trust} seconds (Discord remembers a nonce for a few minutes), not {}",
            raw.nonce_trust_seconds
        );
        return Err(invalid("reminders.nonce_trust_seconds", message));
    }
    let mut channels: Vec<(ConferenceSlug, ChannelPlan)> = Vec::new();
    for (index, entry) in raw.conferences.into_iter().enumerate() {
        let key = |field: &str| format!("reminders.conferences[{index}].{field}");
        let slug = ConferenceSlug::parse(&entry.conference)
            .map_err(|error| invalid(&key("conference"), error.to_string()))?;
        if channels.iter().any(|(known, _)| *known == slug) {
            let message = format!("conference {slug} is listed twice");
            return Err(invalid(&key("conference"), message));
        }
        let mut names = std::collections::BTreeMap::new();
        let mut channel = |raw: raw::RawChannel, field: String| {
            let (id, name) = match raw {
                raw::RawChannel::Id(id) => (id, None),
                raw::RawChannel::Named { id, name } => (id, Some(name)),
            };
            if id == 0 {
                return Err(invalid(&field, "0 is not a channel id".into()));
            }
            if let Some(name) = name.filter(|name| !name.trim().is_empty()) {
                names.insert(id, name);
            }
            Ok(id)
        };
        let default = entry
            .default_channel
            .map(|raw| channel(raw, key("default_channel")))
            .transpose()?;
        let mut by_room = std::collections::BTreeMap::new();
        for (room, raw_channel) in entry.rooms {
            let id = channel(raw_channel, key(&format!("rooms.{room}")))?;
            by_room.insert(room, id);
        }
        let plan = ChannelPlan {
            by_room,
            default,
            lead: channel_lead,
            names,
        };
        channels.push((slug, plan));
    }
    Ok(ReminderSettings {
        channel_lead,
        rate_per_second: raw.rate_per_second,
        lease: std::time::Duration::from_secs(raw.lease_seconds),
        nonce_trust: std::time::Duration::from_secs(raw.nonce_trust_seconds),
        channels,
    })
}
