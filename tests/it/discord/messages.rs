//! The stand-in's message delivery side: DM channels, channel messages with Discord's
//! nonce deduplication, and Discord's failure modes on demand (closed DMs, deleted
//! channels, global and per-route rate limits with 429 `retry_after`, 5xx storms).
//!
//! `POST /users/@me/channels {"recipient_id"}` opens (or returns) a user's DM channel;
//! `POST /channels/{id}/messages` creates a message unless the channel is a closed DM
//! (403, code 50007), a missing channel (404, code 10003), rate limited (429) or failing
//! on purpose (502). With `enforce_nonce` a repeated nonce in one channel returns the first
//! message and creates nothing, as Discord does within its window ("a few minutes": 3
//! minutes here unless a test sets another), and only then. Message ids are snowflakes of
//! the moment they were made; `GET /channels/{id}/messages?after=&limit=` reads them back,
//! newest first and without their nonce (Discord does not store it); `PATCH
//! /channels/{id}/messages/{id}` edits one (see `history`); `GET /users/@me` is
//! the bot. On demand a message is created and its answer held back (a request that times
//! out after Discord acted).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::payloads;
pub use super::ratelimits::Limits;
use super::ratelimits::RateLimits;
use super::responses::{error, message, too_many, with_bucket, Bucket};

// A path from this file's directory: the benches include this file by path too.
#[path = "messages/history.rs"]
mod history;
#[path = "messages/threads.rs"]
mod threads;
pub use threads::Thread;

/// How long Discord remembers a nonce: "a few minutes".
pub const NONCE_WINDOW: Duration = Duration::from_secs(180);
/// Discord's epoch (2015-01-01) in Unix milliseconds: snowflakes count from it.
const DISCORD_EPOCH_MS: u128 = 1_420_070_400_000;

/// DM channel ids start here, so they never collide with the guild channels tests use.
const FIRST_DM_CHANNEL: u64 = 9_000_000_000_000_000;

/// One message the stand-in created.
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel: u64,
    /// The user whose DM channel it went to; `None` for a guild channel.
    pub dm_user: Option<u64>,
    pub content: String,
    pub nonce: Option<String>,
    /// Its snowflake.
    pub id: u64,
    /// The whole JSON body as sent.
    pub body: Value,
    /// When the stand-in created it (wall clock, to compare with the outbox's due times).
    pub at: SystemTime,
}

/// What the stand-in counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Message POSTs received (including refused and deduplicated ones).
    pub attempts: usize,
    /// Messages created.
    pub created: usize,
    /// POSTs answered with an earlier message because their nonce was seen.
    pub deduplicated: usize,
    /// 429s sent (global or per route).
    pub rate_limited: usize,
    /// DM channel opens.
    pub dm_opens: usize,
}

/// A repeated nonce the stand-in answered with its first message.
#[derive(Debug, Clone)]
pub struct Repeat {
    pub nonce: String,
    /// How long after the first message was made: a client that repeats a send later than
    /// it trusts Discord to remember the nonce relied on luck.
    pub age: Duration,
}

#[derive(Default)]
pub(super) struct State {
    limits: RateLimits,
    dm_channels: HashMap<u64, u64>,
    /// DM channel -> user, the reverse of `dm_channels` (a fan-out has thousands).
    dm_users: HashMap<u64, u64>,
    closed_dms: HashSet<u64>,
    missing_channels: HashSet<u64>,
    /// The next this many message POSTs get a global 429 with this wait.
    storm: Option<(usize, Duration)>,
    /// The next this many message POSTs get a 502.
    server_errors: usize,
    /// The next this many reads of a channel's messages get a global 429 with this wait.
    read_storm: Option<(usize, Duration)>,
    /// (channel, nonce) -> the first message's id and when it was made.
    nonces: HashMap<(u64, String), (u64, Instant)>,
    /// How long a nonce is remembered (default [`NONCE_WINDOW`]).
    nonce_window: Option<Duration>,
    /// The next this many created messages are answered only after this long.
    hang: Option<(usize, Duration)>,
    posted: Vec<Posted>,
    /// Message id -> its content after the last edit (`history`).
    edited: HashMap<u64, String>,
    /// Messages someone deleted.
    deleted: HashSet<u64>,
    /// Messages the bot deleted: (channel, id).
    removed: Vec<(u64, u64)>,
    edits: Vec<history::Edit>,
    threads: std::collections::BTreeMap<u64, Thread>,
    repeats: Vec<Repeat>,
    counts: Counts,
    next_id: u64,
}

impl State {
    /// A global 429 (counted) when the last second already saw the allowed requests.
    fn global_limit(&mut self) -> Option<Response> {
        let limited = self.limits.global()?;
        self.counts.rate_limited += 1;
        Some(limited)
    }

