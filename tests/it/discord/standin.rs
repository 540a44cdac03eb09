//! A Discord stand-in on 127.0.0.1: the REST routes confbot uses and a gateway websocket.
//!
//! The bot reaches it through `discord.proxy_url` (serenity's proxy mode rewrites
//! `https://discord.com` to the stand-in's address), so the real app runs unchanged. Every
//! REST request is recorded (method, path, JSON body, attached files, arrival time); tests
//! wait for the one
//! they expect with [`StandIn::wait_for`], never with sleeps. Interactions are injected into
//! the gateway session with [`StandIn::send_interaction`].
//!
//! REST answers: `GET /gateway[/bot]` give the websocket URL; `PUT .../commands` returns `[]`
//! (serenity only needs a list); callbacks and deletes return 204; webhook posts and edits
//! return a message object; anything else is recorded and answered 404, so an unexpected
//! call shows up in the log of requests instead of silently succeeding.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use super::guilds::Guilds;
use super::messages::Messages;
use super::payloads;

/// How long a wait helper waits before failing the test.
pub const WAIT: Duration = Duration::from_secs(15);

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

/// A file attached to a recorded request.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub bytes: Vec<u8>,
}

impl Recorded {
    /// Whether this is `method` on exactly `path`.
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method.as_str() == method && self.path == path
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    /// Bumped on every recorded request, so waiters wake up.
    recorded: watch::Sender<usize>,
    /// The current gateway session's outbox (set once it has identified).
    session: watch::Sender<Option<mpsc::UnboundedSender<Value>>>,
    /// Identify payloads received, in order.
    identifies: Mutex<Vec<Value>>,
    next_message_id: Mutex<u64>,
    addr: Mutex<Option<SocketAddr>>,
    /// DM channels and channel messages (the reminder delivery routes).
    messages: Messages,
    /// Channels, roles and the bot's member (the bot's channel checks).
    guilds: Guilds,
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

    /// The guild side: which channels exist and where the bot may post.
    pub fn guilds(&self) -> &Guilds {
        &self.shared.guilds
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

    /// The identify payload of the first gateway session, once the bot has sent it.
    pub async fn wait_for_identify(&self) -> Value {
        let mut session = self.shared.session.subscribe();
        tokio::time::timeout(WAIT, session.wait_for(Option::is_some))
            .await
            .expect("the bot identifies on the gateway in time")
            .expect("stand-in alive");
        self.shared.identifies.lock().unwrap()[0].clone()
    }

    /// Sends an INTERACTION_CREATE dispatch into the gateway session (waiting for the bot to
    /// connect first). Returns when it is queued, and the instant it was.
    pub async fn send_interaction(&self, interaction: Value) -> Instant {
        self.wait_for_identify().await;
        let outbox = self.shared.session.borrow().clone().expect("a session");
        let sent = Instant::now();
        outbox.send(interaction).expect("gateway session open");
        sent
    }
}

/// Every REST call: recorded, then answered like Discord would (see the module docs).
async fn rest(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let (json_body, attachments) = read_body(&headers, &body);
    shared.requests.lock().unwrap().push(Recorded {
        method: method.clone(),
        path: path.clone(),
        body: json_body.clone(),
        attachments,
        at: Instant::now(),
    });
    shared.recorded.send_modify(|count| *count += 1);

    let segments: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    if let Some(response) = shared
        .messages
        .handle(method.as_str(), &segments, &json_body)
    {
        return response;
    }
    if let Some(response) = shared.guilds.handle(method.as_str(), &segments) {
        return response;
    }
    let ws_url = format!("ws://{}/ws", shared.addr.lock().unwrap().expect("address"));
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => Json(json!({"url": ws_url})).into_response(),
        ("GET", ["gateway", "bot"]) => Json(json!({"url": ws_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0,
                                    "max_concurrency": 1}}))
        .into_response(),
        ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => Json(json!([])).into_response(),
        ("POST", ["interactions", _, _, "callback"])
        | ("DELETE", ["webhooks", _, _, "messages", "@original"]) => {
            StatusCode::NO_CONTENT.into_response()
        }
        ("PATCH", ["webhooks", _, _, "messages", "@original"]) | ("POST", ["webhooks", _, _]) => {
            let id = {
                let mut next = shared.next_message_id.lock().unwrap();
                *next += 1;
                10_000 + *next
            };
            let field = |name: &str| json_body.get(name).cloned().unwrap_or(json!([]));
            let content = json_body["content"].as_str().unwrap_or_default();
            Json(payloads::message(
                id,
                content,
                &field("embeds"),
                &field("components"),
            ))
            .into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "404: Not Found (stand-in)", "code": 0})),
        )
            .into_response(),
    }
}

