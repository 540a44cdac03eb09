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
mod cache;
mod channels;
pub mod endpoint;
mod interactions;
pub mod invalid;
mod organisers;
mod pacer;
mod privacy;
pub mod registry;
pub mod render;
mod respond;
pub mod sender;
mod setup;
mod status;
mod subscriptions;
mod sync;
mod telemetry;

pub use telemetry::{Gateway, ShardState, Telemetry};

use std::future::Future;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serenity::all::{
    ApplicationId, ClientBuilder, Command as GlobalCommand, ConnectionStage, Context, EventHandler,
    GatewayIntents, GuildId, HttpBuilder, Interaction, Ready, ResumedEvent, ShardStageUpdateEvent,
};
use serenity::async_trait;
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
        shutdown,
    )
    .await
}

/// [`run`], recording into `telemetry` (what `confbot run`'s `/metrics` and `/healthz` read)
/// and taking programme snapshots from `snapshots` (shared with `confbot run`'s planner).
pub async fn run_observed(
    settings: &Settings,
    pool: PgPool,
    plan_changed: Arc<Notify>,
    telemetry: Arc<Telemetry>,
    snapshots: Arc<Snapshots>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let token = token(settings)?;
    let in_flight = Arc::new(InFlight::default());
    let handler = Handler {
        router: router(settings, pool, plan_changed, snapshots)?,
        guild_ids: settings.discord.guild_ids.clone(),
        registered: AtomicBool::new(false),
        in_flight: Arc::clone(&in_flight),
        telemetry: Arc::clone(&telemetry),
    };
    let http = http_client(settings, token);
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(handler)
        .await
        .context("setting up the Discord client")?;
    let manager = Arc::clone(&client.shard_manager);

    let shards = settings.discord.shards;
    telemetry.run_shards(shards.ids());
    telemetry.watch_runners(&manager.runners);
    tracing::info!(shards = %shards, "starting the Discord gateway");
    // serenity 0.12 reads the range's end as inclusive (`start_shard_range(4..7, 10)` runs
    // shards 4 to 7; `start()` is `0..0` of 1): `first..last` is exactly our range.
    let gateway = client.start_shard_range(shards.first()..shards.last(), shards.total());
    tokio::pin!(gateway);
    let ended = tokio::select! {
        ended = &mut gateway => ended.context("the Discord gateway connection ended"),
        () = shutdown => {
            tracing::info!("shutting down: closing the Discord connection");
            manager.shutdown_all().await;
            // `start` returns once the shards are gone. Before any shard has connected there
            // is nothing to close and it may never return: bounded wait.
            match tokio::time::timeout(SHUTDOWN_GRACE, gateway).await {
                Ok(ended) => ended.context("closing the Discord gateway connection"),
                Err(_elapsed) => {
                    tracing::warn!("the gateway did not close within {SHUTDOWN_GRACE:?}");
                    Ok(())
                }
            }
        }
    };
    // Closed (or lost for good): `/healthz` must not report a connection that is gone.
    telemetry.close();
    // Interactions already received are answered (their tokens stay valid for 15 minutes
    // whatever the gateway does); serenity runs them as detached tasks, which would
    // otherwise die with the process.
    in_flight.drain().await;
    ended
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
) -> anyhow::Result<Router> {
    let default_lead = LeadTime::from_minutes(settings.defaults.lead_time.num_minutes())
        .context("defaults.lead_minutes")?;
    Ok(Router {
        planning: UserPlanning {
            pool: pool.clone(),
            snapshots: Arc::clone(&snapshots),
            default_lead,
        },
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
    })
}

/// Counts the interactions being answered, so shutdown can wait for them.
#[derive(Default)]
struct InFlight(tokio::sync::watch::Sender<usize>);

impl InFlight {
    fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.0.send_modify(|count| *count += 1);
        InFlightGuard(Arc::clone(self))
    }

    async fn idle(&self) {
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = self.0.subscribe().wait_for(|count| *count == 0).await;
    }

    /// At exit: waits (at most [`SHUTDOWN_GRACE`]) for the answers under way.
    async fn drain(&self) {
        if tokio::time::timeout(SHUTDOWN_GRACE, self.idle())
            .await
            .is_err()
        {
            tracing::warn!("some interactions were still being answered at exit");
        }
    }
}

/// One interaction being answered; counted down when dropped (also on panic).
struct InFlightGuard(Arc<InFlight>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0
             .0
            .send_modify(|count| *count = count.saturating_sub(1));
    }
}

/// serenity's event handler: shard 0's READY registers commands, interactions go to the
/// router. One handler serves every shard of the process; `ctx.shard_id` tells them apart.
struct Handler {
    router: Router,
    guild_ids: Vec<u64>,
    /// Set after the first successful registration: a reconnect (a new READY of shard 0)
    /// does not register again.
    registered: AtomicBool,
    in_flight: Arc<InFlight>,
    telemetry: Arc<Telemetry>,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let shard = ctx.shard_id.0;
        tracing::info!(
            shard,
            shards = ready.shard.map_or(1, |info| info.total),
            user = %ready.user.name,
            guilds = ready.guilds.len(),
            "connected to Discord"
        );
        self.telemetry.set_shard_connected(shard, true);
        // The same bot on every READY; the first one sets it.
        let _ = self.router.bot_user.set(ready.user.id.get());
        // Commands belong to the application, not to a shard: one registration, by the
        // process running shard 0.
        if shard != 0 || self.registered.load(Ordering::Acquire) {
            return;
        }
        match register(&ctx.http, &self.guild_ids).await {
            Ok(()) => self.registered.store(true, Ordering::Release),
            Err(error) => tracing::error!("registering the slash commands failed: {error:#}"),
        }
    }

    async fn resume(&self, ctx: Context, _event: ResumedEvent) {
        self.telemetry.set_shard_connected(ctx.shard_id.0, true);
    }

    /// Every stage change of a shard: anything but Connected means the interactions of its
    /// servers cannot arrive now, which `/healthz` reports.
    async fn shard_stage_update(&self, _ctx: Context, event: ShardStageUpdateEvent) {
        let shard = event.shard_id.0;
        let connected = matches!(event.new, ConnectionStage::Connected);
        if !connected {
            tracing::warn!(shard, stage = %event.new, "a Discord gateway shard is not connected");
        }
        self.telemetry.set_shard_connected(shard, connected);
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let _answering = self.in_flight.enter();
        let ctx = respond::Ctx::gateway(ctx.http);
        self.router
            .dispatch(&ctx, interaction, &self.telemetry)
            .await;
    }
}

/// Registers every command: in each configured guild (changes show at once), or globally
/// when none is configured (Discord may take a while to show changes).
async fn register(http: &Http, guild_ids: &[u64]) -> anyhow::Result<()> {
    let commands = registry::registrations();
    if guild_ids.is_empty() {
        GlobalCommand::set_global_commands(http, commands)
            .await
            .context("registering the global commands")?;
        tracing::info!("registered the commands globally");
        return Ok(());
    }
    for &id in guild_ids {
        let Some(guild) = NonZeroU64::new(id).map(GuildId::from) else {
            tracing::error!("discord.guild_ids contains 0, which is not a guild: skipped");
            continue;
        };
        guild
            .set_commands(http, commands.clone())
            .await
            .with_context(|| format!("registering the commands in guild {id}"))?;
        tracing::info!(guild = id, "registered the commands");
    }
    Ok(())
}