    /// The channel's bucket after this message, or a route 429 (counted).
    fn route_bucket(&mut self, channel: u64) -> Result<Bucket, Box<Response>> {
        self.limits
            .channel(channel)
            .inspect_err(|_| self.counts.rate_limited += 1)
    }
}

/// The delivery side's state; shared by the stand-in's routes and the test.
#[derive(Default)]
pub struct Messages {
    state: Mutex<State>,
    /// Bumped on every created message, so waiters wake up.
    created: watch::Sender<usize>,
    /// Bumped on every edit.
    edit_count: watch::Sender<usize>,
}

impl Messages {
    /// Stricter limits than Discord's (never looser: a bot that passed against them could
    /// draw 429s from Discord).
    pub fn set_limits(&self, limits: Limits) {
        self.state.lock().unwrap().limits.set(limits);
    }

    /// The user has closed their DMs: messages to their DM channel get 403 / 50007.
    pub fn close_dms(&self, user: u64) {
        self.state.lock().unwrap().closed_dms.insert(user);
    }

    /// The user accepts DMs from the bot again.
    pub fn open_dms(&self, user: u64) {
        self.state.lock().unwrap().closed_dms.remove(&user);
    }

    /// The channel was deleted: messages to it get 404 / 10003.
    pub fn delete_channel(&self, channel: u64) {
        self.state.lock().unwrap().missing_channels.insert(channel);
    }

    /// The next `count` message POSTs get a global 429 asking to wait `retry_after`.
    pub fn storm(&self, count: usize, retry_after: Duration) {
        self.state.lock().unwrap().storm = Some((count, retry_after));
    }

    /// The next `count` reads of a channel's messages get a global 429 asking to wait
    /// `retry_after`.
    pub fn storm_reads(&self, count: usize, retry_after: Duration) {
        self.state.lock().unwrap().read_storm = Some((count, retry_after));
    }

    /// Nonces are remembered for `window` instead of [`NONCE_WINDOW`].
    pub fn set_nonce_window(&self, window: Duration) {
        self.state.lock().unwrap().nonce_window = Some(window);
    }

    /// The next `count` created messages are answered only after `delay`: a client with a
    /// shorter timeout sees a timeout although the message exists.
    pub fn hang_after_create(&self, count: usize, delay: Duration) {
        self.state.lock().unwrap().hang = Some((count, delay));
    }

    /// The next `count` message POSTs get a 502.
    pub fn fail_next(&self, count: usize) {
        self.state.lock().unwrap().server_errors = count;
    }

    /// Whether `channel` is a DM channel the stand-in opened.
    pub(super) fn is_dm_channel(&self, channel: u64) -> bool {
        self.state.lock().unwrap().dm_users.contains_key(&channel)
    }

    pub fn posted(&self) -> Vec<Posted> {
        self.state.lock().unwrap().posted.clone()
    }

    pub fn counts(&self) -> Counts {
        self.state.lock().unwrap().counts
    }

    /// Every repeated nonce answered with its first message, in order.
    pub fn repeats(&self) -> Vec<Repeat> {
        self.state.lock().unwrap().repeats.clone()
    }

    /// Waits until at least `count` messages were created; panics after `wait`.
    pub async fn wait_for_created(&self, count: usize, wait: Duration) -> Vec<Posted> {
        let mut created = self.created.subscribe();
        let reached = tokio::time::timeout(wait, created.wait_for(|n| *n >= count)).await;
        if reached.is_err() {
            let posted: Vec<String> = self
                .posted()
                .iter()
                .map(|p| format!("{} {:?}", p.channel, p.content))
                .collect();
            panic!(
                "{count} messages not created within {wait:?} ({:?}); created:\n{}",
                self.counts(),
                posted.join("\n")
            );
        }
        self.posted()
    }

    /// Answers a delivery route, or `None` when the request is not one.
    pub async fn handle(
        &self,
        method: &str,
        segments: &[&str],
        query: Option<&str>,
        body: &Value,
    ) -> Option<Response> {
        match (method, segments) {
            ("POST", ["users", "@me", "channels"]) => Some(self.open_dm(body)),
            ("GET", ["users", "@me"]) => {
                Some(Json(payloads::user(payloads::BOT_USER_ID, "confbot", true)).into_response())
            }
            ("POST", ["channels", channel, "messages"]) => {
                let channel = channel.parse().ok()?;
                let (response, delay) = self.create_message(channel, body);
                if let Some(delay) = delay {
                    tokio::time::sleep(delay).await;
                }
                Some(response)
            }
            ("GET", ["channels", channel, "messages"]) => {
                let channel = channel.parse().ok()?;
                Some(self.read_messages(channel, query.unwrap_or_default()))
            }
            ("PATCH", ["channels", channel, "messages", id]) => {
                Some(self.edit_message(channel.parse().ok()?, id.parse().ok()?, body))
            }
            ("POST", ["channels", channel, "messages", id, "threads"]) => {
                Some(self.start_thread(channel.parse().ok()?, id.parse().ok()?, body))
            }
            ("PATCH", ["channels", thread]) => self.change_thread(thread.parse().ok()?, body),
            ("DELETE", ["channels", channel, "messages", id]) => {
                Some(self.remove_message(channel.parse().ok()?, id.parse().ok()?))
            }
            _ => None,
        }
    }

