//! The scale-out deployment as built binaries on one database: a `confbot serve-interactions`
//! replica answers a signed `/subscribe` over HTTP, and a `confbot run --no-gateway` worker
//! (which never connects to the gateway) delivers the reminder that subscription asked for.

use chrono::{DurationRound, TimeDelta, Utc};
use ed25519_dalek::SigningKey;
use serde_json::Value;

use super::bot_env;
use super::endpoint::{hex, post, sign};
use super::payloads::{self, APP_ID, USER_ID};
use super::standin::StandIn;
use crate::harness::TestDb;
use crate::ops::get;
use crate::process::{confbot, Process};
use crate::reminders::{ics, import, Talk, SLUG, WAIT};

#[tokio::test]
async fn an_http_replica_answers_the_subscription_and_a_gatewayless_worker_delivers_it() {
    let db = TestDb::new().await;
    let now = Utc::now()
        .duration_trunc(TimeDelta::seconds(1))
        .expect("trunc");
    // The reminder (10 minutes ahead) falls due a few seconds after the start.
    let talk = Talk {
        uid: "replica-talk",
        title: "Stateless Replicas in Practice",
        room: "Barn",
        start: now + TimeDelta::minutes(10) + TimeDelta::seconds(5),
        cancelled: false,
    };
    import(&db.pool, &ics(&[talk])).await;
    let standin = StandIn::start().await;
    let key = SigningKey::from_bytes(&[9; 32]);
    let common = |command: &mut tokio::process::Command| {
        command
            .envs(bot_env(&db, &standin, SLUG))
            .env("CONFBOT__DISCORD__APPLICATION_ID", APP_ID.to_string());
    };
    let mut replica = confbot();
    common(&mut replica);
    replica
        .args(["serve-interactions", "--listen", "127.0.0.1:0"])
        // The operations port of before the web surface was one: served too, for now.
        .env("CONFBOT__HTTP__LISTEN", "127.0.0.1:0")
        .env("DISCORD_PUBLIC_KEY", hex(&key.verifying_key().to_bytes()));
    let mut replica = Process::spawn_json(&mut replica, WAIT);
    let mut worker = confbot();
    common(&mut worker);
    worker
        .args(["run", "--no-gateway"])
        .env("CONFBOT__WEB__LISTEN", "127.0.0.1:0");
    let mut worker = Process::spawn_json(&mut worker, WAIT);
    let endpoint = replica.bound("web surface listening (--listen)").await;
    let replica_ops = replica.bound("web surface listening (http.listen)").await;
    let worker_ops = worker.bound("web surface listening (web.listen)").await;

    let subscribe = payloads::slash(
        950,
        "token-950",
        "subscribe",
        &[("talk", "stateless replicas")],
    );
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let url = format!("http://{endpoint}/interactions");
    standin.interactions().answered_over_http(&subscribe);
    let request = sign(&key, &subscribe, Utc::now().timestamp());
    let (status, body) = post(&client, &url, &request).await;
    let reminder = standin.messages().wait_for_created(1, WAIT).await.remove(0);
    let replica_health = get(replica_ops, "/healthz").await;
    // One listener serves the replica's whole web surface: interactions and operations.
    assert_eq!(get(endpoint, "/healthz").await, replica_health);
    let worker_health = get(worker_ops, "/healthz").await;
    let (_, worker_metrics) = get(worker_ops, "/metrics").await;
    let replica = replica.stop().await;
    let worker = worker.stop().await;
    let (replica_exit, replica_log) = (replica.code, replica.log());
    let (worker_exit, worker_log) = (worker.code, worker.log());

    assert_eq!(status, 200, "{body}\n{replica_log}");
    let answer: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(answer["type"], 4);
    let text = answer["data"]["content"].as_str().unwrap_or_default();
    assert!(text.contains("Stateless Replicas in Practice"), "{text}");
    assert_eq!(reminder.dm_user, Some(USER_ID), "{reminder:?}");
    assert!(
        reminder.content.contains("Stateless Replicas in Practice"),
        "{}",
        reminder.content
    );
    // Neither process needs the gateway, and their health says so.
    assert_eq!(replica_health, (200, "ok\n".to_owned()));
    assert_eq!(worker_health, (200, "ok\n".to_owned()));
    assert!(
        !worker_metrics.contains("confbot_gateway_connected"),
        "no gateway, no gateway gauge: {worker_metrics}"
    );
    assert!(worker_metrics.contains("confbot_deliveries_total"));
    let gateway = standin
        .requests()
        .iter()
        .any(|r| r.path.contains("/gateway"));
    assert!(!gateway, "nothing asked for the gateway");
    assert_eq!(replica_exit, Some(0), "{replica_log}");
    assert_eq!(worker_exit, Some(0), "{worker_log}");
    for log in [&replica_log, &worker_log] {
        assert!(!log.contains("stand-in-token"), "the token is never logged");
        assert!(!log.contains(&db.url), "the database URL is never logged");
    }
}
