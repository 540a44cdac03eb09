//! `confbot serve-interactions`: Discord's HTTP interactions, signed with a test key the
//! way Discord signs them, against the real endpoint on 127.0.0.1 (REST calls after the
//! first response go to the stand-in).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use confbot::discord::Telemetry;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::payloads::{self, APP_ID, GUILD_ID};
use super::standin::{StandIn, WAIT};
use super::{live_db, lock_imports, patches, settings, CONFERENCE, ORCHESTRATOR};
use crate::harness::TestDb;

/// An endpoint replica, its stand-in and database, and the key Discord would sign with.
struct Replica {
    url: String,
    key: SigningKey,
    standin: StandIn,
    db: TestDb,
    telemetry: Arc<Telemetry>,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The headers and body of one request.
pub struct Signed {
    signature: String,
    timestamp: String,
    body: Vec<u8>,
}

impl Replica {
    async fn start(extra_env: &[(&str, &str)]) -> Replica {
        let (db, _) = live_db(ORCHESTRATOR).await;
        let standin = StandIn::start().await;
        let key = SigningKey::from_bytes(&[42; 32]);
        let public_key: String = hex(&key.verifying_key().to_bytes());
        let app_id = APP_ID.to_string();
        let mut env = vec![
            ("DISCORD_PUBLIC_KEY", public_key.as_str()),
            ("CONFBOT__DISCORD__APPLICATION_ID", app_id.as_str()),
        ];
        env.extend_from_slice(extra_env);
        let settings = settings(&db, &standin, CONFERENCE, &env);
        let pool = confbot::store::connect(&db.url, 5).await.expect("pool");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://{}/interactions",
            listener.local_addr().expect("addr")
        );
        let telemetry = Arc::new(Telemetry::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let recorder = Arc::clone(&telemetry);
        let served = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            confbot::discord::endpoint::serve(&settings, pool, listener, recorder, shutdown).await
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(WAIT)
            .build()
            .expect("client");
        Replica {
            url,
            key,
            standin,
            db,
            telemetry,
            client,
            stop: Some(stop),
            served,
        }
    }

    /// `interaction` signed now, as Discord sends it.
    fn sign(&self, interaction: &Value) -> Signed {
        self.sign_at(interaction, Utc::now().timestamp())
    }

    fn sign_at(&self, interaction: &Value, unix: i64) -> Signed {
        // Discord sends it now: its reply will be the acknowledgement.
        self.standin.interactions().answered_over_http(interaction);
        sign(&self.key, interaction, unix)
    }

    async fn post(&self, request: &Signed) -> (u16, String) {
        post(&self.client, &self.url, request).await
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, &mut self.served)
            .await
            .expect("the endpoint stops in time")
            .expect("no panic")
            .expect("a clean stop");
    }
}

/// `interaction` as Discord sends it at `unix`: signed over timestamp + body.
pub fn sign(key: &SigningKey, interaction: &Value, unix: i64) -> Signed {
    let body = serde_json::to_vec(interaction).expect("json");
    let timestamp = unix.to_string();
    let message = [timestamp.as_bytes(), &body].concat();
    Signed {
        signature: hex(&key.sign(&message).to_bytes()),
        timestamp,
        body,
    }
}

/// POSTs a signed request; the status and body of the answer.
pub async fn post(client: &reqwest::Client, url: &str, request: &Signed) -> (u16, String) {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-signature-ed25519", &request.signature)
        .header("x-signature-timestamp", &request.timestamp)
        .body(request.body.clone())
        .send()
        .await
        .expect("the endpoint answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn ping() -> Value {
    json!({"id": "900", "application_id": APP_ID.to_string(), "type": 1,
           "token": "ping-token", "version": 1})
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"))
}

#[tokio::test]
async fn a_ping_is_answered_with_a_pong() {
    let replica = Replica::start(&[]).await;

    let (status, body) = replica.post(&replica.sign(&ping())).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(json_of(&body), json!({"type": 1}));
    replica.stop().await;
}

#[tokio::test]
async fn a_request_with_a_bad_or_missing_signature_is_refused_with_401() {
    let replica = Replica::start(&[]).await;
    let command = payloads::slash(901, "token-901", "now", &[]);

    // Signed by someone else's key.
    let impostor = SigningKey::from_bytes(&[7; 32]);
    let mut forged = replica.sign(&command);
    let message = [forged.timestamp.as_bytes(), &forged.body].concat();
    forged.signature = hex(&impostor.sign(&message).to_bytes());
    let (status, body) = replica.post(&forged).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("signature does not verify"), "{body}");

    // Discord's signature, but the body was changed on the way.
    let mut tampered = replica.sign(&command);
    tampered.body = serde_json::to_vec(&payloads::slash(901, "token-901", "next", &[])).unwrap();
    assert_eq!(replica.post(&tampered).await.0, 401);

    // No signature headers at all.
    let response = replica
        .client
        .post(&replica.url)
        .body(serde_json::to_vec(&ping()).unwrap())
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 401);

    assert_eq!(replica.telemetry.rejected(), 3);
    // Nothing of it reached the command logic: no answer went anywhere.
    let answered = replica
        .standin
        .requests()
        .iter()
        .any(|r| r.path.contains("token-901"));
    assert!(!answered, "a refused request was answered");
    replica.stop().await;
}

