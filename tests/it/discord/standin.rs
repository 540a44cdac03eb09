//! A Discord stand-in on 127.0.0.1: the REST routes confbot uses and a gateway websocket.
//!
//! The bot reaches it through `discord.proxy_url` (serenity's proxy mode rewrites
//! `https://discord.com` to the stand-in's address), so the real app runs unchanged. Every
//! REST request is recorded (method, path, JSON body, attached files, arrival time); tests
//! wait for the one
//! they expect with [`StandIn::wait_for`], never with sleeps. Interactions are injected into
//! the gateway with [`StandIn::send_interaction`].
//!
//! The gateway ([`super::gateway`]) takes several sessions at once: each IDENTIFY's `shard`
//! ([id, total], [0, 1] when absent) is recorded and echoed in READY, and an interaction goes
//! to every session whose shard owns its guild by that session's own shard count, by
//! Discord's rule `(guild_id >> 22) % total` (direct messages to shard 0); as at Discord, a
//! shard may have two sessions, and
//! only the first answer to an interaction counts (the second gets 40060). An interaction
//! that finds its shard without a session fails ([`StandIn::send_interaction_now`]), as
//! Discord's "The application did not respond". [`StandIn::hold_ready`] keeps a shard's
//! READY back, so a test sees that shard identified but not connected.
//!
//! [`StandIn::set_latency`] holds every REST request back a random (seeded) time before it
//! is handled, as the network and a busy API do.
//!
//! REST answers: `GET /gateway[/bot]` give the websocket URL; `PUT .../commands` returns `[]`
//! (serenity only needs a list); callbacks and deletes return 204; webhook posts and edits
//! return a message object; anything else is recorded and answered 404, so an unexpected
//! call shows up in the log of requests instead of silently succeeding.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::Method;
use axum::routing::get;
use axum::serve::ListenerExt as _;
use axum::Router;
use serde_json::Value;
use tokio::sync::watch;

use super::gateway::{gateway, shard_field, Outgoing, Session};
use super::guilds::Guilds;
use super::interactions::Interactions;
use super::messages::Messages;
pub use super::multipart::Attachment;
use super::network::Network;

// The REST routes: a file of their own (a sibling on disk, so the benches that include this
// file by path find it too).
#[path = "standin_rest.rs"]
mod rest;
use rest::rest;

/// How long a wait helper waits before failing the test.
pub const WAIT: Duration = Duration::from_secs(15);
/// The bot token every REST request must carry (`Authorization: Bot ...`).
pub const TOKEN: &str = "stand-in-token";

/// One REST request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    /// Without the query string, e.g. `/api/v10/interactions/1/tok/callback`.
    pub path: String,
    /// The JSON body (`Value::Null` when there was none). For a `multipart/form-data`
    /// request (a message with files) it is the `payload_json` part.
    pub body: Value,
    /// The files of a `multipart/form-data` request (`files[n]` parts), in order.
    pub attachments: Vec<Attachment>,
    /// When it arrived.
    pub at: Instant,
}

impl Recorded {
    /// Whether this is `method` on exactly `path`.
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method.as_str() == method && self.path == path
    }
}

#[derive(Default)]
pub(super) struct Shared {
    pub(super) requests: Mutex<Vec<Recorded>>,
    /// Bumped on every recorded request, so waiters wake up.
    pub(super) recorded: watch::Sender<usize>,
    /// The connected gateway sessions by shard id, oldest first (added once READY is sent,
    /// removed when the session ends; a shard without any has no entry).
    pub(super) sessions: watch::Sender<BTreeMap<u64, Vec<Session>>>,
    /// Identify payloads received, in order.
    pub(super) identifies: watch::Sender<Vec<Value>>,
    /// Shards whose READY is held back (see [`StandIn::hold_ready`]).
    pub(super) held: watch::Sender<BTreeSet<u64>>,
    pub(super) addr: Mutex<Option<SocketAddr>>,
    /// DM channels and channel messages (the reminder delivery routes).
    pub(super) messages: Messages,
    /// Channels, roles and the bot's member (the bot's channel checks).
    pub(super) guilds: Guilds,
    /// Interaction tokens: callbacks, follow-ups and edits under Discord's rules.
    pub(super) interactions: Interactions,
    /// The buckets of the routes without one of their own.
    pub(super) routes: super::responses::RouteBuckets,
    /// The way to the stand-in: latency, and the requests under way.
    pub(super) network: Network,
}

