//! `GET /healthz` and `GET /metrics` (HEAD too): the platform's health check and
//! Prometheus' scrape.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::CONTENT_TYPE;
use crate::ops::{health, page, Ops};

/// A probe's answer must never be cached by a proxy in between.
const NO_STORE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "no-store");

pub(super) fn routes(ops: Arc<Ops>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

async fn healthz(State(ops): State<Arc<Ops>>) -> Response {
    let probe = health::probe(&ops).await;
    let problems = health::problems(&probe, ops.delivery_stale_after);
    let (status, body) = if problems.is_empty() && probe.gateway.standby && ops.parts.gateway {
        (
            StatusCode::OK,
            "ok: standby (another process runs these gateway shards; this one takes over \
             when it stops)\n"
                .to_owned(),
        )
    } else if problems.is_empty() {
        (StatusCode::OK, "ok\n".to_owned())
    } else {
        // Logged too: the orchestrator may only keep the status code.
        tracing::warn!(problems = %problems.join("; "), "health check failed");
        (StatusCode::SERVICE_UNAVAILABLE, problems.join("\n") + "\n")
    };
    (status, [NO_STORE], body).into_response()
}

async fn metrics(State(ops): State<Arc<Ops>>) -> Response {
    let body = page::render(&ops).await;
    ([(header::CONTENT_TYPE, CONTENT_TYPE), NO_STORE], body).into_response()
}
