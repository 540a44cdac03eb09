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
mod validate;
mod web;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeDelta;
use chrono_tz::Tz;
use figment::Figment;
use reqwest::Url;
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::model::ConferenceSlug;
use crate::domain::reminders::{ChannelPlan, LeadTime};

pub use error::ConfigError;
use raw::RawSettings;
pub use shards::ShardRange;
use sources::{file_layer, EnvLayer};
use validate::validate;

/// The variable naming the config file when `--config` is not given.
pub const CONFIG_PATH_VAR: &str = "CONFBOT_CONFIG";
/// The prefix of per-key environment overrides; `__` separates section and key.
pub const ENV_PREFIX: &str = "CONFBOT__";
/// The longest reminder lead time accepted, in minutes.
pub const MAX_LEAD_MINUTES: u32 = 120;
/// How long an interaction's answer may take before it is deferred, by default (ms).
pub const DEFAULT_DEFER_AFTER_MS: u64 = 1500;
/// Requests per second reminder delivery paces itself at by default: a tenth under
/// Discord's global 50, so that timing jitter never puts a 51st request into one second.
pub const DEFAULT_RATE_PER_SECOND: u32 = 45;
/// How long a worker's claim on an outbox row holds unless renewed.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// How long Discord is trusted to remember a message's nonce ("a few minutes", documented).
pub const DEFAULT_NONCE_TRUST: Duration = Duration::from_secs(60);
/// Longer than this, a nonce may be forgotten: Discord documents "a few minutes".
pub const MAX_NONCE_TRUST: Duration = Duration::from_secs(120);
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
    pub web: WebSettings,
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

    /// The conference the guild's own `[[guilds]]` entry assigns it (the default does not
    /// count: it applies to every server).
    pub fn assigned(&self, guild_id: u64) -> Option<&ConferenceSlug> {
        self.entries
            .iter()
            .find(|entry| entry.guild_id == guild_id)
            .map(|entry| &entry.conference)
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
    /// How long a worker's claim on a post holds unless renewed (it is, while the worker
    /// lives): a crashed worker's posts are taken over after this long.
    pub lease: Duration,
    /// How long Discord is trusted to remember a nonce: a send whose outcome is unknown is
    /// repeated blindly only this long, later the channel is read first.
    pub nonce_trust: Duration,
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

    /// The channel plan of a conference when none is stored: its configured one, else none
    /// (no channels, the configured channel lead).
    pub fn plan_or_empty(&self, slug: &ConferenceSlug) -> ChannelPlan {
        self.channel_plan(slug)
            .cloned()
            .unwrap_or_else(|| ChannelPlan {
                by_room: Default::default(),
                default: None,
                lead: self.channel_lead,
                names: Default::default(),
            })
    }
}

/// `[http]`: the operations endpoint (`/healthz`, `/metrics`) of `confbot run`.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// Where it listens; `None` (the default): no endpoint.
    pub listen: Option<SocketAddr>,
}

/// `[web]`: the web surface: `/healthz`, `/metrics`, `/interactions` and the calendar feeds,
/// on one listener.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// Where `confbot run` listens (`None`: it serves no HTTP), and where `confbot
    /// serve-interactions` listens unless `--listen` says otherwise.
    pub listen: Option<SocketAddr>,
    /// The address people reach the web surface at (behind the reverse proxy): the base of
    /// the calendar links `/mytalks` gives. `None`: no links are given.
    pub public_url: Option<Url>,
    /// Believe the last `X-Forwarded-For` entry as the client's address (only behind a
    /// proxy that sets it): per-address limits then see people, not the proxy.
    pub trust_forwarded_for: bool,
}

/// `[interactions]`: the HTTP interactions endpoint of `confbot serve-interactions`.
#[derive(Debug, Clone)]
pub struct InteractionsSettings {
    /// Where it listens for Discord's POSTs (`/interactions`).
    pub listen: SocketAddr,
    /// Whether the configuration set it (else it is the default).
    pub set: bool,
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
    /// Whether schedule URLs may reach loopback, private, link-local and other non-public
    /// addresses (`import.allow_private_addresses`). Off: a URL set from Discord cannot make
    /// the bot probe the network it runs in.
    pub allow_private_addresses: bool,
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
