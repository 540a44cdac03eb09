//! One typed [`Settings`], loaded in layers: built-in defaults < TOML file < environment.
//!
//! The file is the explicit `--config PATH` or else `CONFBOT_CONFIG`; without either only
//! defaults and the environment apply. Every key can be set from the environment as
//! `CONFBOT__SECTION__KEY` (e.g. `CONFBOT__DATABASE__MAX_CONNECTIONS=4`). The conventional
//! `DATABASE_URL`, `DISCORD_TOKEN` and `DISCORD_PUBLIC_KEY` are honoured too: both forms override the file, and the
//! `CONFBOT__` form wins over the conventional one because it is the more specific.
//!
//! Unknown keys are errors, values become typed (`Tz`, [`ConferenceSlug`], `Duration`,
//! [`ShardRange`]), and secrets are [`SecretString`]s that no `Debug` output or error message
//! reveals.

mod error;
mod raw;
mod shards;
mod sources;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeDelta;
use chrono_tz::Tz;
use figment::Figment;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::model::ConferenceSlug;
use crate::domain::reminders::{ChannelPlan, LeadTime};
use crate::domain::time::zone_by_name;

pub use error::ConfigError;
use raw::RawSettings;
pub use shards::ShardRange;
use sources::{file_layer, EnvLayer};

/// The variable naming the config file when `--config` is not given.
pub const CONFIG_PATH_VAR: &str = "CONFBOT_CONFIG";
/// The prefix of per-key environment overrides; `__` separates section and key.
pub const ENV_PREFIX: &str = "CONFBOT__";
/// The longest reminder lead time accepted, in minutes.
pub const MAX_LEAD_MINUTES: u32 = 120;
/// How long an interaction's answer may take before it is deferred, by default (ms).
pub const DEFAULT_DEFER_AFTER_MS: u64 = 1500;
/// Discord's global rate limit (requests per second), which reminder delivery paces itself
/// under by default.
pub const DEFAULT_RATE_PER_SECOND: u32 = 50;
/// The longest `discord.defer_after_ms`: the deferral itself must still reach Discord within
/// its 3-second deadline.
pub const MAX_DEFER_AFTER_MS: u64 = 2500;

/// Where `confbot serve-interactions` listens unless `[interactions] listen` says otherwise.
pub const DEFAULT_INTERACTIONS_LISTEN: &str = "127.0.0.1:8080";

/// All settings, validated. `Debug` is safe: secrets print as redacted.
#[derive(Debug)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub discord: DiscordSettings,
    pub defaults: DefaultSettings,
    /// Which conference each Discord guild talks about.
    pub guilds: GuildConferences,
    pub http: HttpSettings,
    pub interactions: InteractionsSettings,
    pub import: ImportSettings,
    pub log: LogSettings,
    pub reminders: ReminderSettings,
}

/// `[database]`.
pub struct DatabaseSettings {
    /// A `postgres://` URL (it may hold a password); `None` starts the embedded private
    /// PostgreSQL.
    pub url: Option<SecretString>,
    /// The connection pool size (at least 1).
    pub max_connections: u32,
}

/// `[discord]`.
pub struct DiscordSettings {
    /// The bot token; optional until the Discord side runs.
    pub token: Option<SecretString>,
    pub application_id: Option<u64>,
    /// Guilds to register slash commands in; empty means global registration.
    pub guild_ids: Vec<u64>,
    /// An http(s) proxy for Discord's REST API (used by tests with a local stand-in).
    pub proxy_url: Option<Url>,
    /// How long an answer may take before the interaction is deferred (Discord wants a first
    /// response within 3 s; a deferred one is completed by editing it).
    pub defer_after: Duration,
    /// The application's Ed25519 public key from the developer portal (32 bytes, given as
    /// 64 hex digits): `confbot serve-interactions` checks every request's signature with it.
    pub public_key: Option<[u8; 32]>,
    /// The gateway shards this process runs, of how many in all (`discord.shards`,
    /// `discord.shard_range`); by default the one shard of an unsharded bot.
    pub shards: ShardRange,
}

/// `[defaults]`: values for conferences and guilds that do not set their own.
#[derive(Debug, Clone)]
pub struct DefaultSettings {
    /// The zone for conferences whose source names none.
    pub time_zone: Tz,
    /// How long before a talk its reminder goes out (0 to [`MAX_LEAD_MINUTES`]).
    pub lead_time: TimeDelta,
}

/// The guild -> conference mapping (`[[guilds]]` and `defaults.conference`).
#[derive(Debug, Clone, Default)]
pub struct GuildConferences {
    /// Explicit entries, each guild at most once.
    pub entries: Vec<GuildConference>,
    /// The conference of guilds without an entry.
    pub default_conference: Option<ConferenceSlug>,
}

/// One `[[guilds]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildConference {
    pub guild_id: u64,
    pub conference: ConferenceSlug,
    /// Members with this role are organisers (besides Manage Server); the first value of
    /// the guild's `/setup role`, which wins once set.
    pub organiser_role: Option<u64>,
}

impl GuildConferences {
    /// The conference a guild's commands refer to: its own entry, else the default.
    pub fn conference_for(&self, guild_id: u64) -> Option<&ConferenceSlug> {
        self.entries
            .iter()
            .find(|entry| entry.guild_id == guild_id)
            .map(|entry| &entry.conference)
            .or(self.default_conference.as_ref())
    }

    /// The configured organiser role of a guild, if its entry names one.
    pub fn organiser_role_for(&self, guild_id: u64) -> Option<u64> {
        self.entries
            .iter()
            .find(|entry| entry.guild_id == guild_id)
            .and_then(|entry| entry.organiser_role)
    }
}

