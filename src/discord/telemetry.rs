//! What the Discord adapter reports to the operations endpoint: answer latencies by
//! command and whether the gateway is connected.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::metrics::{Family, LATENCY_BUCKETS};

use super::registry;

/// Shared between the event handler (which records) and `ops` (which reads).
#[derive(Debug)]
pub struct Telemetry {
    /// Slash commands, from the interaction arriving to its answer sent (deferral included).
    pub commands: Family,
    /// Autocomplete requests, from arrival to the suggestions sent.
    pub autocompletes: Family,
    /// Requests to the HTTP interactions endpoint refused (bad signature, stale, replayed).
    rejected: AtomicU64,
    /// READY or RESUMED seen and no disconnect since.
    connected: AtomicBool,
    /// Set when the adapter stopped: serenity runs event handlers as detached tasks, so a
    /// late "connected" could otherwise land after the final "disconnected".
    closed: AtomicBool,
}

impl Default for Telemetry {
    fn default() -> Self {
        let names = || registry::commands().iter().map(|spec| spec.name);
        Self {
            commands: Family::new(names(), LATENCY_BUCKETS),
            autocompletes: Family::new(names(), LATENCY_BUCKETS),
            rejected: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }
}

impl Telemetry {
    pub fn gateway_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// Recorded by the event handler (public for tests).
    pub fn set_gateway_connected(&self, connected: bool) {
        let connected = connected && !self.closed.load(Ordering::Acquire);
        self.connected.store(connected, Ordering::Release);
    }

    /// Requests the interactions endpoint refused so far.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    pub(super) fn count_rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// The adapter stopped: not connected from now on, whatever arrives late.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.connected.store(false, Ordering::Release);
    }
}
