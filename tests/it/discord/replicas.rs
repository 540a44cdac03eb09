//! The scale-out deployment as built binaries on one database: a `confbot serve-interactions`
//! replica answers a signed `/subscribe` over HTTP, and a `confbot run --no-gateway` worker
//! (which never connects to the gateway) delivers the reminder that subscription asked for.

use std::net::SocketAddr;
use std::process::Stdio;

use chrono::{DurationRound, TimeDelta, Utc};
use ed25519_dalek::SigningKey;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::mpsc;

use super::binary::confbot;
use super::endpoint::{hex, post, sign};
use super::payloads::{self, APP_ID, USER_ID};
use super::standin::StandIn;
use crate::harness::TestDb;
use crate::ops::get;
use crate::reminders::{ics, import, Talk, SLUG, WAIT};

/// A started binary and its JSON log lines as they come.
struct Process {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    log: Vec<String>,
}

impl Process {
    fn spawn(command: &mut tokio::process::Command) -> Process {
        let mut child = command
            .env("CONFBOT__LOG__FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("confbot starts");
        let (sender, lines) = mpsc::unbounded_channel();
        let mut reader = BufReader::new(child.stderr.take().expect("piped")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = sender.send(line);
            }
        });
        Process {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// The address the listener logged with `message` bound to (in the log so far or in a
    /// line still to come).
    async fn bound(&mut self, message: &str) -> SocketAddr {
        let bound_in = |line: &str| -> Option<SocketAddr> {
            let entry = serde_json::from_str::<Value>(line).ok()?;
            let fields = &entry["fields"];
            let text = fields["message"].as_str()?;
            let bound = fields["bound"]
                .as_str()
                .filter(|_| text.starts_with(message))?;
            bound.parse().ok()
        };
        if let Some(addr) = self.log.iter().find_map(|line| bound_in(line)) {
            return addr;
        }
        let found = tokio::time::timeout(WAIT, async {
            while let Some(line) = self.lines.recv().await {
                self.log.push(line.clone());
                if let Some(addr) = bound_in(&line) {
                    return Some(addr);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(addr)) => addr,
            _ => panic!("no {message:?} line; log:\n{}", self.log.join("\n")),
        }
    }

    /// SIGTERM, then the exit code and the whole log.
    async fn stop(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().expect("running") as libc::pid_t;
        // SAFETY: signals the child this test started and still owns.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let exit = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("exits after SIGTERM")
            .expect("exit status");
        while let Some(line) = self.lines.recv().await {
            self.log.push(line);
        }
        (exit.code(), self.log.join("\n"))
    }
}

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
            .env("DISCORD_TOKEN", "stand-in-token")
            .env("DATABASE_URL", &db.url)
            .env("CONFBOT__DISCORD__PROXY_URL", standin.url())
            .env("CONFBOT__DISCORD__APPLICATION_ID", APP_ID.to_string())
            .env("CONFBOT__DEFAULTS__CONFERENCE", SLUG)
            .env("CONFBOT__HTTP__LISTEN", "127.0.0.1:0");
    };
    let mut replica = confbot();
    common(&mut replica);
    replica
        .args(["serve-interactions", "--listen", "127.0.0.1:0"])
        .env("DISCORD_PUBLIC_KEY", hex(&key.verifying_key().to_bytes()));
    let mut replica = Process::spawn(&mut replica);
    let mut worker = confbot();
    common(&mut worker);
    worker.args(["run", "--no-gateway"]);
    let mut worker = Process::spawn(&mut worker);
    let endpoint = replica.bound("interactions endpoint listening").await;
    let replica_ops = replica.bound("operations endpoint listening").await;
    let worker_ops = worker.bound("operations endpoint listening").await;

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
    let request = sign(&key, &subscribe, Utc::now().timestamp());
    let (status, body) = post(&client, &url, &request).await;
    let reminder = standin.messages().wait_for_created(1, WAIT).await.remove(0);
    let replica_health = get(replica_ops, "/healthz").await;
    let worker_health = get(worker_ops, "/healthz").await;
    let (_, worker_metrics) = get(worker_ops, "/metrics").await;
    let (replica_exit, replica_log) = replica.stop().await;
    let (worker_exit, worker_log) = worker.stop().await;

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