    fn open_dm(&self, body: &Value) -> Response {
        let Some(user) = body["recipient_id"]
            .as_str()
            .and_then(|id| id.parse::<u64>().ok())
        else {
            return error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
        };
        let mut state = self.state.lock().unwrap();
        if let Some(limited) = state.global_limit() {
            return limited;
        }
        state.counts.dm_opens += 1;
        let next = FIRST_DM_CHANNEL + state.dm_channels.len() as u64;
        let channel = *state.dm_channels.entry(user).or_insert(next);
        state.dm_users.insert(channel, user);
        Json(
            json!({"id": channel.to_string(), "type": 1, "last_message_id": null,
                    "recipients": [{"id": user.to_string(), "username": "attendee",
                                    "discriminator": "0", "avatar": null}]}),
        )
        .into_response()
    }

    /// The answer, and how long to hold it back.
    fn create_message(&self, channel: u64, body: &Value) -> (Response, Option<Duration>) {
        let mut state = self.state.lock().unwrap();
        state.counts.attempts += 1;
        if let Some(limited) = state.global_limit() {
            return (limited, None);
        }
        if let Some((left, wait)) = state.storm {
            state.storm = (left > 1).then_some((left - 1, wait));
            state.counts.rate_limited += 1;
            return (too_many(wait, true), None);
        }
        if state.server_errors > 0 {
            state.server_errors -= 1;
            return (
                error(StatusCode::BAD_GATEWAY, 0, "stand-in: bad gateway"),
                None,
            );
        }
        let dm_user = state.dm_users.get(&channel).copied();
        if dm_user.is_some_and(|user| state.closed_dms.contains(&user)) {
            let closed = error(
                StatusCode::FORBIDDEN,
                50007,
                "Cannot send messages to this user",
            );
            return (closed, None);
        }
        if state.missing_channels.contains(&channel) {
            return (error(StatusCode::NOT_FOUND, 10003, "Unknown Channel"), None);
        }
        if let Some(archived) = threads::refuse_post(&state, channel) {
            return (archived, None);
        }
        let bucket = match state.route_bucket(channel) {
            Ok(bucket) => bucket,
            Err(limited) => return (*limited, None),
        };
        let nonce = body["nonce"].as_str().map(str::to_owned);
        let content = body["content"].as_str().unwrap_or_default().to_owned();
        let enforce = body["enforce_nonce"].as_bool().unwrap_or(false);
        let window = state.nonce_window.unwrap_or(NONCE_WINDOW);
        if let (true, Some(nonce)) = (enforce, &nonce) {
            if let Some((first, at)) = state.nonces.get(&(channel, nonce.clone())).copied() {
                let age = at.elapsed();
                if age < window {
                    state.counts.deduplicated += 1;
                    state.repeats.push(Repeat {
                        nonce: nonce.clone(),
                        age,
                    });
                    return (
                        with_bucket(message(first, channel, &content, body), bucket),
                        None,
                    );
                }
            }
        }
        let id = next_snowflake(&mut state);
        if let Some(nonce) = &nonce {
            state
                .nonces
                .insert((channel, nonce.clone()), (id, Instant::now()));
        }
        state.posted.push(Posted {
            channel,
            dm_user,
            content: content.clone(),
            nonce,
            id,
            body: body.clone(),
            at: SystemTime::now(),
        });
        state.counts.created += 1;
        let created = state.counts.created;
        let hang = state.hang.take();
        let delay = hang.map(|(left, delay)| {
            state.hang = (left > 1).then_some((left - 1, delay));
            delay
        });
        drop(state);
        self.created.send_replace(created);
        (
            with_bucket(message(id, channel, &content, body), bucket),
            delay,
        )
    }
}

/// A snowflake of this moment, above every earlier one.
fn next_snowflake(state: &mut State) -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis().saturating_sub(DISCORD_EPOCH_MS));
    let now = u64::try_from(since_epoch).unwrap_or(0) << 22;
    state.next_id = (state.next_id + 1).max(now);
    state.next_id
}
