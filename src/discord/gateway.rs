//! The gateway connection, under the gateway lease (`store::gateway_lease`): this process
//! connects its shards only while it holds their lease, so two processes configured with
//! the same shards are not both connected, except for the moment of a handover. The other
//! one stands by, healthy and saying so in `/healthz` and `/metrics`, tries the lease every
//! second and connects as soon as it is free: when the holder dies (PostgreSQL ends its
//! session), or when it stops. A holder that can no longer reach its lease session
//! disconnects and stands by, since it cannot tell whether the lease is still its.
//!
//! A stopping holder hands over: it asks the standby to connect first, and closes its own
//! shards once the standby's are connected (bounded). Closing first would leave Discord
//! nowhere to send the interactions of the gap, and those it writes to the closing
//! connection are discarded by serenity. While both are connected Discord sends every
//! interaction to both, and the claim in the handler ([`super::handler`]) lets one answer.
//!
//! Also here: the command registration.

use std::future::Future;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serenity::all::{ClientBuilder, Command as GlobalCommand, GatewayIntents, GuildId};
use serenity::http::Http;
use sqlx::PgPool;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::Settings;
use crate::store::gateway_lease::{LeaseSession, Standby};
use crate::store::interaction_claims;

use super::handler::Handler;
use super::handover::{self, hand_over, Step, Taker, HANDOVER_EVERY};
use super::rest::Rest;
use super::{http_client, registry, token, Telemetry, SHUTDOWN_GRACE};

/// How often a standby tries the lease, and a holder checks its lease session.
const LEASE_EVERY: Duration = Duration::from_secs(1);
/// How long a holder's lease check may take before the holder counts the lease as lost.
const LEASE_CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the holder forgets the interaction claims whose tokens have expired.
const FORGET_CLAIMS_EVERY: Duration = Duration::from_secs(60);

/// How a connection under the lease ended.
enum Ended {
    /// Shutdown was asked for: the shards are closed.
    Shutdown,
    /// The lease session stopped answering: the shards are closed, stand by again.
    LeaseLost,
    /// A taker did not get the lease in time: the shards are closed, stand by again.
    NotHandedOver,
}

