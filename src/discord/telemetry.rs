//! What the Discord adapter reports to the operations endpoint: answer latencies by
//! command and, per gateway shard this process runs, whether it is connected.
//!
//! A shard counts as connected when its last event said so (READY, RESUMED, a stage change
//! to Connected) and serenity's own table of shard runners still says Connected. The events
//! alone miss a dropped connection: serenity reports only the stage changes it sees while
//! reading an event, and one whose resume is refused is restarted without a change reported.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use serenity::all::{ConnectionStage, ShardId};
use serenity::gateway::ShardRunnerInfo;

use crate::metrics::{ByCommand, LATENCY_BUCKETS};

use super::registry;

/// Shared between the event handler (which records) and `ops` (which reads).
#[derive(Debug)]
pub struct Telemetry {
    /// Slash commands, from the interaction arriving to its answer sent (deferral included).
    pub commands: ByCommand,
    /// Autocomplete requests, from arrival to the suggestions sent.
    pub autocompletes: ByCommand,
    /// Requests to the HTTP interactions endpoint refused (bad signature, stale, replayed).
    rejected: AtomicU64,
    /// The shards this process runs, in id order, each connected or not (READY or RESUMED
    /// seen and no disconnect since). Shard 0 alone until [`Self::run_shards`].
    shards: Mutex<Vec<ShardState>>,
    /// serenity's shard runners (`ShardManager::runners`) while the adapter runs.
    runners: Mutex<Weak<Runners>>,
    /// Set when the adapter stopped: serenity runs event handlers as detached tasks, so a
    /// late "connected" could otherwise land after the final "disconnected".
    closed: AtomicBool,
    /// Set while another process holds the gateway lease of these shards and this one
    /// waits to take over (`store::gateway_lease`); no shard is connected meanwhile.
    standby: AtomicBool,
}

/// serenity's table of the shard runners it manages, with each one's connection stage.
pub(super) type Runners = tokio::sync::Mutex<HashMap<ShardId, ShardRunnerInfo>>;

/// How long a probe waits for serenity's runner table; past it the events alone decide.
const RUNNERS_TIMEOUT: Duration = Duration::from_millis(500);

/// One shard's connection, as `/healthz` and `/metrics` see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardState {
    pub id: u32,
    pub connected: bool,
}

/// The gateway of this process: every shard it runs (none only in a hand-made value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    pub shards: Vec<ShardState>,
    /// A hot standby: another process runs these shards, this one takes over when it stops.
    pub standby: bool,
}

impl Gateway {
    /// Healthy: every shard this process runs is connected.
    pub fn all_connected(&self) -> bool {
        !self.shards.is_empty() && self.shards.iter().all(|shard| shard.connected)
    }

    /// How many of them are connected.
    pub fn connected(&self) -> usize {
        self.shards.iter().filter(|shard| shard.connected).count()
    }

    /// The ids of the shards not connected, in order.
    pub fn disconnected(&self) -> Vec<u32> {
        let down = self.shards.iter().filter(|shard| !shard.connected);
        down.map(|shard| shard.id).collect()
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        let names = || registry::commands().iter().map(|spec| spec.name);
        Self {
            commands: ByCommand::new(names(), LATENCY_BUCKETS),
            autocompletes: ByCommand::new(names(), LATENCY_BUCKETS),
            rejected: AtomicU64::new(0),
            shards: Mutex::new(vec![ShardState {
                id: 0,
                connected: false,
            }]),
            runners: Mutex::new(Weak::new()),
            closed: AtomicBool::new(false),
            standby: AtomicBool::new(false),
        }
    }
}

impl Telemetry {
    /// Every shard's state now.
    pub async fn gateway(&self) -> Gateway {
        let mut shards = self.lock().clone();
        let runners = self
            .runners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .upgrade();
        if let Some(runners) = runners {
            if let Ok(runners) = tokio::time::timeout(RUNNERS_TIMEOUT, runners.lock()).await {
                for shard in &mut shards {
                    let stage = runners.get(&ShardId(shard.id)).map(|runner| runner.stage);
                    shard.connected &= stage == Some(ConnectionStage::Connected);
                }
            }
        }
        Gateway {
            shards,
            standby: self.standby.load(Ordering::Acquire),
        }
    }