/// An interaction the gateway took: when, and how many sessions it went to (two while a
/// bot hands its shards over from one process to another).
#[derive(Debug, Clone, Copy)]
pub struct Delivered {
    pub at: Instant,
    pub sessions: usize,
}

/// The shard that receives the events of `guild` (`None`: a direct message) when the bot
/// has `total` shards: Discord's `(guild_id >> 22) % num_shards`, DMs on shard 0.
pub fn shard_of(guild: Option<u64>, total: u64) -> u64 {
    guild.map_or(0, |guild| (guild >> 22) % total.max(1))
}

/// The running stand-in; stopped when dropped.
pub struct StandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
        // Whatever Discord would have refused fails the test, unless the test took it as
        // expected.
        let refused = self.shared.interactions.unexpected_refusals();
        if !refused.is_empty() && !std::thread::panicking() {
            panic!("the stand-in refused, as Discord would: {refused:#?}");
        }
    }
}

impl StandIn {
    /// Starts the stand-in on a free port of 127.0.0.1.
    pub async fn start() -> StandIn {
        let shared = Arc::new(Shared::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        *shared.addr.lock().unwrap() = Some(addr);
        let app = Router::new()
            .route("/ws", get(gateway))
            .fallback(rest)
            .with_state(Arc::clone(&shared));
        // As Discord's servers do: a frame or response leaves at once instead of waiting
        // (Nagle's algorithm) for the bot to acknowledge the previous one, which Linux
        // delays by up to 40 ms.
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                eprintln!("stand-in: TCP_NODELAY refused: {error}");
            }
        });
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("stand-in serves");
        });
        StandIn {
            addr,
            shared,
            server,
        }
    }

    /// The base URL to give the bot as `discord.proxy_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The delivery side: messages created, failure modes, rate limits.
    pub fn messages(&self) -> &Messages {
        &self.shared.messages
    }

    /// The interaction side: tokens, acknowledgements, refusals.
    pub fn interactions(&self) -> &Interactions {
        &self.shared.interactions
    }

    /// The guild side: which channels exist and where the bot may post.
    pub fn guilds(&self) -> &Guilds {
        &self.shared.guilds
    }

    /// Every REST request from now on waits a random time in `range` (drawn from a
    /// generator seeded with `seed`) before Discord acts on it, as a network and a busy API
    /// would make it.
    pub fn set_latency(&self, range: std::ops::Range<Duration>, seed: u64) {
        self.shared.network.set_latency(range, seed);
    }

    /// The most REST requests that were waiting for their answers at one moment.
    pub fn most_open_requests(&self) -> usize {
        self.shared.network.most_open()
    }

    /// Every REST request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The first request (already received or still to come) that satisfies `matches`.
    /// Panics with the requests seen so far after [`WAIT`].
    pub async fn wait_for(&self, what: &str, matches: impl Fn(&Recorded) -> bool) -> Recorded {
        let mut changed = self.shared.recorded.subscribe();
        let found = tokio::time::timeout(WAIT, async {
            loop {
                if let Some(hit) = self.requests().into_iter().find(|r| matches(r)) {
                    return hit;
                }
                changed.changed().await.expect("stand-in alive");
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            let seen: Vec<String> = self
                .requests()
                .iter()
                .map(|r| format!("{} {} {}", r.method, r.path, r.body))
                .collect();
            panic!(
                "no {what} within {WAIT:?}; requests seen:\n{}",
                seen.join("\n")
            )
        })
    }

    /// The identify payload of the first gateway session, once that session is READY.
    pub async fn wait_for_identify(&self) -> Value {
        let mut sessions = self.shared.sessions.subscribe();
        tokio::time::timeout(WAIT, sessions.wait_for(|sessions| !sessions.is_empty()))
            .await
            .expect("the bot identifies on the gateway in time")
            .expect("stand-in alive");
        self.identifies()[0].clone()
    }

    /// Every identify payload so far, in order (held ones included).
    pub fn identifies(&self) -> Vec<Value> {
        self.shared.identifies.borrow().clone()
    }

    /// The `shard` ([id, total]) of every identify so far, in order.
    pub fn identified_shards(&self) -> Vec<[u64; 2]> {
        self.identifies().iter().map(shard_field).collect()
    }

    /// Waits until shard `id` has a session READY.
    pub async fn wait_for_session(&self, id: u64) {
        self.wait_for_sessions_where(id, "a session", |count| count >= 1)
            .await;
    }

    /// Waits until shard `id` has exactly `count` sessions READY (0: until it has none).
    pub async fn wait_for_sessions(&self, id: u64, count: usize) {
        self.wait_for_sessions_where(id, &count.to_string(), |now| now == count)
            .await;
    }

    async fn wait_for_sessions_where(&self, id: u64, what: &str, enough: impl Fn(usize) -> bool) {
        let mut sessions = self.shared.sessions.subscribe();
        let waited = tokio::time::timeout(
            WAIT,
            sessions.wait_for(|sessions| enough(sessions.get(&id).map_or(0, Vec::len))),
        )
        .await;
        assert!(
            waited.is_ok(),
            "shard {id} has not {what} READY within {WAIT:?}; identified shards: {:?}",
            self.identified_shards()
        );
    }

    /// Identifies of shard `id` from now on get no READY until [`Self::release_ready`].
    pub fn hold_ready(&self, id: u64) {
        self.shared.held.send_modify(|held| {
            held.insert(id);
        });
    }

    /// Sends the READY held back for shard `id` (and answers its next identifies at once).
    pub fn release_ready(&self, id: u64) {
        self.shared.held.send_modify(|held| {
            held.remove(&id);
        });
    }

    /// Sends an INTERACTION_CREATE dispatch into every session of the shard owning the
    /// interaction's guild, once the bot has connected that shard: a user who waits for the
    /// bot to be online before typing. Returns when it is queued, and the instant it was.
    pub async fn send_interaction(&self, interaction: Value) -> Instant {
        // The shard count is the bot's: any session tells it.
        self.wait_for_identify().await;
        let shard = self.shard_of_interaction(&interaction);
        self.wait_for_session(shard.expect("a shard count")).await;
        let delivered = self.send_interaction_now(interaction);
        delivered.expect("a session of the shard").at
    }

    /// Sends an INTERACTION_CREATE dispatch now into every session that owns the
    /// interaction's guild by its own shard count. `None` when no session does: Discord fails
    /// the interaction ("The application did not respond") and never sends it later.
    pub fn send_interaction_now(&self, mut interaction: Value) -> Option<Delivered> {
        // As Discord does: the bot's permissions where the interaction happened.
        if interaction.get("app_permissions").is_some() && interaction["guild_id"].is_string() {
            interaction["app_permissions"] =
                Value::String(self.shared.guilds.bot_permissions().to_string());
        }
        let guild = interaction["guild_id"]
            .as_str()
            .map(|id| id.parse::<u64>().expect("a guild id"));
        // Each session by its own shard count, as Discord routes (two processes with
        // different counts during a resharding each get their own share).
        let owners: Vec<Session> = self
            .shared
            .sessions
            .borrow()
            .iter()
            .flat_map(|(&id, open)| {
                open.iter()
                    .filter(move |session| shard_of(guild, session.total) == id)
            })
            .cloned()
            .collect();
        if owners.is_empty() {
            return None;
        }
        let at = Instant::now();
        self.shared.interactions.sent(&interaction);
        for session in &owners {
            // A session ending right now: Discord's write to it would be lost the same way.
            let _ = session
                .outbox
                .send(Outgoing::Interaction(interaction.clone()));
        }
        Some(Delivered {
            at,
            sessions: owners.len(),
        })
    }

    /// The shard that receives `interaction` with the bot's shard count, which any session
    /// tells; `None` when no session is connected.
    fn shard_of_interaction(&self, interaction: &Value) -> Option<u64> {
        let guild = interaction["guild_id"]
            .as_str()
            .map(|id| id.parse::<u64>().expect("a guild id"));
        let sessions = self.shared.sessions.borrow();
        let total = sessions.values().flatten().next()?.total;
        Some(shard_of(guild, total))
    }

    /// Drops shard `id`'s connections (close code 4000, "unknown error": the bot
    /// reconnects and identifies anew, since resuming is refused). Returns once those
    /// sessions are gone.
    pub async fn disconnect(&self, id: u64) {
        let dropped = self.shared.sessions.borrow().get(&id).cloned();
        let dropped = dropped.unwrap_or_else(|| panic!("shard {id} has no session"));
        for session in &dropped {
            let _ = session.outbox.send(Outgoing::Close);
        }
        let mut sessions = self.shared.sessions.subscribe();
        let gone = sessions.wait_for(|sessions| {
            let open = sessions.get(&id).map_or(&[][..], Vec::as_slice);
            !open.iter().any(|now| {
                dropped
                    .iter()
                    .any(|old| now.outbox.same_channel(&old.outbox))
            })
        });
        assert!(
            tokio::time::timeout(WAIT, gone).await.is_ok(),
            "shard {id}'s session did not end"
        );
    }
}
