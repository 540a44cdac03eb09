//! The configuration as written: plain serde types with the documented defaults. Every
//! section denies unknown keys so that a typo is an error, not a silently ignored setting.
//! [`super::Settings`] is built from this after validation.

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::import::DEFAULT_MAX_BYTES;

use super::LogFormat;

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawSettings {
    pub database: RawDatabase,
    pub discord: RawDiscord,
    pub defaults: RawDefaults,
    pub guilds: Vec<RawGuild>,
    pub http: RawHttp,
    pub interactions: RawInteractions,
    pub import: RawImport,
    pub log: RawLog,
    pub reminders: RawReminders,
    pub web: RawWeb,
}

/// `[web]`: the web surface (operations, interactions, calendar feeds).
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawWeb {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub trust_forwarded_for: bool,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub url: Option<SecretString>,
    pub max_connections: u32,
}

impl Default for RawDatabase {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawDiscord {
    pub token: Option<SecretString>,
    pub application_id: Option<u64>,
    pub guild_ids: Vec<u64>,
    pub proxy_url: Option<String>,
    pub defer_after_ms: u64,
    pub public_key: Option<String>,
    /// Gateway shards across every process.
    pub shards: u32,
    /// The shards this process runs; `None`: all of them.
    pub shard_range: Option<RawShardRange>,
}

/// `discord.shard_range`: a shard number (`3`) or text (`"3"`, `"0-1"`), checked later.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "expected a shard such as \"3\" or an inclusive range such as \"0-1\""
)]
pub(super) enum RawShardRange {
    Number(u32),
    Text(String),
}

impl Default for RawDiscord {
    fn default() -> Self {
        Self {
            token: None,
            application_id: None,
            guild_ids: Vec::new(),
            proxy_url: None,
            defer_after_ms: super::DEFAULT_DEFER_AFTER_MS,
            public_key: None,
            shards: 1,
            shard_range: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub time_zone: String,
    pub lead_minutes: u32,
    pub conference: Option<String>,
}

impl Default for RawDefaults {
    fn default() -> Self {
        Self {
            time_zone: "UTC".to_owned(),
            lead_minutes: 10,
            conference: None,
        }
    }
}

/// One `[[guilds]]` entry; `guild_id` and `conference` are required.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGuild {
    pub guild_id: u64,
    pub conference: String,
    #[serde(default)]
    pub organiser_role: Option<u64>,
}

/// `[http]`: the operations endpoint; off unless `listen` is set.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawHttp {
    pub listen: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawInteractions {
    /// `None`: the default, [`super::DEFAULT_INTERACTIONS_LISTEN`].
    pub listen: Option<String>,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawImport {
    pub max_bytes: usize,
    pub fetch_timeout_secs: u64,
    pub user_agent: String,
    pub allow_private_addresses: bool,
}

impl Default for RawImport {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            fetch_timeout_secs: 30,
            user_agent: super::default_user_agent(),
            allow_private_addresses: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawLog {
    pub format: LogFormat,
    pub level: String,
}

impl Default for RawLog {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawReminders {
    pub channel_lead_minutes: u32,
    pub rate_per_second: u32,
    pub lease_seconds: u64,
    pub nonce_trust_seconds: u64,
    pub conferences: Vec<RawReminderChannels>,
}

impl Default for RawReminders {
    fn default() -> Self {
        Self {
            channel_lead_minutes: 10,
            rate_per_second: super::DEFAULT_RATE_PER_SECOND,
            lease_seconds: super::DEFAULT_LEASE.as_secs(),
            nonce_trust_seconds: super::DEFAULT_NONCE_TRUST.as_secs(),
            conferences: Vec::new(),
        }
    }
}

/// One `[[reminders.conferences]]` entry: where a conference's channel reminders go.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReminderChannels {
    pub conference: String,
    #[serde(default)]
    pub default_channel: Option<RawChannel>,
    /// Room name -> channel.
    #[serde(default)]
    pub rooms: std::collections::BTreeMap<String, RawChannel>,
}

/// A channel: its id, or `{ id = ..., name = "..." }` to show a name in `simulate` and logs.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawChannel {
    Id(u64),
    Named { id: u64, name: String },
}