    /// Whether every shard this process runs is connected.
    pub async fn gateway_connected(&self) -> bool {
        self.gateway().await.all_connected()
    }

    /// The shards this process runs from now on, none of them connected yet (the adapter
    /// calls it before it starts them).
    pub fn run_shards(&self, ids: impl IntoIterator<Item = u32>) {
        let shards = ids.into_iter().map(|id| ShardState {
            id,
            connected: false,
        });
        *self.lock() = shards.collect();
    }

    /// Consults serenity's runner table too from now on (held weakly: it goes with the
    /// client).
    pub(super) fn watch_runners(&self, runners: &Arc<Runners>) {
        *self.runners.lock().unwrap_or_else(PoisonError::into_inner) = Arc::downgrade(runners);
    }

    /// Recorded by the event handler (public for tests). A shard this process does not
    /// run is ignored.
    pub fn set_shard_connected(&self, id: u32, connected: bool) {
        let connected = connected
            && !self.closed.load(Ordering::Acquire)
            && !self.standby.load(Ordering::Acquire);
        if let Some(shard) = self.lock().iter_mut().find(|shard| shard.id == id) {
            shard.connected = connected;
        }
    }

    /// Requests the interactions endpoint refused so far.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    pub(super) fn count_rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Standing by (no shard connected from now on, whatever arrives late from the client
    /// this process just closed), or taking over.
    pub fn set_standby(&self, standby: bool) {
        self.standby.store(standby, Ordering::Release);
        if standby {
            for shard in self.lock().iter_mut() {
                shard.connected = false;
            }
        }
    }

    /// The adapter stopped: no shard connected from now on, whatever arrives late.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for shard in self.lock().iter_mut() {
            shard.connected = false;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<ShardState>> {
        // The data is a plain list of flags, valid whatever a panicking holder did.
        self.shards.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connected_only_when_every_shard_run_here_is() {
        let telemetry = Telemetry::default();
        telemetry.run_shards(2..=3);
        telemetry.set_shard_connected(2, true);

        assert!(!telemetry.gateway_connected().await);
        assert_eq!(telemetry.gateway().await.connected(), 1);
        assert_eq!(telemetry.gateway().await.disconnected(), [3]);

        telemetry.set_shard_connected(3, true);
        assert!(telemetry.gateway_connected().await);
        telemetry.set_shard_connected(2, false);
        assert_eq!(telemetry.gateway().await.disconnected(), [2]);
    }

    #[tokio::test]
    async fn a_shard_not_run_here_changes_nothing() {
        let telemetry = Telemetry::default();
        telemetry.set_shard_connected(0, true);
        telemetry.set_shard_connected(1, false);

        assert!(telemetry.gateway_connected().await);
        assert_eq!(telemetry.gateway().await.shards.len(), 1);
    }

    #[tokio::test]
    async fn a_standby_reports_no_shard_connected_until_it_takes_over() {
        let telemetry = Telemetry::default();
        telemetry.set_shard_connected(0, true);
        telemetry.set_standby(true);
        telemetry.set_shard_connected(0, true);
        let standing_by = telemetry.gateway().await;
        telemetry.set_standby(false);
        telemetry.set_shard_connected(0, true);

        assert!(standing_by.standby);
        assert_eq!(standing_by.connected(), 0, "a late event of the old client");
        assert!(telemetry.gateway_connected().await);
        assert!(!telemetry.gateway().await.standby);
    }

    #[tokio::test]
    async fn after_close_no_late_event_reconnects() {
        let telemetry = Telemetry::default();
        telemetry.run_shards(0..=1);
        telemetry.set_shard_connected(0, true);
        telemetry.close();
        telemetry.set_shard_connected(1, true);

        assert_eq!(telemetry.gateway().await.connected(), 0);
        assert!(!telemetry.gateway_connected().await);
    }
}
