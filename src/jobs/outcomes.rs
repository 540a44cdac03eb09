//! What the delivery loop reports to whoever watches it (metrics, health, tests): outcome
//! counts in total and by kind of post, how late posts went out, and a heartbeat.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use tokio::sync::watch;

use crate::domain::reminders::PostKind;
use crate::lock::lock;
use crate::metrics::{Buckets, LATENESS_BUCKETS};

/// How many rows reached each outcome since start: for logs, metrics and tests, which
/// wait on [`Outcomes::subscribe`] instead of polling the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    pub sent: u64,
    /// Not sent on purpose (the talk started).
    pub dropped: u64,
    /// Given up (closed DM, unusable channel, refused, out of attempts).
    pub failed: u64,
    /// Pending again after a temporary failure (backoff).
    pub retried: u64,
    /// Pending again after a rate limit, attempt not counted.
    pub postponed: u64,
    /// Users' DM channels opened (and stored), ahead of their DMs or, when that did not
    /// happen in time, at the send.
    pub dm_channels_opened: u64,
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Dropped,
    Failed,
    Retried,
    Postponed,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Sent,
        Outcome::Dropped,
        Outcome::Failed,
        Outcome::Retried,
        Outcome::Postponed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Dropped => "dropped",
            Outcome::Failed => "failed",
            Outcome::Retried => "retried",
            Outcome::Postponed => "postponed",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn field(self, counts: &mut OutcomeCounts) -> &mut u64 {
        match self {
            Outcome::Sent => &mut counts.sent,
            Outcome::Dropped => &mut counts.dropped,
            Outcome::Failed => &mut counts.failed,
            Outcome::Retried => &mut counts.retried,
            Outcome::Postponed => &mut counts.postponed,
        }
    }
}

/// Every kind of post, in the order of [`Outcomes::by_kind`].
pub const KINDS: [PostKind; 10] = [
    PostKind::Reminder,
    PostKind::Moved,
    PostKind::Cancelled,
    PostKind::Announcement,
    PostKind::ScheduleUpdate,
    PostKind::Board,
    PostKind::Thread,
    PostKind::ThreadClose,
    PostKind::Question,
    PostKind::Event,
];

fn kind_index(kind: PostKind) -> usize {
    match kind {
        PostKind::Reminder => 0,
        PostKind::Moved => 1,
        PostKind::Cancelled => 2,
        PostKind::Announcement => 3,
        PostKind::ScheduleUpdate => 4,
        PostKind::Board => 5,
        PostKind::Thread => 6,
        PostKind::ThreadClose => 7,
        PostKind::Question => 8,
        PostKind::Event => 9,
    }
}

/// The labels of the delivery counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Delivery {
    pub kind: &'static str,
    pub outcome: &'static str,
}

/// Outcome counters, shared between the loop and whoever watches it.
#[derive(Debug)]
pub struct Outcomes {
    totals: watch::Sender<OutcomeCounts>,
    /// Every post by kind and outcome, for `/metrics`.
    deliveries: Family<Delivery, Counter>,
    /// Its series, resolved once, `[kind][outcome]`: counting takes no lock.
    by_kind: [[Counter; 5]; KINDS.len()],
    /// `now - due` of every post sent.
    lateness: Histogram,
    /// When the loop last looked at the outbox. Monotonic and real time on purpose, not the
    /// loop's [`super::Clock`]: liveness is about this process, not the rehearsed instant.
    heartbeat: Mutex<Option<Instant>>,
    /// How many times the loop has looked at the outbox.
    turns: AtomicU64,
    /// The delivering workers (this one included) the last heartbeat counted; 0 before one
    /// succeeded.
    workers: AtomicU32,
}

impl Default for Outcomes {
    fn default() -> Self {
        let deliveries = Family::<Delivery, Counter>::default();
        let by_kind = std::array::from_fn(|kind| {
            std::array::from_fn(|outcome| {
                let labels = Delivery {
                    kind: KINDS[kind].as_str(),
                    outcome: Outcome::ALL[outcome].as_str(),
                };
                deliveries.get_or_create(&labels).clone()
            })
        });
        Self {
            totals: watch::Sender::default(),
            deliveries,
            by_kind,
            lateness: Buckets(LATENESS_BUCKETS).histogram(),
            heartbeat: Mutex::new(None),
            turns: AtomicU64::new(0),
            workers: AtomicU32::new(0),
        }
    }
}