#[tokio::test]
async fn a_replayed_request_is_refused_with_401_whether_old_or_recent() {
    let replica = Replica::start(&[]).await;

    // Captured ten minutes ago and sent again now: the signature is genuine, the time is not.
    let old = replica.sign_at(&ping(), Utc::now().timestamp() - 600);
    let (status, body) = replica.post(&old).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("old"), "{body}");

    // A recent one sent twice: the second time it is a replay.
    let fresh = replica.sign(&payloads::slash(902, "token-902", "now", &[]));
    assert_eq!(replica.post(&fresh).await.0, 200);
    let (status, body) = replica.post(&fresh).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("already received"), "{body}");
    replica.stop().await;
}

#[tokio::test]
async fn a_real_command_is_answered_in_the_http_reply_with_mentions_off() {
    let replica = Replica::start(&[]).await;

    let request = replica.sign(&payloads::slash(
        903,
        "token-903",
        "talk",
        &[("query", "orchestrator")],
    ));
    let (status, body) = replica.post(&request).await;

    assert_eq!(status, 200, "{body}");
    let response = json_of(&body);
    assert_eq!(response["type"], 4, "a message: {response}");
    assert_eq!(response["data"]["embeds"][0]["title"], ORCHESTRATOR);
    assert_eq!(response["data"]["allowed_mentions"]["parse"], json!([]));
    // The first response went back in the reply, not as a REST callback.
    let callbacks = replica
        .standin
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/token-903/callback"))
        .count();
    assert_eq!(callbacks, 0);
    // The replica registered the commands in the configured guild on its own.
    let path = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
    replica
        .standin
        .wait_for("command registration", |r| r.is("PUT", &path))
        .await;
    replica.stop().await;
}

#[tokio::test]
async fn a_slow_answer_is_deferred_in_the_reply_and_edited_in_over_rest() {
    let replica = Replica::start(&[("CONFBOT__DISCORD__DEFER_AFTER_MS", "200")]).await;
    // The first programme load waits on this lock, so the answer cannot be ready in time.
    let blocker = lock_imports(&replica.db).await;

    let request = replica.sign(&payloads::slash(904, "token-904", "now", &[]));
    let (status, body) = replica.post(&request).await;
    let edits_while_locked = patches(&replica.standin);
    blocker.rollback().await.expect("release the lock");

    assert_eq!(status, 200, "{body}");
    let deferred = json_of(&body);
    assert_eq!(deferred["type"], 5, "a deferral: {deferred}");
    assert_eq!(
        deferred["data"]["flags"], 64,
        "/now is private, so is its placeholder"
    );
    assert_eq!(edits_while_locked, 0);
    let path = format!("/api/v10/webhooks/{APP_ID}/token-904/messages/@original");
    let edit = replica
        .standin
        .wait_for("the edit with the answer", |r| r.is("PATCH", &path))
        .await;
    let answer = edit.body["content"].as_str().unwrap_or_default();
    assert!(answer.contains(ORCHESTRATOR), "{answer}");
    assert_eq!(edit.body["allowed_mentions"]["parse"], json!([]));
    replica.stop().await;
}

#[tokio::test]
async fn the_endpoint_stops_on_shutdown_and_refuses_connections_afterwards() {
    let replica = Replica::start(&[]).await;
    let url = replica.url.clone();
    let client = replica.client.clone();
    assert_eq!(replica.post(&replica.sign(&ping())).await.0, 200);

    replica.stop().await;

    let after = tokio::time::timeout(Duration::from_secs(5), client.post(&url).send()).await;
    assert!(
        matches!(after, Ok(Err(_))),
        "the listener is closed after the stop: {after:?}"
    );
}
