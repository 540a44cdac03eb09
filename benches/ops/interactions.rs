//! `CONFBOT_BENCH_OPS=interactions`: the release `confbot serve-interactions` replica, with
//! requests signed as Discord signs them:
//! 1. startup to ready: from spawning the process to the first signed `/help` answered (the
//!    request is retried every millisecond until the listener accepts), over several starts;
//! 2. `CONFBOT_BENCH_REQUESTS` (default 1,000) sequential signed `/help` on one keep-alive
//!    connection: signature check, parsing, routing, the reply serialised;
//! 3. as many requests with a bad signature (refused with 401): what a flood costs;
//! 4. VmRSS idle afterwards.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use ed25519_dalek::{Signer, SigningKey};

use super::payloads;
use super::stats::Samples;
use super::{clean_command, memory, migrate, print_latencies, standin, terminate, STARTS};

pub async fn bench(binary: &Path, url: &str) -> anyhow::Result<()> {
    let requests: usize = std::env::var("CONFBOT_BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    migrate(binary, url).await?;
    let key = SigningKey::from_bytes(&[11; 32]);
    let client = reqwest::Client::builder().no_proxy().build()?;
    let mut startup = Samples::default();
    let mut answered = Samples::default();
    let mut refused = Samples::default();
    let mut idle_rss = 0;
    for start in 0..STARTS {
        let mut replica = Replica::spawn(binary, url, &key).await?;
        let id = format!("first-{start}");
        let first = signed(&key, &payloads::slash(1, &id, "help", &[]));
        loop {
            match post(&client, replica.port, &first).await {
                Ok(200) => break,
                Ok(status) => bail!("the first /help got {status}"),
                Err(_not_listening_yet) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
            if replica.spawned.elapsed() > Duration::from_secs(30) {
                bail!("serve-interactions did not answer within 30 s");
            }
        }
        startup.push(replica.spawned.elapsed());
        if start == 0 {
            for n in 0..requests {
                let token = format!("bench-{n}");
                let request = signed(&key, &payloads::slash(n as u64 + 10, &token, "help", &[]));
                let took = Instant::now();
                let status = post(&client, replica.port, &request).await?;
                answered.push(took.elapsed());
                anyhow::ensure!(status == 200, "/help got {status}");
            }
            let impostor = SigningKey::from_bytes(&[12; 32]);
            for n in 0..requests {
                let token = format!("forged-{n}");
                let request = signed(&impostor, &payloads::slash(n as u64, &token, "help", &[]));
                let took = Instant::now();
                let status = post(&client, replica.port, &request).await?;
                refused.push(took.elapsed());
                anyhow::ensure!(status == 401, "a forged request got {status}");
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            idle_rss = memory(replica.pid, "VmRSS")?;
        }
        replica.stop().await?;
    }

    println!("\n## confbot serve-interactions ({STARTS} starts, {requests} requests)\n");
    print_latencies(&[
        ("startup to first signed command answered", &startup),
        ("signed `/help` answered (keep-alive)", &answered),
        ("bad signature refused with 401", &refused),
    ]);
    println!("\nRSS idle (after the requests, 2 s quiet): {idle_rss} kB");
    Ok(())
}

/// One request as Discord sends it: body, timestamp and signature.
struct Signed {
    body: Vec<u8>,
    timestamp: String,
    signature: String,
}

fn signed(key: &SigningKey, interaction: &serde_json::Value) -> Signed {
    let body = serde_json::to_vec(interaction).unwrap_or_default();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let message = [timestamp.as_bytes(), &body].concat();
    let signature = key
        .sign(&message)
        .to_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Signed {
        body,
        timestamp,
        signature,
    }
}

async fn post(client: &reqwest::Client, port: u16, request: &Signed) -> anyhow::Result<u16> {
    let response = client
        .post(format!("http://127.0.0.1:{port}/interactions"))
        .header("content-type", "application/json")
        .header("x-signature-ed25519", &request.signature)
        .header("x-signature-timestamp", &request.timestamp)
        .body(request.body.clone())
        .send()
        .await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
}

/// A running replica listening on `port`.
struct Replica {
    child: tokio::process::Child,
    pid: u32,
    port: u16,
    spawned: Instant,
    _standin: standin::StandIn,
}

impl Replica {
    async fn spawn(binary: &Path, url: &str, key: &SigningKey) -> anyhow::Result<Replica> {
        // REST after the first response (registration at start) goes to the stand-in.
        let standin = standin::StandIn::start().await;
        // A free port: bound, read, released (nothing else on this machine races for it).
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let public_key: String = key
            .verifying_key()
            .to_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let mut command = clean_command(binary);
        let spawned = Instant::now();
        let child = command
            .args([
                "serve-interactions",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env_remove("RUST_LOG")
            .env("DISCORD_TOKEN", "stand-in-token")
            .env("DISCORD_PUBLIC_KEY", public_key)
            .env(
                "CONFBOT__DISCORD__APPLICATION_ID",
                payloads::APP_ID.to_string(),
            )
            .env("DATABASE_URL", url)
            .env("CONFBOT__DISCORD__PROXY_URL", standin.url())
            .env(
                "CONFBOT__DISCORD__GUILD_IDS",
                format!("[{}]", payloads::GUILD_ID),
            )
            .env("CONFBOT__LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting confbot serve-interactions")?;
        let pid = child.id().context("confbot exited at once")?;
        Ok(Replica {
            child,
            pid,
            port,
            spawned,
            _standin: standin,
        })
    }

    async fn stop(&mut self) -> anyhow::Result<()> {
        terminate(&mut self.child, self.pid, "confbot serve-interactions").await
    }
}
