//! One claimed row: decided (sent or dropped as too late) at the moment of sending, sent
//! under its claim, and its outcome recorded: sent, retried with backoff, postponed for a
//! rate limit, given up, or left alone when the claim was lost.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::super::deliver::{Recipient, SendError};
use super::super::lease::Claim;
use super::super::outcomes::Outcome;
use super::dispatch::Departure;
use super::dms::{learn, recipient};
use super::{Deliver, Shared};
use crate::domain::reminders::{
    decide, possible_contents, resend, Decision, PostBody, PostKind, Resend, Target,
};
use crate::store::dm_channels::DmChannel;
use crate::store::outbox::{self, OutboxEntry};

/// How many times one send is retried after a global rate limit (the sender's pacer holds
/// every request back meanwhile) before the row is postponed.
const GLOBAL_WAITS: usize = 5;

/// Sends one claimed row (or drops it when too late) and records the outcome. Returns the
/// row's id, for the batch to stop renewing it. `dm`: what is known of the DM channel of
/// the row's user, if it is a DM.
pub(super) async fn handle<D: Deliver>(
    shared: Arc<Shared<D>>,
    entry: OutboxEntry,
    mut dm: Option<DmChannel>,
    claim: Claim,
    mut departure: Departure,
) -> i64 {
    let options = &shared.options;
    let (pool, worker, id) = (&shared.pool, options.worker.as_str(), entry.id);
    let key = entry.post.key;
    let kind = key.kind;
    let target = describe(key.target);
    // From this instant on an earlier attempt may have created the message; `None` once
    // none can have (or its message was looked for and is not there).
    let mut unproven = entry.maybe_sent_since;
    for waited in 1..=GLOBAL_WAITS {
        // Decided at each attempt: the text states the time left at the real send.
        let started = shared.clock.now();
        let message = match decide(&entry.post, started) {
            Decision::Drop(reason) => {
                tracing::info!(target = %target, "{reason}");
                let outcome = outbox::mark_dropped(pool, id, worker, &reason.to_string()).await;
                record(&shared, outcome, id, kind, Outcome::Dropped);
                return id;
            }
            Decision::Send(message) => super::threads::linked(&shared, &entry, message).await,
        };
        departure.now();
        let result = if let PostBody::Event { spec, revision } = &entry.post.body {
            // No message: the event's own requests (and their own look for an earlier
            // attempt's event: Discord keeps no nonce for events).
            super::events::apply(&shared, &entry, spec.as_ref(), *revision, &claim).await
        } else {
            match recipient(&shared, key.target, &mut dm, &claim).await {
                Err(error) => Err(error),
                Ok(to) => {
                    let attempt = Attempt {
                        to,
                        message: &message,
                        started,
                        claim: &claim,
                        last: waited == GLOBAL_WAITS,
                    };
                    let Some(result) = attempt.make(&shared, &entry, &mut unproven).await else {
                        continue;
                    };
                    if let Err(error) = &result {
                        learn(&shared, to, error).await;
                    }
                    result
                }
            }
        };
        let now = shared.clock.now();
        let (outcome, counter) = match result {
            Ok(Sent::Earlier) => {
                tracing::info!(target = %target, subject = ?key.subject, kind = kind.as_str(), "an earlier attempt had created the message: recorded, not sent again");
                (
                    outbox::mark_sent(pool, id, worker, now).await,
                    Outcome::Sent,
                )
            }
            Ok(Sent::Now(message)) => {
                let late = (now - entry.post.due).to_std().unwrap_or_default();
                let late_ms = u64::try_from(late.as_millis()).unwrap_or(u64::MAX);
                tracing::info!(target = %target, subject = ?key.subject, kind = kind.as_str(), late_ms, "sent");
                // A board's current state and a thread are due at their period's start or
                // reminder, which may be long past when they are set up: no lateness of
                // delivery.
                if !matches!(
                    kind,
                    PostKind::Board
                        | PostKind::Thread
                        | PostKind::ThreadClose
                        | PostKind::Question
                        | PostKind::Event
                ) {
                    shared.outcomes.observe_lateness(late);
                }
                (
                    outbox::mark_sent_as(pool, id, worker, now, message).await,
                    Outcome::Sent,
                )
            }
            Err(SendError::RateLimited {
                retry_after,
                global: true,
            }) if waited < GLOBAL_WAITS && claim.fits(retry_after) => {
                // The pacer holds every request back until then: wait for it under the claim.
                tracing::warn!(?retry_after, "global rate limit: every send waits");
                continue;
            }
            Err(SendError::NotYet { reason, wait }) => {
                let outcome = outbox::postpone(pool, id, worker, later(now, wait), &reason).await;
                (outcome, Outcome::Postponed)
            }
            Err(error @ SendError::RateLimited { retry_after, .. }) => {
                // Too long to wait under the claim: the row goes back, due when the wait ends.
                let until = later(now, retry_after);
                let outcome = outbox::postpone(pool, id, worker, until, &error.to_string()).await;
                (outcome, Outcome::Postponed)
            }
            Err(SendError::ClaimLost) => {
                // Never sent: whoever holds the row now sends and records it.
                tracing::warn!(target = %target, "not sent: the claim ran out before the request could leave");
                return id;
            }
            Err(error @ (SendError::Transient(_) | SendError::Unknown(_))) => {
                let attempts = entry.attempts + 1;
                let retry =
                    (attempts < options.max_attempts).then(|| later(now, backoff(attempts)));
                tracing::warn!(target = %target, attempts, retry = ?retry, "send failed: {error}");
                // The request may have created the message: from its start on.
                let maybe_sent = matches!(error, SendError::Unknown(_)).then_some(started);
                let outcome = outbox::mark_failed(
                    pool,
                    id,
                    worker,
                    &error.to_string(),
                    retry,
                    now,
                    maybe_sent,
                )
                .await;
                if retry.is_some() {
                    (outcome, Outcome::Retried)
                } else {
                    (outcome, Outcome::Failed)
                }
            }
            Err(error @ SendError::ChannelUnavailable(_)) => {
                // The organisers must hear of it: their reminders are not reaching anybody.
                tracing::error!(target = %target, "reminder channel unusable, organisers must fix it: {error}");
                if let Target::Channel(channel) = key.target {
                    super::unusable::report(&shared, entry.conference_id, channel, kind, &error)
                        .await;
                }
                let outcome =
                    outbox::mark_failed(pool, id, worker, &error.to_string(), None, now, None)
                        .await;
                (outcome, Outcome::Failed)
            }
            Err(SendError::Stale(reason)) => {
                tracing::info!(target = %target, "not sent: {reason}");
                let outcome = outbox::mark_dropped(pool, id, worker, &reason).await;
                (outcome, Outcome::Dropped)
            }
            Err(
                error @ (SendError::ClosedDm
                | SendError::MessageGone
                | SendError::ThreadExists
                | SendError::ThreadArchived
                | SendError::EventsFull
                | SendError::EventGone
                | SendError::MissingPermission(_)
                | SendError::Rejected(_)),
            ) => {
                tracing::info!(target = %target, "not delivered, not retried: {error}");
                let outcome =
                    outbox::mark_failed(pool, id, worker, &error.to_string(), None, now, None)
                        .await;
                (outcome, Outcome::Failed)
            }
        };
        record(&shared, outcome, id, kind, counter);
        return id;
    }
    // Not reached (the last global wait is postponed above); kept so the row is never
    // left claimed.
    let until = later(shared.clock.now(), Duration::from_secs(1));
    let outcome = outbox::postpone(pool, id, worker, until, "global rate limit").await;
    record(&shared, outcome, id, kind, Outcome::Postponed);
    id
}

