//! The gateway connection, under the gateway lease (`store::gateway_lease`): this process
//! connects its shards only while it holds their lease, so two processes configured with
//! the same shards never both answer an interaction. The other one stands by, healthy and
//! saying so in `/healthz` and `/metrics`, tries the lease every second and connects as soon
//! as it is free: when the holder stops (it gives the lease back after closing its shards),
//! or dies (PostgreSQL ends its session). A holder that can no longer reach its lease
//! session disconnects and stands by, since it cannot tell whether the lease is still its.
//!
//! Also here: serenity's event handler ([`Handler`]), the count of interactions being
//! answered ([`InFlight`]) and the command registration.

use std::future::Future;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serenity::all::{
    ClientBuilder, Command as GlobalCommand, ConnectionStage, Context, EventHandler,
    GatewayIntents, GuildId, Interaction, Ready, ResumedEvent, ShardStageUpdateEvent,
};
use serenity::async_trait;
use serenity::http::Http;
use sqlx::PgPool;

use crate::config::Settings;
use crate::store::gateway_lease::LeaseSession;

use super::interactions::Router;
use super::rest::Rest;
use super::{http_client, registry, respond, token, Telemetry, SHUTDOWN_GRACE};

/// How often a standby tries the lease, and a holder checks its lease session.
const LEASE_EVERY: Duration = Duration::from_secs(1);
/// How long a holder's lease check may take before the holder counts the lease as lost.
const LEASE_CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// How a connection under the lease ended.
enum Ended {
    /// Shutdown was asked for: the shards are closed.
    Shutdown,
    /// The lease session stopped answering: the shards are closed, stand by again.
    LeaseLost,
}

/// Runs the gateway whenever this process holds the lease of its shards, until `shutdown`
/// completes or the connection fails for good (e.g. a rejected token).
pub(super) async fn run_leased(
    settings: &Settings,
    pool: &PgPool,
    handler: Handler,
    telemetry: &Arc<Telemetry>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let shards = settings.discord.shards;
    telemetry.run_shards(shards.ids());
    tokio::pin!(shutdown);
    let ended = loop {
        let Some(mut lease) = stand_by(pool, settings, telemetry, &mut shutdown).await else {
            break Ok(());
        };
        telemetry.set_standby(false);
        let connected = connect(
            settings,
            handler.clone(),
            telemetry,
            &mut lease,
            &mut shutdown,
        )
        .await;
        match connected {
            Ok(Ended::LeaseLost) => {
                telemetry.set_standby(true);
                tracing::error!(
                    shards = %shards,
                    "lost the gateway lease session: disconnected, standing by to take it again"
                );
            }
            Ok(Ended::Shutdown) => {
                lease.release().await;
                break Ok(());
            }
            Err(error) => {
                lease.release().await;
                break Err(error);
            }
        }
    };
    // Closed (or lost for good): `/healthz` must not report a connection that is gone.
    telemetry.close();
    // Interactions already received are answered (their tokens stay valid for 15 minutes
    // whatever the gateway does); serenity runs them as detached tasks, which would
    // otherwise die with the process.
    handler.in_flight.drain().await;
    ended
}

/// Waits until this process holds the lease of its shards; `None` when `shutdown` came
/// first. Logs once that it stands by, and what keeps it from the database if anything.
async fn stand_by(
    pool: &PgPool,
    settings: &Settings,
    telemetry: &Telemetry,
    shutdown: &mut (impl Future<Output = ()> + Unpin),
) -> Option<LeaseSession> {
    let shards = settings.discord.shards;
    let mut announced = false;
    let mut failing = false;
    let mut session: Option<LeaseSession> = None;
    loop {
        let attempt = async {
            let open = match session.take() {
                Some(open) => open,
                None => LeaseSession::open(pool, shards.ids(), shards.total()).await?,
            };
            let mut open = open;
            let taken = open.try_take().await?;
            Ok::<_, crate::store::StoreError>((open, taken))
        };
        match attempt.await {
            Ok((open, true)) => {
                if announced {
                    tracing::info!(shards = %shards, "took over the gateway lease");
                }
                return Some(open);
            }
            Ok((open, false)) => {
                failing = false;
                session = Some(open);
                if !announced {
                    // The state first: whoever reads the line may ask `/healthz` at once.
                    telemetry.set_standby(true);
                    tracing::warn!(
                        shards = %shards,
                        "another process runs these gateway shards: standing by to take over"
                    );
                    announced = true;
                }
            }
            Err(error) => {
                telemetry.set_standby(true);
                // Once per outage: the database may stay away for a while.
                if !failing {
                    tracing::warn!(
                        "cannot take the gateway lease (retrying every second): {error}"
                    );
                }
                failing = true;
                announced = true;
            }
        }
        tokio::select! {
            () = &mut *shutdown => return None,
            () = tokio::time::sleep(LEASE_EVERY) => {}
        }
    }
}