/// A request body: JSON, or `multipart/form-data` as serenity sends messages with files (a
/// `payload_json` part with the JSON and one `files[n]` part per file).
fn read_body(headers: &HeaderMap, body: &[u8]) -> (Value, Vec<Attachment>) {
    let boundary = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.starts_with("multipart/form-data"))
        .and_then(|value| parameter(value, "boundary"));
    let Some(boundary) = boundary else {
        return (
            serde_json::from_slice(body).unwrap_or(Value::Null),
            Vec::new(),
        );
    };
    let delimiter = format!("--{boundary}");
    let mut json = Value::Null;
    let mut files = Vec::new();
    // Parts sit between delimiters: CRLF, headers, a blank line, the content, CRLF. The
    // closing delimiter is followed by "--".
    for part in split(body, delimiter.as_bytes()).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(blank) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..blank]);
        let content = &part[blank + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let Some(disposition) = head.lines().find(|line| {
            line.to_ascii_lowercase()
                .starts_with("content-disposition:")
        }) else {
            continue;
        };
        match (
            parameter(disposition, "name").as_deref(),
            parameter(disposition, "filename"),
        ) {
            (Some("payload_json"), _) => {
                json = serde_json::from_slice(content).unwrap_or(Value::Null);
            }
            (_, Some(filename)) => files.push(Attachment {
                filename,
                bytes: content.to_vec(),
            }),
            _ => {}
        }
    }
    (json, files)
}

/// `key=value` or `key="value"` among a header value's `;`-separated parameters.
fn parameter(header: &str, key: &str) -> Option<String> {
    header.split(';').find_map(|item| {
        let (name, value) = item.trim().split_once('=')?;
        (name.eq_ignore_ascii_case(key)).then(|| value.trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn split<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(body, delimiter) {
        parts.push(&body[..at]);
        body = &body[at + delimiter.len()..];
    }
    parts.push(body);
    parts
}

async fn gateway(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| session(shared, socket))
}

/// One gateway session: Hello, then Identify -> READY, heartbeats acknowledged, injected
/// dispatches forwarded with increasing sequence numbers.
async fn session(shared: Arc<Shared>, mut socket: WebSocket) {
    // A long interval: tests are short, and serenity heartbeats on its own schedule anyway.
    if send(
        &mut socket,
        json!({"op": 10, "d": {"heartbeat_interval": 41_250}}),
    )
    .await
    .is_err()
    {
        return;
    }
    let (outbox, mut inbox) = mpsc::unbounded_channel::<Value>();
    let mut sequence = 0_u64;
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { return };
                let payload: Value = match frame {
                    WsMessage::Text(text) => serde_json::from_str(text.as_str()).unwrap_or(Value::Null),
                    WsMessage::Close(_) => return,
                    _ => continue,
                };
                let reply = match payload["op"].as_u64() {
                    Some(1) => Some(json!({"op": 11})),
                    Some(2) => {
                        shared.identifies.lock().unwrap().push(payload["d"].clone());
                        sequence += 1;
                        let resume = format!("ws://{}/ws", shared.addr.lock().unwrap().expect("address"));
                        let ready = payloads::ready("standin-session", &resume);
                        let dispatch = json!({"op": 0, "s": sequence, "t": "READY", "d": ready});
                        if send(&mut socket, dispatch).await.is_err() { return; }
                        shared.session.send_replace(Some(outbox.clone()));
                        None
                    }
                    // Resuming is not supported: "invalid session, identify anew".
                    Some(6) => Some(json!({"op": 9, "d": false})),
                    _ => None,
                };
                if let Some(reply) = reply {
                    if send(&mut socket, reply).await.is_err() { return; }
                }
            }
            Some(interaction) = inbox.recv() => {
                sequence += 1;
                let dispatch = json!({"op": 0, "s": sequence, "t": "INTERACTION_CREATE", "d": interaction});
                if send(&mut socket, dispatch).await.is_err() { return; }
            }
        }
    }
}

async fn send(socket: &mut WebSocket, payload: Value) -> Result<(), axum::Error> {
    socket
        .send(WsMessage::Text(payload.to_string().into()))
        .await
}