/// One attempt at a row's message, to a resolved recipient.
struct Attempt<'a> {
    to: Recipient,
    message: &'a crate::domain::commands::Message,
    started: DateTime<Utc>,
    claim: &'a Claim,
    /// No further attempt follows under this claim.
    last: bool,
}

impl Attempt<'_> {
    /// Sends the message, or finds that an earlier attempt did. `None`: nothing left, and
    /// another attempt under the claim may (a repeat that missed the nonce window's end).
    async fn make<D: Deliver>(
        &self,
        shared: &Shared<D>,
        entry: &OutboxEntry,
        unproven: &mut Option<DateTime<Utc>>,
    ) -> Option<Result<Sent, SendError>> {
        let (pool, worker, id) = (&shared.pool, shared.options.worker.as_str(), entry.id);
        let window = nonce_window(&shared.options);
        // Decided at each attempt: a wait for a rate limit may carry a repeat past the time
        // Discord is trusted to remember the nonce.
        let result = match *unproven {
            Some(since) if resend(Some(since), self.started, window) == Resend::CheckFirst => {
                // Only a look that happened and found nothing proves absence: a look that
                // was rate limited and waited for leaves the next turn to look again.
                match find_earlier(shared, entry, self.to, since, self.claim).await {
                    Ok(true) => Ok(Sent::Earlier),
                    Ok(false) => match outbox::mark_not_sent(pool, id, worker).await {
                        Ok(true) => {
                            *unproven = None;
                            send(shared, self.to, entry, self.message, self.claim).await
                        }
                        // The row is not this worker's any more.
                        Ok(false) | Err(_) => Err(SendError::ClaimLost),
                    },
                    Err(error) => Err(error),
                }
            }
            // Discord still remembers the nonce, and a repeat returns the first message,
            // provided the request leaves inside the window: after it, it does not leave
            // and the next turn looks for the message first.
            Some(since) => {
                let repeat = self.claim.leaving_by(since + window);
                match send(shared, self.to, entry, self.message, &repeat).await {
                    Err(SendError::ClaimLost) if self.claim.holds() && !self.last => return None,
                    result => result,
                }
            }
            None => send(shared, self.to, entry, self.message, self.claim).await,
        };
        Some(result)
    }
}

