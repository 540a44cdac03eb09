//! The stand-in's gateway websocket: Hello, Identify -> READY (unless held back), heartbeats
//! acknowledged, and the dispatches a test injects forwarded with increasing sequence
//! numbers. A shard may have several sessions at once, as Discord allows: each receives every
//! event of its shard.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::payloads;
use super::standin::Shared;

/// A gateway session that is READY: its shard and where its dispatches go.
#[derive(Clone)]
pub(super) struct Session {
    pub total: u64,
    pub outbox: mpsc::UnboundedSender<Outgoing>,
}

/// What a test sends into a session.
pub(super) enum Outgoing {
    /// An INTERACTION_CREATE with this payload.
    Interaction(Value),
    /// Close the connection as Discord does when it drops one (the bot reconnects).
    Close,
}

/// An identify's `shard` [id, total]; [0, 1] when it has none (an unsharded bot).
pub(super) fn shard_field(identify: &Value) -> [u64; 2] {
    match identify["shard"].as_array().map(Vec::as_slice) {
        Some([id, total]) => [id.as_u64().unwrap_or(0), total.as_u64().unwrap_or(1)],
        _ => [0, 1],
    }
}

pub(super) async fn gateway(
    State(shared): State<Arc<Shared>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| session(shared, socket))
}

/// One gateway session: Hello, then Identify -> READY (unless held), heartbeats
/// acknowledged, injected dispatches forwarded with increasing sequence numbers. Once it ends
/// its shard has no session until the bot identifies again.
async fn session(shared: Arc<Shared>, mut socket: WebSocket) {
    let (outbox, inbox) = mpsc::unbounded_channel::<Outgoing>();
    let shard = serve(&shared, &mut socket, &outbox, inbox).await;
    if let Some(shard) = shard {
        shared.sessions.send_if_modified(|sessions| {
            let Some(open) = sessions.get_mut(&shard) else {
                return false;
            };
            let before = open.len();
            open.retain(|session| !session.outbox.same_channel(&outbox));
            let removed = open.len() < before;
            if open.is_empty() {
                sessions.remove(&shard);
            }
            removed
        });
    }
}

/// Runs the session until the socket closes; returns the shard it identified as.
async fn serve(
    shared: &Shared,
    socket: &mut WebSocket,
    outbox: &mpsc::UnboundedSender<Outgoing>,
    mut inbox: mpsc::UnboundedReceiver<Outgoing>,
) -> Option<u64> {
    // A long interval: tests are short, and serenity heartbeats on its own schedule anyway.
    let hello = json!({"op": 10, "d": {"heartbeat_interval": 41_250}});
    if send(socket, hello).await.is_err() {
        return None;
    }
    let mut held = shared.held.subscribe();
    let mut sequence = 0_u64;
    // [id, total] once identified; `ready` once its READY went out.
    let mut shard: Option<[u64; 2]> = None;
    let mut ready = false;
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { return shard.map(|[id, _]| id) };
                let payload: Value = match frame {
                    WsMessage::Text(text) => serde_json::from_str(text.as_str()).unwrap_or(Value::Null),
                    WsMessage::Close(_) => return shard.map(|[id, _]| id),
                    _ => continue,
                };
                let reply = match payload["op"].as_u64() {
                    Some(1) => Some(json!({"op": 11})),
                    Some(2) => {
                        let identified = shard_field(&payload["d"]);
                        shard = Some(identified);
                        shared.identifies.send_modify(|all| all.push(payload["d"].clone()));
                        None
                    }
                    // Resuming is not supported: "invalid session, identify anew".
                    Some(6) => Some(json!({"op": 9, "d": false})),
                    _ => None,
                };
                if let Some(reply) = reply {
                    if send(socket, reply).await.is_err() { return shard.map(|[id, _]| id); }
                }
            }
            Ok(()) = held.changed(), if shard.is_some() && !ready => {}
            Some(outgoing) = inbox.recv(), if ready => {
                let Outgoing::Interaction(interaction) = outgoing else {
                    let close = CloseFrame { code: 4000, reason: "stand-in: dropped".into() };
                    let _ = socket.send(WsMessage::Close(Some(close))).await;
                    return shard.map(|[id, _]| id);
                };
                sequence += 1;
                let dispatch = json!({"op": 0, "s": sequence, "t": "INTERACTION_CREATE", "d": interaction});
                if send(socket, dispatch).await.is_err() { return shard.map(|[id, _]| id); }
            }
        }
        // READY once identified and not held back (checked after every event, so a release
        // sends it).
        if let (Some([id, total]), false) = (shard, ready) {
            if !held.borrow_and_update().contains(&id) {
                sequence += 1;
                let resume = format!("ws://{}/ws", shared.addr.lock().unwrap().expect("address"));
                let mut body = payloads::ready("standin-session", &resume);
                body["shard"] = json!([id, total]);
                let dispatch = json!({"op": 0, "s": sequence, "t": "READY", "d": body});
                // Registered before READY goes out: a client that has READY can be sent to
                // (what is queued meanwhile follows READY).
                shared.sessions.send_modify(|sessions| {
                    sessions.entry(id).or_default().push(Session {
                        total,
                        outbox: outbox.clone(),
                    });
                });
                if send(socket, dispatch).await.is_err() {
                    return Some(id);
                }
                ready = true;
            }
        }
    }
}

async fn send(socket: &mut WebSocket, payload: Value) -> Result<(), axum::Error> {
    socket
        .send(WsMessage::Text(payload.to_string().into()))
        .await
}