/// Runs the gateway whenever this process holds the lease of its shards (or takes a
/// handover up), until `shutdown` completes or the connection fails for good (e.g. a
/// rejected token).
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
        handler.set_fallback(lease.is_held());
        handler.set_overlap(!lease.is_held());
        let connected = connect(
            settings,
            pool,
            &handler,
            telemetry,
            &mut lease,
            &mut shutdown,
        )
        .await;
        match connected {
            Ok(Ended::LeaseLost) => {
                handler.set_fallback(false);
                handler.set_overlap(false);
                telemetry.set_standby(true);
                tracing::error!(
                    shards = %shards,
                    "lost the gateway lease session: disconnected, standing by to take it again"
                );
            }
            Ok(Ended::NotHandedOver) => {
                // The overlap stays: answers under way may not have read it yet, and the
                // next connection sets it anew.
                handler.set_fallback(false);
                telemetry.set_standby(true);
                tracing::warn!(
                    shards = %shards,
                    "the holder of the gateway lease did not let go after asking for a \
                     handover: disconnected, standing by"
                );
                lease.release().await;
            }
            Ok(Ended::Shutdown) => {
                // From the release on the taker holds the lease: a failed claim is its to
                // answer, not this process's (whose answers under way may still claim).
                handler.set_fallback(false);
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
    handler.in_flight().drain().await;
    ended
}

/// Waits until this process holds the lease of its shards, or is asked to take them over
/// by a stopping holder (the session is then returned without the lease); `None` when
/// `shutdown` came first. Logs once that it stands by, and what keeps it from the database
/// if anything.
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
            // The handover first: a lease let go during one is the taker's.
            let look = handover::look(&mut open, shards.count()).await?;
            // Another standby's handover: the lease is its to take.
            let taken = look == Standby::Waiting && open.try_take().await?;
            Ok::<_, crate::store::StoreError>((open, taken, look))
        };
        match attempt.await {
            Ok((open, true, _)) => {
                if announced {
                    tracing::info!(shards = %shards, "took over the gateway lease");
                }
                return Some(open);
            }
            Ok((open, false, Standby::Taker)) => {
                tracing::info!(
                    shards = %shards,
                    "the holder of the gateway lease is stopping: connecting to take over"
                );
                return Some(open);
            }
            Ok((open, false, _)) => {
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
/// failure of the gateway. A taker (`lease` not held yet) tells the holder when its shards
/// are connected and takes the lease once the holder gives it back.
async fn connect(
    settings: &Settings,
    pool: &PgPool,
    handler: &Handler,
    telemetry: &Telemetry,
    lease: &mut LeaseSession,
    shutdown: &mut (impl Future<Output = ()> + Unpin),
) -> anyhow::Result<Ended> {
    let token = token(settings)?;
    let http = http_client(settings, token);
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(handler.clone())
        .await
        .context("setting up the Discord client")?;
    let manager = Arc::clone(&client.shard_manager);
    telemetry.watch_runners(&manager.runners);
    let shards = settings.discord.shards;
    let count = shards.count();
    tracing::info!(shards = %shards, "starting the Discord gateway");
    // serenity 0.12 reads the range's end as inclusive (`start_shard_range(4..7, 10)` runs
    // shards 4 to 7; `start()` is `0..0` of 1): `first..last` is exactly our range.
    let gateway = client.start_shard_range(shards.first()..shards.last(), shards.total());
    tokio::pin!(gateway);
    let mut taker = (!lease.is_held()).then(|| Taker::new(count));
    // When the overlap of a handover this process took up is over.
    let mut overlap_ends: Option<Instant> = None;
    let mut forget_claims = tokio::time::interval(FORGET_CLAIMS_EVERY);
    forget_claims.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let ended = loop {
        let every = if lease.is_held() {
            LEASE_EVERY
        } else {
            HANDOVER_EVERY
        };
        tokio::select! {
            ended = &mut gateway => {
                ended.context("the Discord gateway connection ended")?;
                anyhow::bail!("the Discord gateway connection ended");
            }
            () = &mut *shutdown => {
                if lease.is_held() {
                    hand_over(lease, handler, &mut gateway, count).await?;
                } else {
                    handover::done(lease).await;
                }
                tracing::info!("shutting down: closing the Discord connection");
                break Ended::Shutdown;
            }
            () = tokio::time::sleep(every) => {
                if lease.is_held() {
                    if overlap_ends.is_some_and(|ends| Instant::now() >= ends) {
                        handler.set_overlap(false);
                        overlap_ends = None;
                    }
                    if !lease.held(LEASE_CHECK_TIMEOUT).await {
                        break Ended::LeaseLost;
                    }
                    continue;
                }
                let Some(taking) = taker.as_mut() else { continue };
                match taking.step(lease, handler, telemetry).await {
                    Step::Waiting => {}
                    Step::Took { overlap_ends: ends } => {
                        overlap_ends = Some(ends);
                        taker = None;
                        tracing::info!(shards = %shards, "took over the gateway lease");
                    }
                    Step::GaveUp => break Ended::NotHandedOver,
                }
            }
            _ = forget_claims.tick(), if lease.is_held() => {
                match interaction_claims::forget_old(pool).await {
                    Ok(gone) => tracing::debug!(gone, "forgot old interaction claims"),
                    Err(error) => tracing::warn!("forgetting old interaction claims: {error}"),
                }
            }
        }
    };
    // `start` returns once the shards are gone. Before any shard has connected there is
    // nothing to close and it may never return, and serenity gives each shard 5 s to
    // acknowledge: bounded wait, which a taker's wait for the lease counts on. The shutdown
    // itself runs to its end on its own: cut short, it would not tell serenity's queuer to
    // stop starting shards, and those would stay connected.
    tokio::spawn({
        let manager = Arc::clone(&manager);
        async move { manager.shutdown_all().await }
    });
    match tokio::time::timeout(SHUTDOWN_GRACE, &mut gateway).await {
        Ok(closed) => closed.context("closing the Discord gateway connection")?,
        Err(_elapsed) => tracing::warn!("the gateway did not close within {SHUTDOWN_GRACE:?}"),
    }
    Ok(ended)
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