/// How a row came to be sent.
pub(super) enum Sent {
    /// By this attempt; the message's id when known.
    Now(Option<u64>),
    /// By an earlier one, whose message was found.
    Earlier,
}

async fn send<D: Deliver>(
    shared: &Shared<D>,
    to: Recipient,
    entry: &OutboxEntry,
    message: &crate::domain::commands::Message,
    claim: &Claim,
) -> Result<Sent, SendError> {
    match &entry.post.body {
        PostBody::Board { panel, .. } => {
            return super::panels::show(shared, to.channel(), *panel, entry, message, claim).await;
        }
        PostBody::ThreadOpen { name, .. } => {
            return super::threads::open(shared, to.channel(), entry, name, message, claim).await;
        }
        PostBody::ThreadClose { lock } => {
            return super::threads::close(shared, entry, *lock, claim).await;
        }
        PostBody::QuestionCard => return super::questions::show(shared, entry, claim).await,
        _ => {}
    }
    shared
        .deliver
        .deliver(to, message, &entry.nonce, claim)
        .await
        .map(Sent::Now)
}

/// Looks for the message an earlier attempt (from `since` on) may have created, once
/// Discord may have forgotten the nonce. A failed look is no unknown outcome: it created
/// nothing.
async fn find_earlier<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
    to: Recipient,
    since: DateTime<Utc>,
    claim: &Claim,
) -> Result<bool, SendError> {
    let now = shared.clock.now();
    // Where an earlier attempt's message would be, and what it may say.
    let (to, contents) = match &entry.post.body {
        // Edits, thread starts (160004) and archives may simply be made again.
        PostBody::Board { .. }
        | PostBody::ThreadClose { .. }
        | PostBody::QuestionCard
        | PostBody::Event { .. } => return Ok(false),
        // A thread's card is in the thread.
        PostBody::ThreadOpen { .. } => match super::threads::thread_channel(shared, entry).await? {
            Some(thread) => (thread, possible_contents(&entry.post, since, now)),
            None => return Ok(false),
        },
        // A DM reminder may carry its thread's link.
        _ => {
            let contents = possible_contents(&entry.post, since, now);
            (
                to,
                super::threads::with_link_variants(shared, entry, contents).await,
            )
        }
    };
    // Discord's and this host's clocks may differ by a little.
    let after = shared.clock.to_wall(since) - chrono::Duration::seconds(30);
    let found = shared.deliver.find_sent(to, &contents, after, claim).await;
    match found {
        Err(SendError::Unknown(error)) => Err(SendError::Transient(error)),
        other => other,
    }
}

fn nonce_window(options: &super::DeliveryOptions) -> chrono::Duration {
    chrono::Duration::from_std(options.nonce_window).unwrap_or(chrono::Duration::minutes(1))
}

/// Counts a recorded outcome, or logs one that could not be recorded: the row then stays
/// claimed until its lease ends and is sent again with the same nonce, which Discord
/// deduplicates.
fn record<D>(
    shared: &Shared<D>,
    outcome: Result<bool, crate::store::StoreError>,
    id: i64,
    kind: crate::domain::reminders::PostKind,
    counter: Outcome,
) {
    match outcome {
        Ok(true) => shared.outcomes.bump(kind, counter),
        Ok(false) => tracing::warn!(
            row = id,
            "the claim had expired and another worker owns the row now"
        ),
        Err(error) => tracing::error!(row = id, "recording a delivery outcome failed: {error:#}"),
    }
}

fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(1))
}

/// 2, 4, 8, ... seconds, at most five minutes.
fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 9)).unwrap_or(1);
    Duration::from_secs(2_u64.pow(exponent).min(300))
}

/// `channel:<id>` or `dm:<user id>`: channel names are not at hand here, and ids are what
/// an operator greps for anyway.
fn describe(target: Target) -> String {
    match target {
        Target::Channel(id) => format!("channel:{id}"),
        Target::Dm(user) => format!("dm:{user}"),
        Target::Guild(guild) => format!("events:{guild}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let secs: Vec<u64> = [1, 2, 3, 8, 9, 20].map(|a| backoff(a).as_secs()).to_vec();
        assert_eq!(secs, [2, 4, 8, 256, 300, 300]);
    }
}
