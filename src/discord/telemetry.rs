//! What the Discord adapter reports to the operations endpoint: answer latencies by
//! command and whether the gateway is connected.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::metrics::{Family, LATENCY_BUCKETS};

use super::registry;

/// Shared between the event handler (which records) and `ops` (which reads).
#[derive(Debug)]
pub struct Telemetry {
    /// Slash commands, from the interaction arriving to its answer sent (deferral included).
    pub commands: Family,
    /// Autocomplete requests, from arrival to the suggestions sent.
    pub autocompletes: Family,
    /// READY or RESUMED seen and no disconnect since.
    connected: AtomicBool,
}

impl Default for Telemetry {
    fn default() -> Self {
        let names = || registry::commands().iter().map(|spec| spec.name);
        Self {
            commands: Family::new(names(), LATENCY_BUCKETS),
            autocompletes: Family::new(names(), LATENCY_BUCKETS),
            connected: AtomicBool::new(false),
        }
    }
}

impl Telemetry {
    pub fn gateway_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    pub(super) fn set_gateway_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Release);
    }
}