impl Outcomes {
    pub fn counts(&self) -> OutcomeCounts {
        *self.totals.borrow()
    }

    /// A receiver that sees every change of the counts.
    pub fn subscribe(&self) -> watch::Receiver<OutcomeCounts> {
        self.totals.subscribe()
    }

    /// The counts of each kind of post, in [`KINDS`] order, each by [`Outcome::ALL`].
    pub fn by_kind(&self) -> Vec<(PostKind, [u64; 5])> {
        KINDS
            .iter()
            .map(|kind| {
                let row = &self.by_kind[kind_index(*kind)];
                (*kind, std::array::from_fn(|i| row[i].get()))
            })
            .collect()
    }

    /// The counters of [`Self::by_kind`], labelled `kind` and `outcome`, to register.
    pub fn deliveries(&self) -> Family<Delivery, Counter> {
        self.deliveries.clone()
    }

    /// How late sent posts went out, to register.
    pub fn lateness(&self) -> Histogram {
        self.lateness.clone()
    }

    /// How long ago the loop last looked at the outbox; `None` before it first did.
    pub fn heartbeat_age(&self) -> Option<Duration> {
        let beat = *lock(&self.heartbeat);
        beat.map(|beat| beat.elapsed())
    }

    /// How many delivering workers share Discord's rate, this one included, as its last
    /// heartbeat counted them; `None` before a heartbeat succeeded.
    pub fn workers(&self) -> Option<u32> {
        Some(self.workers.load(Ordering::Relaxed)).filter(|n| *n > 0)
    }

    /// Recorded by each heartbeat that succeeds.
    pub(crate) fn counted_workers(&self, workers: u32) {
        self.workers.store(workers, Ordering::Relaxed);
    }

    /// Recorded by the delivery loop on every turn (public for tests and rehearsals).
    pub fn beat(&self) {
        *lock(&self.heartbeat) = Some(Instant::now());
        self.turns.fetch_add(1, Ordering::Relaxed);
    }

    /// How many times the delivery loop has looked at the outbox: each look costs the
    /// database a few queries, so a burst of plan changes must not multiply them.
    pub fn turns(&self) -> u64 {
        self.turns.load(Ordering::Relaxed)
    }

    pub(super) fn observe_lateness(&self, late: Duration) {
        self.lateness.observe(late.as_secs_f64());
    }

    /// Counts one DM channel opened.
    pub(super) fn opened_dm_channel(&self) {
        self.totals
            .send_modify(|counts| counts.dm_channels_opened += 1);
    }

    /// Counts one row's outcome. The per-kind counter first: a test woken by the total
    /// then sees the kind's count as well.
    pub(super) fn bump(&self, kind: PostKind, outcome: Outcome) {
        self.by_kind[kind_index(kind)][outcome.index()].inc();
        self.totals
            .send_modify(|counts| *outcome.field(counts) += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_count_in_total_and_by_kind() {
        let outcomes = Outcomes::default();
        outcomes.bump(PostKind::Reminder, Outcome::Sent);
        outcomes.bump(PostKind::Announcement, Outcome::Failed);

        assert_eq!(
            outcomes.counts(),
            OutcomeCounts {
                sent: 1,
                failed: 1,
                ..OutcomeCounts::default()
            }
        );
        let by_kind = outcomes.by_kind();
        assert_eq!(by_kind[0], (PostKind::Reminder, [1, 0, 0, 0, 0]));
        assert_eq!(by_kind[3], (PostKind::Announcement, [0, 0, 1, 0, 0]));
        assert_eq!(outcomes.heartbeat_age(), None);
        assert_eq!(
            outcomes.workers(),
            None,
            "no heartbeat has counted them yet"
        );
        outcomes.counted_workers(2);
        assert_eq!(outcomes.workers(), Some(2));
    }
}