/// `[reminders]`: channel reminders and delivery pacing.
#[derive(Debug, Clone)]
pub struct ReminderSettings {
    /// How long before a talk its channel reminder is posted.
    pub channel_lead: LeadTime,
    /// Requests per second the delivery loop allows itself towards Discord (its global
    /// limit is 50); at least 1.
    pub rate_per_second: u32,
    /// Configured channel plans by conference (`[[reminders.conferences]]`); a plan stored
    /// by an organiser command wins over these.
    pub channels: Vec<(ConferenceSlug, ChannelPlan)>,
}

impl ReminderSettings {
    /// The configured channel plan of a conference, if any.
    pub fn channel_plan(&self, slug: &ConferenceSlug) -> Option<&ChannelPlan> {
        self.channels
            .iter()
            .find(|(conference, _)| conference == slug)
            .map(|(_, plan)| plan)
    }
}

/// `[http]`: the operations endpoint (`/healthz`, `/metrics`) of `confbot run`.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// Where it listens; `None` (the default): no endpoint.
    pub listen: Option<SocketAddr>,
}

/// `[interactions]`: the HTTP interactions endpoint of `confbot serve-interactions`.
#[derive(Debug, Clone)]
pub struct InteractionsSettings {
    /// Where it listens for Discord's POSTs (`/interactions`).
    pub listen: SocketAddr,
}

/// `[import]`: limits for reading schedule sources.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    /// The largest source accepted, in bytes.
    pub max_bytes: usize,
    /// Connect and total time limit of one fetch.
    pub fetch_timeout: Duration,
    /// The `User-Agent` sent when fetching.
    pub user_agent: String,
}

/// `[log]`.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive such as `info` or `confbot=debug`; `RUST_LOG` wins over it.
    pub level: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `confbot/<crate version>`.
pub fn default_user_agent() -> String {
    format!("confbot/{}", env!("CARGO_PKG_VERSION"))
}

impl Settings {
    /// Loads settings from `path` (or `CONFBOT_CONFIG`) and the process environment.
    pub fn from_env(path: Option<&Path>) -> Result<Self, ConfigError> {
        // vars_os: std::env::vars() panics on a non-UTF-8 variable anywhere in the env.
        let env: Vec<(String, String)> = std::env::vars_os()
            .map(|(name, value)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.to_string_lossy().into_owned(),
                )
            })
            .collect();
        Self::load(path, &env)
    }

    /// Loads settings from `path` (or the `CONFBOT_CONFIG` entry of `env`) and the given
    /// environment variables, which need not be the process's own.
    pub fn load(path: Option<&Path>, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let path: Option<PathBuf> = path.map(Path::to_owned).or_else(|| {
            env.iter()
                .find(|(name, value)| name == CONFIG_PATH_VAR && !value.is_empty())
                .map(|(_, value)| PathBuf::from(value))
        });
        let conventional = EnvLayer::conventional(env);
        let prefixed = EnvLayer::prefixed(env);

        // Each layer is checked alone first: an unknown key or a bad value is then blamed on
        // the file or variable that holds it, whatever the other layers say.
        let mut figment = Figment::new();
        if let Some(path) = &path {
            let file = file_layer(path)?;
            check(Figment::from(&file).extract::<RawSettings>())?;
            figment = figment.merge(file);
        }
        check(Figment::from(&conventional).extract_lossy::<RawSettings>())?;
        check(Figment::from(&prefixed).extract_lossy::<RawSettings>())?;
        let figment = figment.merge(conventional).merge(prefixed);
        let raw = check(figment.extract_lossy::<RawSettings>())?;
        validate(raw, &figment)
    }
}

fn check<T>(result: Result<T, figment::Error>) -> Result<T, ConfigError> {
    result.map_err(ConfigError::from_figment)
}

/// Turns the raw values into typed ones; `figment` tells which layer set a failing key.
fn validate(raw: RawSettings, figment: &Figment) -> Result<Settings, ConfigError> {
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
    let listen = match raw.http.listen.filter(|listen| !listen.is_empty()) {
        None => None,
        Some(listen) => Some(listen.parse::<SocketAddr>().map_err(|_| {
            let message =
                format!("expected an address and port such as \"127.0.0.1:9090\", not {listen:?}");
            invalid("http.listen", message)
        })?),
    };
    let interactions_listen = raw.interactions.listen.parse::<SocketAddr>().map_err(|_| {
        let message = format!(
            "expected an address and port such as \"0.0.0.0:8080\", not {:?}",
            raw.interactions.listen
        );
        invalid("interactions.listen", message)
    })?;
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
        interactions: InteractionsSettings {
            listen: interactions_listen,
        },
        import: ImportSettings {
            max_bytes: raw.import.max_bytes,
            fetch_timeout: Duration::from_secs(raw.import.fetch_timeout_secs),
            user_agent: raw.import.user_agent,
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
        channels,
    })
}

/// Shows whether a secret is set, never its text.
fn redacted(secret: Option<&SecretString>) -> Option<&'static str> {
    secret.map(|_| "[redacted]")
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redacted(self.url.as_ref()))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl fmt::Debug for DiscordSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A proxy URL may carry credentials: print it without them.
        let proxy = self.proxy_url.as_ref().map(|url| {
            let mut url = url.clone();
            // Both only fail for URLs that cannot have credentials; nothing to hide then.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        });
        f.debug_struct("DiscordSettings")
            .field("token", &redacted(self.token.as_ref()))
            .field("application_id", &self.application_id)
            .field("guild_ids", &self.guild_ids)
            .field("proxy_url", &proxy)
            .field("defer_after", &self.defer_after)
            .field("shards", &self.shards)
            .finish()
    }
}
