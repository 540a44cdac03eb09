//! The serenity adapter: connects to Discord over the gateway, registers the slash commands
//! and answers interactions with the pure command logic of [`crate::domain::commands`].
//!
//! Sharding: a process runs the gateway shards of `discord.shard_range` out of
//! `discord.shards`; Discord sends each server's interactions to one shard, so several
//! processes on one database split the servers between them. Only the process running
//! shard 0 registers the commands (on that shard's READY), so they are not overwritten once
//! per process.
//!
//! - [`registry`]: every command, its description and options; registration and parsing.
//! - [`interactions`]: routing, the 3-second deadline, user-safe errors.
//! - [`subscriptions`]: the reminder commands and the "Remind me" button, against the store.
//! - [`organisers`]: who is an organiser (the one check), servers' settings, channel checks.
//! - [`setup`], [`status`]: the organiser commands `/setup` and `/status`.
//! - [`announcements`]: `/announce`, `/announcements`, the text modal and Confirm / Cancel.
//! - [`render`]: a `Reply` as serenity builders (mentions always disabled).
//! - [`cache`]: programme snapshots per conference, refreshed when an import lands.
//! - [`Telemetry`]: answer latencies and each shard's connection, for the operations endpoint.

mod announcements;
mod buckets;
mod cache;
mod channels;
pub mod endpoint;
mod gateway;
mod handler;
mod handover;
mod interactions;
pub mod invalid;
mod organisers;
mod pacer;
mod privacy;
mod questions;
pub mod registry;
pub mod render;
mod respond;
pub mod rest;
pub mod sender;
mod setup;
mod status;
mod subscriptions;
mod sync;
mod telemetry;

pub use telemetry::{Gateway, ShardState, Telemetry};

use gateway::register;
use handler::InFlight;

use std::future::Future;
use std::num::NonZeroU64;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serenity::all::{ApplicationId, HttpBuilder};
use serenity::http::Http;
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::config::Settings;
use crate::domain::reminders::LeadTime;
use crate::jobs::planner::UserPlanning;
use crate::store::programme::Snapshots;

use cache::ProgrammeCache;
use interactions::Router;
use organisers::SettingsCache;

/// How often a cached programme's version is checked against the database at most.
const VERSION_CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long shutdown waits for the gateway connection to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The configured bot token, or an error telling the operator how to set it.
pub fn token(settings: &Settings) -> anyhow::Result<&SecretString> {
    settings.discord.token.as_ref().context(
        "no Discord bot token: set DISCORD_TOKEN (or discord.token in the config file) to the \
         token from the Discord developer portal",
    )
}

/// Runs the bot until `shutdown` completes (then closes the gateway connection cleanly) or
/// the connection fails for good (e.g. a rejected token).
///
/// It runs the shards of `discord.shard_range` (by default the only one).
///
/// Intents: GUILDS only. Interactions arrive without any privileged intent, and the bot
/// reads no messages. With `discord.proxy_url` every REST call goes to that proxy and
/// serenity's own rate limiter is off: the proxy owns rate limiting.
///
/// `plan_changed` is notified after every change to subscriptions, lead times or reminder
/// channels (the reminder planner listens on it).
pub async fn run(
    settings: &Settings,
    pool: PgPool,
    plan_changed: Arc<Notify>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    run_observed(
        settings,
        pool,
        plan_changed,
        Arc::default(),
        Arc::default(),
        rest::Rest::standalone(settings.reminders.rate_per_second),
        shutdown,
    )
    .await
}

/// [`run`], recording into `telemetry` (what `confbot run`'s `/metrics` and `/healthz` read)
/// and taking programme snapshots from `snapshots` (shared with `confbot run`'s planner).
/// serenity's requests keep to `rest` (shared with delivery's sender).
pub async fn run_observed(
    settings: &Settings,
    pool: PgPool,
    plan_changed: Arc<Notify>,
    telemetry: Arc<Telemetry>,
    snapshots: Arc<Snapshots>,
    rest: rest::Rest,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // Checked before waiting for any lease: a missing token is the operator's to fix now.
    token(settings)?;
    let handler = handler::Handler::new(
        router(settings, pool.clone(), plan_changed, snapshots, rest)?,
        settings.discord.guild_ids.clone(),
        Arc::clone(&telemetry),
    );
    gateway::run_leased(settings, &pool, handler, &telemetry, shutdown).await
}

/// The REST client: with `discord.proxy_url` every call goes to that proxy and serenity's
/// own rate limiter is off (the proxy owns rate limiting).
fn http_client(settings: &Settings, token: &SecretString) -> Http {
    let mut http = HttpBuilder::new(token.expose_secret());
    if let Some(proxy) = &settings.discord.proxy_url {
        http = http.proxy(proxy.as_str()).ratelimiter_disabled(true);
    }
    // Known up front it allows REST calls before READY; otherwise READY provides it.
    if let Some(id) = settings.discord.application_id.and_then(NonZeroU64::new) {
        http = http.application_id(ApplicationId::from(id));
    }
    http.build()
}

/// The interaction router both modes (gateway and HTTP endpoint) answer with.
fn router(
    settings: &Settings,
    pool: PgPool,
    plan_changed: Arc<Notify>,
    snapshots: Arc<Snapshots>,
    rest: rest::Rest,
) -> anyhow::Result<Router> {
    let default_lead = LeadTime::from_minutes(settings.defaults.lead_time.num_minutes())
        .context("defaults.lead_minutes")?;
    Ok(Router {
        planning: UserPlanning::new(pool.clone(), Arc::clone(&snapshots), default_lead),
        cache: ProgrammeCache::new(pool.clone(), VERSION_CHECK_EVERY, snapshots),
        guilds: settings.guilds.clone(),
        defer_after: settings.discord.defer_after,
        pool,
        default_lead,
        reminders: settings.reminders.clone(),
        plan_changed,
        settings_cache: SettingsCache::default(),
        bot_user: OnceLock::new(),
        import: settings.import.clone(),
        default_zone: settings.defaults.time_zone,
        public_url: settings.web.public_url.clone(),
        rest,
    })
}
