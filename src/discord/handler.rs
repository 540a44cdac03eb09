//! serenity's event handler ([`Handler`]) and the count of interactions being answered
//! ([`InFlight`]). While a rolling deploy hands the gateway over, two processes receive every
//! interaction: each claims it in the database before answering, and only the first answers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    ConnectionStage, Context, EventHandler, Interaction, InteractionId, Ready, ResumedEvent,
    ShardStageUpdateEvent,
};
use serenity::async_trait;

use crate::store::interaction_claims;

use super::gateway::register;
use super::interactions::Router;
use super::{respond, Telemetry, SHUTDOWN_GRACE};

/// How long an interaction received during a handover waits for its claim (a millisecond
/// normally). Giving up early is not free: the other process's claim may land meanwhile,
/// and both would answer. The deferral's timer runs from the interaction's arrival, so with
/// the wait for the user's DMs to be reopened (`REOPEN_WAIT`, 250 ms) a deferrable answer is
/// deferred by `defer_after_ms` or 1.25 s, whichever is later, inside Discord's 3 seconds.
/// An answer that cannot be deferred (a modal, a button's update) has 1.25 s less for its own
/// work, only during a handover and only with a database that slow.
pub(super) const CLAIM_WAIT: Duration = Duration::from_secs(1);

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
    /// Whether another process may be connected to these shards (a handover): only then is
    /// an interaction claimed before it is answered. A process alone on its shards answers
    /// what it receives, without a database round trip.
    overlap: Arc<AtomicBool>,
    /// Whether this process answers an interaction whose claim failed: the lease holder
    /// until a taker's shards are connected, the taker from then on (the holder is about to
    /// close its own). Both may be for the moment the holder takes to see the taker ready
    /// (a tenth of a second), which a failed claim in both at once would need.
    fallback: Arc<AtomicBool>,
}

impl Handler {
    pub(super) fn new(router: Router, guild_ids: Vec<u64>, telemetry: Arc<Telemetry>) -> Self {
        Self {
            router: Arc::new(router),
            guild_ids,
            registered: Arc::default(),
            in_flight: Arc::default(),
            telemetry,
            overlap: Arc::default(),
            fallback: Arc::default(),
        }
    }

    /// Whether another process may be connected to these shards, from now on.
    pub(super) fn set_overlap(&self, overlap: bool) {
        self.overlap.store(overlap, Ordering::Release);
    }

    /// Whether this process answers interactions whose claim failed, from now on.
    pub(super) fn set_fallback(&self, fallback: bool) {
        self.fallback.store(fallback, Ordering::Release);
    }

    /// The interactions being answered.
    pub(super) fn in_flight(&self) -> &InFlight {
        &self.in_flight
    }

    /// Whether this process answers interaction `id`: the first process to claim it does.
    /// When the claim cannot be made in [`CLAIM_WAIT`] (the database is away or swamped),
    /// the process in charge of those answers does (see `fallback`).
    async fn claim(&self, id: InteractionId) -> bool {
        let claim = interaction_claims::claim(&self.router.pool, id.get());
        match tokio::time::timeout(CLAIM_WAIT, claim).await {
            Ok(Ok(true)) => true,
            Ok(Ok(false)) => {
                tracing::debug!(interaction = id.get(), "answered by another process");
                false
            }
            Ok(Err(error)) => self.unclaimed(&error),
            Err(_elapsed) => self.unclaimed(&format_args!("no answer within {CLAIM_WAIT:?}")),
        }
    }

    /// An interaction whose claim failed: answered by one of the two processes only.
    fn unclaimed(&self, why: &dyn std::fmt::Display) -> bool {
        let fallback = self.fallback.load(Ordering::Acquire);
        if fallback {
            tracing::warn!("claiming an interaction failed, answering it all the same: {why}");
        } else {
            tracing::warn!(
                "claiming an interaction failed, leaving it to the other process: {why}"
            );
        }
        fallback
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
        // First: the deferral's timer runs from here.
        let ctx = respond::Ctx::gateway(ctx.http, self.router.rest.clone());
        // Read when the interaction is handled, not when it arrived: a handover starts by
        // setting it, before the other process can connect.
        if self.overlap.load(Ordering::Acquire) && !self.claim(interaction.id()).await {
            return;
        }
        self.router
            .dispatch(&ctx, interaction, &self.telemetry)
            .await;
    }
}
