//! The operations endpoint of `confbot run` (`[http] listen`): `GET /healthz` and
//! `GET /metrics` for the platform's health check and for Prometheus.
//!
//! - [`health`]: what "healthy" means (database, every gateway shard of the process, delivery
//!   loop), decided purely.
//! - [`page`]: the metrics page, from the recorders of [`crate::discord::Telemetry`] and
//!   [`crate::jobs::Outcomes`] plus two cheap queries.
//! - [`http`]: a minimal HTTP/1.1 responder on tokio. Two GET routes with no bodies do not
//!   justify a server framework as a normal dependency (axum stays a dev-dependency).

pub mod health;
mod http;
pub mod page;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::discord::Telemetry;
use crate::jobs::Outcomes;

/// How long a database query of a probe or a scrape may take: a health check that hangs
/// is worse than one that says "unreachable".
pub const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connections answered at once (a scraper and a health checker need one each).
const MAX_CONNECTIONS: usize = 64;

/// Everything the endpoint reads.
pub struct Ops {
    pub pool: PgPool,
    pub telemetry: Arc<Telemetry>,
    pub outcomes: Arc<Outcomes>,
    /// Discord's 401/403/429 answers to the delivery sender.
    pub invalid: Arc<crate::discord::invalid::InvalidRequests>,
    /// The delivery loop counts as stuck when it has not looked at the outbox for this
    /// long (it does at least every `max_sleep`; `confbot run` allows twice that).
    pub delivery_stale_after: Duration,
    /// What this process runs, so health only judges those parts.
    pub parts: Parts,
}

/// The parts of confbot a process runs: `confbot run` all of them, `confbot
/// serve-interactions` neither the gateway nor the delivery loop (its replicas answer
/// commands; workers deliver).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub gateway: bool,
    pub delivery: bool,
}

impl Parts {
    /// `confbot run`.
    pub const ALL: Self = Self {
        gateway: true,
        delivery: true,
    };
    /// `confbot serve-interactions`.
    pub const INTERACTIONS: Self = Self {
        gateway: false,
        delivery: false,
    };
}

/// Binds the listener (before anything else starts, so a taken port fails the start).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (http.listen)"))?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(%bound, "operations endpoint listening (/healthz, /metrics)");
    Ok(listener)
}

/// Answers requests on `listener` until `shutdown` completes; then stops accepting and
/// drops the connections still open (each is one short request).
pub async fn serve(listener: TcpListener, ops: Arc<Ops>, shutdown: impl Future<Output = ()>) {
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                // Each connection is held for at most the read timeout; past the cap a new one
                // is closed at once, so idle clients cannot pile up tasks.
                Ok((stream, _peer)) if connections.len() < MAX_CONNECTIONS => {
                    connections.spawn(http::answer(stream, Arc::clone(&ops)));
                }
                Ok((stream, peer)) => {
                    tracing::warn!(%peer, "operations endpoint: too many connections, refused");
                    drop(stream);
                }
                // Out of file descriptors and the like: the next accept may work.
                Err(error) => tracing::warn!("operations endpoint: accept failed: {error}"),
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// `confbot healthcheck`: GETs `/healthz` at `addr` (an unspecified address such as
/// `0.0.0.0` means this host's loopback). Ok with the body on 200, else an error naming
/// the status and the reasons.
pub async fn check(addr: SocketAddr) -> anyhow::Result<String> {
    let mut target = addr;
    if target.ip().is_unspecified() {
        let loopback: std::net::IpAddr = if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        target.set_ip(loopback);
    }
    let url = format!("http://{target}/healthz");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()?;
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("no answer from {url}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "{url}: {status}: {}", body.trim());
    Ok(body)
}
