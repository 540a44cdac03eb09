//! The one outbound effect of the delivery loop, behind a trait: posting a message to a
//! channel or a user's DMs. The Discord implementation lives in `crate::discord::sender`;
//! tests may use their own.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::lease::Claim;
use crate::domain::commands::Message;
use crate::domain::events::{EventAction, EventSpec};
use crate::domain::reminders::Target;

/// Where one message goes: a post's [`Target`] with a DM's channel already opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Channel(u64),
    Dm { user: u64, channel: u64 },
}

impl Recipient {
    /// The channel the message is posted in.
    pub fn channel(self) -> u64 {
        match self {
            Self::Channel(channel) | Self::Dm { channel, .. } => channel,
        }
    }

    /// The post's target this recipient stands for.
    pub fn target(self) -> Target {
        match self {
            Self::Channel(channel) => Target::Channel(channel),
            Self::Dm { user, .. } => Target::Dm(user),
        }
    }
}

/// Sends one message. Implementations must send `nonce` with Discord's `enforce_nonce`, so a
/// retry of the same post within Discord's window returns the first message instead of
/// posting twice, must disable every mention, and pace their own requests (opening a DM
/// channel included); after a global 429 they hold every
/// request back and return [`SendError::RateLimited`] with `global`, and the caller retries.
/// They honour the `claim`: no wait it does not [`fit`](Claim::fits) (they return the
/// wait as [`SendError::RateLimited`] instead of sleeping), and no request leaves unless it
/// [may](Claim::may_leave) ([`SendError::ClaimLost`]).
pub trait Deliver: Send + Sync + 'static {
    /// Returns the created message's id when the implementation knows it.
    fn deliver(
        &self,
        to: Recipient,
        message: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> impl Future<Output = Result<Option<u64>, SendError>> + Send;

    /// Shows `message` in `channel` as the message `existing` (an edit), or, when there is
    /// none or Discord no longer has it (10008: someone deleted it), as a new message sent
    /// with `nonce` like [`deliver`](Self::deliver); returns the id of the message that
    /// shows it. Paced and bound by the `claim` like `deliver`. Default: refused.
    fn show(
        &self,
        channel: u64,
        existing: Option<u64>,
        message: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> impl Future<Output = Result<u64, SendError>> + Send {
        let _ = (channel, existing, message, nonce, claim);
        async {
            Err(SendError::Rejected(
                "this sender cannot edit messages".to_owned(),
            ))
        }
    }

    /// Starts a public thread named `name` on message `message` of `channel` (a thread
    /// started before on it counts as started: Discord's 160004) and posts `card` in it with
    /// `nonce` like [`deliver`](Self::deliver). The thread's id is the message's. Paced
    /// and bound by the `claim`. Default: refused.
    fn open_thread(
        &self,
        channel: u64,
        message: u64,
        name: &str,
        card: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        let _ = (channel, message, name, card, nonce, claim);
        async {
            Err(SendError::Rejected(
                "this sender cannot start threads".to_owned(),
            ))
        }
    }

    /// Deletes the bot's message `message` of `channel` (one already gone counts as
    /// deleted). Paced and bound by the `claim`. Default: refused.
    fn remove(
        &self,
        channel: u64,
        message: u64,
        claim: &Claim,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        let _ = (channel, message, claim);
        async {
            Err(SendError::Rejected(
                "this sender cannot delete messages".to_owned(),
            ))
        }
    }

    /// Archives `thread`, and locks it when `lock`. Default: refused.
    fn close_thread(
        &self,
        thread: u64,
        lock: bool,
        claim: &Claim,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        let _ = (thread, lock, claim);
        async {
            Err(SendError::Rejected(
                "this sender cannot archive threads".to_owned(),
            ))
        }
    }

    /// Makes `action` on `guild`'s scheduled events (a new one, an edit, a cancellation, an
    /// early end) and returns the event's id. Discord keeps no nonce for events: a create
    /// whose outcome is unknown is looked for with [`find_event`](Self::find_event) before
    /// it is made again. Paced and bound by the `claim`. Default: refused.
    fn event(
        &self,
        guild: u64,
        action: &EventAction,
        claim: &Claim,
    ) -> impl Future<Output = Result<u64, SendError>> + Send {
        let _ = (guild, action, claim);
        async {
            Err(SendError::Rejected(
                "this sender cannot manage events".to_owned(),
            ))
        }
    }

    /// The id of `guild`'s scheduled or active event made by this bot with `spec`'s name
    /// and start, if there is one. Default: refused.
    fn find_event(
        &self,
        guild: u64,
        spec: &EventSpec,
        claim: &Claim,
    ) -> impl Future<Output = Result<Option<u64>, SendError>> + Send {
        let _ = (guild, spec, claim);
        async {
            Err(SendError::Rejected(
                "this sender cannot read events".to_owned(),
            ))
        }
    }

    /// Opens (or gets back) `user`'s DM channel with the bot: one paced request, made ahead
    /// of their reminders so that each DM costs one request when it is due.
    fn open_dm(
        &self,
        user: u64,
        claim: &Claim,
    ) -> impl Future<Output = Result<u64, SendError>> + Send;

    /// Whether a message of a post already exists in `to`'s channel: created by this bot
    /// after `after` (wall clock) with one of `contents`. Asked only once Discord may have
    /// forgotten the post's nonce (see [`crate::domain::reminders::resend`]); honours the
    /// `claim` like [`deliver`](Self::deliver).
    fn find_sent(
        &self,
        to: Recipient,
        contents: &[String],
        after: DateTime<Utc>,
        claim: &Claim,
    ) -> impl Future<Output = Result<bool, SendError>> + Send;

    /// `workers` processes deliver at the moment (this one included): an implementation
    /// that paces itself under a global limit takes its share of it. Default: nothing.
    fn share_with(&self, workers: u32) {
        let _ = workers;
    }

    /// How long a request made now would wait for its turn under the implementation's own
    /// pacing: the delivery loop claims more only while this is short, so requests stay in
    /// flight back to back whatever Discord's latency, and a post falling due never queues
    /// behind more than a moment of others. Default: no pacing, no wait.
    fn backlog(&self) -> Duration {
        Duration::ZERO
    }

    /// How long a request lately took from leaving to its answer (the slowest of the last
    /// few): a fan-out ends that much before its due instant, so that its last message has
    /// arrived by then. Default: none.
    fn latency(&self) -> Duration {
        Duration::ZERO
    }
}

/// Why a send failed, as the delivery loop needs to tell it apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 429: wait `retry_after`. `global`: every request must wait, not only this route's.
    #[error("rate limited for {retry_after:?}{}", if *global { " (global)" } else { "" })]
    RateLimited { retry_after: Duration, global: bool },
    /// No request reached Discord (it could not connect): worth retrying with backoff.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The request left but no usable answer came (a timeout, a reset connection, a 5xx):
    /// the message may exist. Retried with backoff, and remembered, so a retry after
    /// Discord forgot the nonce looks for the message first.
    #[error("outcome unknown: {0}")]
    Unknown(String),
    /// 403 with code 50007: the user does not accept DMs from the bot. Not retried.
    #[error("the user does not accept direct messages (50007)")]
    ClosedDm,
    /// The channel is gone or the bot may not post there (10003, 50001, 50013). Not
    /// retried; reported to the organisers.
    #[error("cannot post in the channel: {0}")]
    ChannelUnavailable(String),
    /// 404 with code 10008: the message to edit does not exist (any more).
    #[error("the message is gone (10008)")]
    MessageGone,
    /// 400 with code 50083: the thread is archived already (by Discord after its idle time,
    /// or by a moderator).
    #[error("the thread is archived (50083)")]
    ThreadArchived,
    /// 400 with code 30038: the server has the most scheduled or active events Discord
    /// allows (100; events made by people count too).
    #[error("the server has the most scheduled events Discord allows (30038)")]
    EventsFull,
    /// 403 with code 50013 on a request that posts no message (a scheduled event): the bot
    /// lacks a permission in the server. Not retried, except where a caller waits for the
    /// organisers to grant it.
    #[error("missing permissions: {0}")]
    MissingPermission(String),
    /// 404 with code 10070: the scheduled event is gone (someone deleted it).
    #[error("the scheduled event is gone (10070)")]
    EventGone,
    /// 400 with code 160004: a thread was started on the message already.
    #[error("a thread exists on the message already (160004)")]
    ThreadExists,
    /// Not to be sent yet: what it depends on (a thread's reminder) is still to come. The
    /// row goes back, due again after the wait, and no attempt is counted.
    #[error("{reason}")]
    NotYet { reason: String, wait: Duration },
    /// Nothing to send any more, found at send time (a thread whose reminder was never
    /// posted): the row is dropped, not failed.
    #[error("{0}")]
    Stale(String),
    /// Any other refusal (4xx): retrying the same request cannot help.
    #[error("refused: {0}")]
    Rejected(String),
    /// Nothing was sent: the claim on the row no longer held when the request was about to
    /// leave. The row is not this worker's to record any more.
    #[error("not sent: the claim on the row ran out")]
    ClaimLost,
}