/// Connects the shards and runs them until shutdown, the loss of the lease session or a
/// failure of the gateway.
async fn connect(
    settings: &Settings,
    handler: Handler,
    telemetry: &Telemetry,
    lease: &mut LeaseSession,
    shutdown: &mut (impl Future<Output = ()> + Unpin),
) -> anyhow::Result<Ended> {
    let token = token(settings)?;
    let http = http_client(settings, token);
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(handler)
        .await
        .context("setting up the Discord client")?;
    let manager = Arc::clone(&client.shard_manager);
    telemetry.watch_runners(&manager.runners);
    let shards = settings.discord.shards;
    tracing::info!(shards = %shards, "starting the Discord gateway");
    // serenity 0.12 reads the range's end as inclusive (`start_shard_range(4..7, 10)` runs
    // shards 4 to 7; `start()` is `0..0` of 1): `first..last` is exactly our range.
    let gateway = client.start_shard_range(shards.first()..shards.last(), shards.total());
    tokio::pin!(gateway);
    let ended = loop {
        tokio::select! {
            ended = &mut gateway => {
                ended.context("the Discord gateway connection ended")?;
                anyhow::bail!("the Discord gateway connection ended");
            }
            () = &mut *shutdown => {
                tracing::info!("shutting down: closing the Discord connection");
                break Ended::Shutdown;
            }
            () = tokio::time::sleep(LEASE_EVERY) => {
                if !lease.held(LEASE_CHECK_TIMEOUT).await {
                    break Ended::LeaseLost;
                }
            }
        }
    };
    manager.shutdown_all().await;
    // `start` returns once the shards are gone. Before any shard has connected there is
    // nothing to close and it may never return: bounded wait.
    match tokio::time::timeout(SHUTDOWN_GRACE, gateway).await {
        Ok(closed) => closed.context("closing the Discord gateway connection")?,
        Err(_elapsed) => tracing::warn!("the gateway did not close within {SHUTDOWN_GRACE:?}"),
    }
    Ok(ended)
}

/// Counts the interactions being answered, so shutdown can wait for them.
#[derive(Default)]
pub(super) struct InFlight(tokio::sync::watch::Sender<usize>);

impl InFlight {
    pub(super) fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.0.send_modify(|count| *count += 1);
        InFlightGuard(Arc::clone(self))
    }

    async fn idle(&self) {
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = self.0.subscribe().wait_for(|count| *count == 0).await;
    }

    /// At exit: waits (at most [`SHUTDOWN_GRACE`]) for the answers under way.
    pub(super) async fn drain(&self) {
        if tokio::time::timeout(SHUTDOWN_GRACE, self.idle())
            .await
            .is_err()
        {
            tracing::warn!("some interactions were still being answered at exit");
        }
    }
}

/// One interaction being answered; counted down when dropped (also on panic).
pub(super) struct InFlightGuard(Arc<InFlight>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0
             .0
            .send_modify(|count| *count = count.saturating_sub(1));
    }
}

/// serenity's event handler: shard 0's READY registers commands, interactions go to the
/// router. One handler serves every shard of the process; `ctx.shard_id` tells them apart.
///
/// Cheap to clone: each time this process takes the gateway lease it connects a new client,
/// and the handler's state (the router's caches, the registration) carries over.
#[derive(Clone)]
pub(super) struct Handler {
    router: Arc<Router>,
    guild_ids: Vec<u64>,
    /// Set after the first successful registration: a reconnect (a new READY of shard 0)
    /// does not register again.
    registered: Arc<AtomicBool>,
    in_flight: Arc<InFlight>,
    telemetry: Arc<Telemetry>,
}

impl Handler {
    pub(super) fn new(router: Router, guild_ids: Vec<u64>, telemetry: Arc<Telemetry>) -> Self {
        Self {
            router: Arc::new(router),
            guild_ids,
            registered: Arc::default(),
            in_flight: Arc::default(),
            telemetry,
        }
    }
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
        match register(&ctx.http, &self.router.rest, &self.guild_ids).await {
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

    /// serenity's rate limiter met a limit (only when no proxy owns rate limiting).
    async fn ratelimit(&self, data: serenity::http::RatelimitInfo) {
        self.router.rest.note_rate_limit(data.global);
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let _answering = self.in_flight.enter();
        let ctx = respond::Ctx::gateway(ctx.http, self.router.rest.clone());
        self.router
            .dispatch(&ctx, interaction, &self.telemetry)
            .await;
    }
}

/// Registers every command: in each configured guild (changes show at once), or globally
/// when none is configured (Discord may take a while to show changes).
pub(super) async fn register(http: &Http, rest: &Rest, guild_ids: &[u64]) -> anyhow::Result<()> {
    let commands = registry::registrations();
    if guild_ids.is_empty() {
        rest.paced(GlobalCommand::set_global_commands(http, commands))
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
        rest.paced(guild.set_commands(http, commands.clone()))
            .await
            .with_context(|| format!("registering the commands in guild {id}"))?;
        tracing::info!(guild = id, "registered the commands");
    }
    Ok(())
}
