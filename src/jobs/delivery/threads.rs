//! A talk's thread at send time: opened on its channel reminder's message once that is
//! posted, archived once it was opened. What the thread belongs to is read from the
//! outbox, so a thread whose reminder was retired (the talk moved or was cancelled) or
//! never posted is dropped, not sent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::row::Sent;
use super::{Deliver, Shared};
use crate::domain::commands::Message;
use crate::domain::reminders::{with_thread_link, PostKey, PostKind, Target};
use crate::jobs::{Claim, Recipient, SendError};
use crate::lock::lock;
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
    let message = match sibling(shared, entry, PostKind::Reminder).await? {
        Posted::Sent(Some(message)) => message,
        Posted::Sent(None) => {
            return Err(SendError::Stale(
                "the reminder's message is not known: no thread".to_owned(),
            ))
        }
        Posted::Pending => {
            // The reminder goes first, a moment earlier (or after its own retries).
            return Err(not_yet("the reminder is not posted yet"));
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
    let thread = match sibling(shared, entry, PostKind::Thread).await? {
        Posted::Sent(Some(thread)) => thread,
        Posted::Pending => return Err(not_yet("the thread is not open yet")),
        Posted::Sent(None) | Posted::Not => {
            return Err(SendError::Stale("the thread was never opened".to_owned()));
        }
    };
    shared.deliver.close_thread(thread, lock, claim).await?;
    Ok(Sent::Now(Some(thread)))
}

/// The thread a `ThreadOpen` row's card goes to, once its reminder's message is known.
pub(super) async fn thread_channel<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
) -> Result<Option<Recipient>, SendError> {
    Ok(match sibling(shared, entry, PostKind::Reminder).await? {
        Posted::Sent(Some(message)) => Some(Recipient::Channel(message)),
        _ => None,
    })
}

/// `contents` and, for a DM reminder whose talk has a thread, each with the thread's link:
/// what an earlier attempt's message may say.
pub(super) async fn with_link_variants<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
    contents: Vec<String>,
) -> Vec<String> {
    let Some((guild, thread)) = dm_thread(shared, entry).await else {
        return contents;
    };
    let linked: Vec<String> = contents
        .iter()
        .map(|content| with_thread_link(content, guild, thread))
        .collect();
    contents.into_iter().chain(linked).collect()
}

/// A subscriber's reminder with the link to its talk's thread, once that is open (a DM due
/// with the channel reminder, or earlier, goes out before the thread exists: without it).
pub(super) async fn linked<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
    mut message: Message,
) -> Message {
    if let Some((guild, thread)) = dm_thread(shared, entry).await {
        message.content = with_thread_link(&message.content, guild, thread);
    }
    message
}

/// The open thread of a DM reminder's talk, for the same schedule version.
async fn dm_thread<D: Deliver>(shared: &Shared<D>, entry: &OutboxEntry) -> Option<Thread> {
    let key = entry.post.key;
    let (Target::Dm(_), PostKind::Reminder, Some(talk)) =
        (key.target, key.kind, key.subject.talk())
    else {
        return None;
    };
    let version = key.schedule_version;
    let known = (entry.conference_id, talk.0, version);
    if let Some(thread) = shared.threads.get(known) {
        return thread;
    }
    match outbox::thread_of(&shared.pool, entry.conference_id, talk.0, version).await {
        Ok(thread) => {
            shared.threads.put(known, thread);
            thread
        }
        // The reminder matters more than its link.
        Err(error) => {
            tracing::warn!("looking for the talk's thread failed: {error}");
            None
        }
    }
}

/// How long a looked-up thread (or its absence) is trusted: a keynote's 2,000 DMs ask once
/// every few seconds, not 2,000 times.
const KNOWN_FOR: Duration = Duration::from_secs(5);

/// A talk's open thread: its server and the thread's id.
type Thread = (u64, u64);

/// A lookup's answer and when it was made.
#[derive(Debug, Clone, Copy)]
struct LookedUp {
    at: Instant,
    thread: Option<Thread>,
}

/// Talks' threads as last looked up, by (conference, talk, schedule version).
#[derive(Debug, Default)]
pub(super) struct Known(Mutex<HashMap<(i64, i64, i32), LookedUp>>);

impl Known {
    fn get(&self, key: (i64, i64, i32)) -> Option<Option<Thread>> {
        let known = lock(&self.0);
        known
            .get(&key)
            .filter(|looked| looked.at.elapsed() < KNOWN_FOR)
            .map(|looked| looked.thread)
    }

    fn put(&self, key: (i64, i64, i32), thread: Option<Thread>) {
        let mut known = lock(&self.0);
        known.retain(|_, looked| looked.at.elapsed() < KNOWN_FOR);
        let at = Instant::now();
        known.insert(key, LookedUp { at, thread });
    }
}

/// What became of the post of `kind` that `entry` belongs with: same channel, talk and
/// schedule version (a thread's reminder, an archive's thread).
async fn sibling<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
    kind: PostKind,
) -> Result<Posted, SendError> {
    let key = PostKey {
        kind,
        ..entry.post.key
    };
    outbox::posted(&shared.pool, entry.conference_id, &key)
        .await
        .map_err(|error| {
            // Organisers see the row's last error: the database's own words stay in the log.
            tracing::error!("reading the outbox for a thread failed: {error:#}");
            SendError::Transient("the outbox could not be read".to_owned())
        })
}

/// How long a thread waits for what it depends on before it is tried again.
const WAIT_FOR_DEPENDENCY: Duration = Duration::from_secs(2);

fn not_yet(reason: &str) -> SendError {
    SendError::NotYet {
        reason: reason.to_owned(),
        wait: WAIT_FOR_DEPENDENCY,
    }
}
