//! Operations: what `/healthz` and `/metrics` report, for the platform's health check and
//! for Prometheus. The routes themselves are part of the web surface ([`crate::web`]).
//!
//! - [`health`]: what "healthy" means (database, every gateway shard of the process, delivery
//!   loop), decided purely.
//! - [`page`]: the metrics page, from the recorders of [`crate::discord::Telemetry`] and
//!   [`crate::jobs::Outcomes`] plus two cheap queries.

pub mod health;
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

/// Binds the listener of the operations routes (before anything else starts, so a taken
/// port fails the start).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    crate::web::bind(addr, "web.listen").await
}

/// Serves `/healthz` and `/metrics` alone on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    ops: Arc<Ops>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let site = crate::web::Site {
        ops: Some(ops),
        ..crate::web::Site::default()
    };
    crate::web::serve(vec![listener], site.router(), shutdown).await;
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
