//! A talk's thread at send time: opened on its channel reminder's message once that is
//! posted, archived once it was opened. What the thread belongs to is read from the
//! outbox, so a thread whose reminder was retired (the talk moved or was cancelled) or
//! never posted is dropped, not sent.

use super::row::Sent;
use super::{Deliver, Shared};
use crate::domain::commands::Message;
use crate::domain::reminders::{with_thread_link, PostKey, PostKind, Target};
use crate::jobs::{Claim, SendError};
use crate::store::outbox::{self, OutboxEntry, Posted};

/// Starts the thread on the reminder's message and posts the card in it.
pub(super) async fn open<D: Deliver>(
    shared: &Shared<D>,
    channel: u64,
    entry: &OutboxEntry,
    name: &str,
    card: &Message,
    claim: &Claim,
) -> Result<Sent, SendError> {
    let reminder = PostKey {
        kind: PostKind::Reminder,
        ..entry.post.key
    };
    let message = match posted(shared, entry.conference_id, &reminder).await? {
        Posted::Sent(Some(message)) => message,
        Posted::Sent(None) => {
            return Err(SendError::Stale(
                "the reminder's message is not known: no thread".to_owned(),
            ))
        }
        Posted::Pending => {
            // Retried with backoff: the reminder goes first, a moment earlier.
            return Err(SendError::Transient(
                "the reminder is not posted yet".to_owned(),
            ));
        }
        Posted::Not => {
            return Err(SendError::Stale(
                "the reminder was not posted (the talk moved or was cancelled): no thread"
                    .to_owned(),
            ))
        }
    };
    shared
        .deliver
        .open_thread(channel, message, name, card, &entry.nonce, claim)
        .await?;
    Ok(Sent::Now(Some(message)))
}

/// Archives (and locks) the thread, if it was opened.
pub(super) async fn close<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
    lock: bool,
    claim: &Claim,
) -> Result<Sent, SendError> {
    let opened = PostKey {
        kind: PostKind::Thread,
        ..entry.post.key
    };
    let thread = match posted(shared, entry.conference_id, &opened).await? {
        Posted::Sent(Some(thread)) => thread,
        Posted::Pending => {
            return Err(SendError::Transient(
                "the thread is not open yet".to_owned(),
            ));
        }
        Posted::Sent(None) | Posted::Not => {
            return Err(SendError::Stale("the thread was never opened".to_owned()));
        }
    };
    shared.deliver.close_thread(thread, lock, claim).await?;
    Ok(Sent::Now(Some(thread)))
}

/// A subscriber's reminder with the link to its talk's thread, once that is open (a DM due
/// with the channel reminder, or earlier, goes out before the thread exists: without it).
pub(super) async fn linked<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
    mut message: Message,
) -> Message {
    let key = entry.post.key;
    let (Target::Dm(_), PostKind::Reminder, Some(talk)) =
        (key.target, key.kind, key.subject.talk())
    else {
        return message;
    };
    match outbox::thread_of(&shared.pool, entry.conference_id, talk.0).await {
        Ok(Some((guild, thread))) => {
            message.content = with_thread_link(&message.content, guild, thread);
        }
        Ok(None) => {}
        // The reminder matters more than its link.
        Err(error) => tracing::warn!("looking for the talk's thread failed: {error}"),
    }
    message
}

async fn posted<D: Deliver>(
    shared: &Shared<D>,
    conference_id: i64,
    key: &PostKey,
) -> Result<Posted, SendError> {
    outbox::posted(&shared.pool, conference_id, key)
        .await
        .map_err(|e| SendError::Transient(format!("reading the outbox: {e}")))
}
