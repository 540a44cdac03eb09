//! The stand-in's gateway keeps Discord's rules for sessions: two sessions of one shard both
//! receive every interaction, and an interaction that finds its shard without a session
//! fails instead of waiting for the bot.

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::payloads;
use super::standin::{StandIn, TOKEN, WAIT};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The next dispatch or opcode the stand-in sends (heartbeat acks skipped).
async fn next(socket: &mut Socket) -> Value {
    let read = async {
        while let Some(frame) = socket.next().await {
            if let Message::Text(text) = frame.expect("a frame") {
                let payload: Value = serde_json::from_str(text.as_str()).expect("JSON");
                if payload["op"] != 11 {
                    return payload;
                }
            }
        }
        panic!("the stand-in closed the session");
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("a frame in time")
}

/// A session of shard 0 of 1, READY.
async fn session(standin: &StandIn) -> Socket {
    let url = standin.url().replacen("http://", "ws://", 1) + "/ws";
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    assert_eq!(next(&mut socket).await["op"], 10, "Hello first");
    let identify = json!({"op": 2, "d": {"token": TOKEN, "intents": 1, "properties": {}}});
    let sent = socket
        .send(Message::Text(identify.to_string().into()))
        .await;
    sent.expect("identify sent");
    assert_eq!(next(&mut socket).await["t"], "READY");
    socket
}

#[tokio::test]
async fn both_sessions_of_a_shard_receive_an_interaction_and_none_is_kept_for_later() {
    let standin = StandIn::start().await;
    let mut first = session(&standin).await;
    let mut second = session(&standin).await;
    standin.wait_for_sessions(0, 2).await;

    let delivered = standin.send_interaction_now(payloads::slash(1, "both", "help", &[]));
    let to_first = next(&mut first).await;
    let to_second = next(&mut second).await;

    first.close(None).await.expect("first closed");
    standin.wait_for_sessions(0, 1).await;
    let to_the_one_left = standin.send_interaction_now(payloads::slash(2, "one", "help", &[]));
    let to_second_again = next(&mut second).await;
    second.close(None).await.expect("second closed");
    standin.wait_for_sessions(0, 0).await;
    let to_none = standin.send_interaction_now(payloads::slash(3, "none", "help", &[]));

    assert_eq!(delivered.map(|d| d.sessions), Some(2));
    for received in [&to_first, &to_second] {
        assert_eq!(received["t"], "INTERACTION_CREATE");
        assert_eq!(received["d"]["token"], "both");
    }
    assert_eq!(to_the_one_left.map(|d| d.sessions), Some(1));
    assert_eq!(to_second_again["d"]["token"], "one");
    assert!(to_none.is_none(), "no session: the interaction fails");
}
