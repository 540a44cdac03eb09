//! The one web surface: every HTTP route confbot serves, on axum.
//!
//! - [`ops`]: `/healthz` and `/metrics` (what they report lives in [`crate::ops`]).
//! - the interactions endpoint (`POST /interactions`), built by
//!   [`crate::discord::endpoint::routes`].
//! - [`feeds`]: the live calendar feeds (`/cal/<token>.ics`, `/c/<slug>.ics`).
//!
//! A process mounts the routes that apply to it ([`Site`]) on its listeners; every answer
//! carries the security headers of [`harden`], and a request that does not match any route
//! gets a plain 404.

pub mod feeds;
mod ops;
mod throttle;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

pub use throttle::Throttle;

/// How long a request may take before it is answered 408 (a database query of a probe has
/// its own, shorter timeout): a slow client or a stuck query must not hold a task forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the listeners wait for requests in progress once asked to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The routes a process serves.
#[derive(Default)]
pub struct Site {
    /// `/healthz` and `/metrics`.
    pub ops: Option<Arc<crate::ops::Ops>>,
    /// `POST /interactions`, already bound to its state.
    pub interactions: Option<axum::Router>,
    /// The calendar feeds.
    pub feeds: Option<Arc<feeds::Feeds>>,
}

/// Which of a site's routes a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Routes {
    ops: bool,
    interactions: bool,
    pages: bool,
}

impl Routes {
    const ALL: Self = Self {
        ops: true,
        interactions: true,
        pages: true,
    };

    /// What a listener named by `key` serves: `web.listen` and `--listen` everything; the
    /// old keys what they served before the surface was one (so a public interactions port
    /// of an old configuration does not start answering `/metrics`): `http.listen` the
    /// operations routes, `interactions.listen` the interactions and the public pages.
    fn of_key(key: &str) -> Self {
        match key {
            "http.listen" => Self {
                ops: true,
                interactions: false,
                pages: false,
            },
            "interactions.listen" => Self {
                ops: false,
                ..Self::ALL
            },
            _ => Self::ALL,
        }
    }
}

impl Site {
    /// The router of every route this site has, hardened.
    pub fn router(&self) -> axum::Router {
        self.routes(Routes::ALL)
    }

    /// Serves the site on `listeners` (each with the key that configured it, which decides
    /// its routes) until `shutdown` completes; the screens' event streams end then too.
    pub async fn serve(
        self,
        listeners: Vec<(TcpListener, &'static str)>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) {
        let served = listeners
            .into_iter()
            .map(|(listener, key)| (listener, self.routes(Routes::of_key(key))))
            .collect();
        let feeds = self.feeds.clone();
        let shutdown = async move {
            shutdown.await;
            if let Some(feeds) = feeds {
                feeds.close();
            }
        };
        serve_each(served, shutdown).await;
    }

    fn routes(&self, want: Routes) -> axum::Router {
        let mut app = axum::Router::new();
        if let Some(state) = self.ops.as_ref().filter(|_| want.ops) {
            app = app.merge(ops::routes(Arc::clone(state)));
        }
        if let Some(state) = self.feeds.as_ref().filter(|_| want.pages) {
            app = app.merge(feeds::routes(Arc::clone(state)));
        }
        let app =
            app.fallback(not_found)
                .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    REQUEST_TIMEOUT,
                ));
        // The interactions endpoint has its own 3 s deadline and body limit.
        let app = match self.interactions.as_ref().filter(|_| want.interactions) {
            Some(interactions) => app.merge(interactions.clone()),
            None => app,
        };
        harden(app)
    }
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "not found\n")
}

/// Headers on every answer: nothing confbot serves may be sniffed into another type, framed,
/// leak its URL (a calendar token) as a referrer, or run a script from anywhere but
/// confbot's own origin.
fn harden(app: axum::Router) -> axum::Router {
    let headers = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    headers.into_iter().fold(app, |app, (name, value)| {
        app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

/// Binds a listener (before anything else starts, so a taken port fails the start).
/// `setting` names the configuration key in the log line and in the error.
pub async fn bind(addr: SocketAddr, setting: &str) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({setting})"))?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(%bound, "web surface listening ({setting})");
    Ok(listener)
}

/// Binds every listener a command was configured with (see
/// [`crate::config::Settings::run_listeners`]), each with its key; an old key that was set
/// gets a warning to move to `web.listen`.
pub async fn bind_all(
    addrs: &[(SocketAddr, &'static str)],
) -> anyhow::Result<Vec<(TcpListener, &'static str)>> {
    let mut listeners = Vec::with_capacity(addrs.len());
    for (addr, key) in addrs {
        if matches!(*key, "http.listen" | "interactions.listen") {
            tracing::warn!(
                "{key} is an old name of web.listen, still served for this release with the \
                 routes it served before: move to web.listen"
            );
        }
        listeners.push((bind(*addr, key).await?, *key));
    }
    Ok(listeners)
}

/// Serves `app` on every listener until `shutdown` completes; then stops accepting, lets
/// requests in progress finish for at most [`SHUTDOWN_GRACE`] and returns.
pub async fn serve(
    listeners: Vec<TcpListener>,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let served = listeners
        .into_iter()
        .map(|listener| (listener, app.clone()))
        .collect();
    serve_each(served, shutdown).await;
}

/// [`serve`], each listener with its own router.
async fn serve_each(
    listeners: Vec<(TcpListener, axum::Router)>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut servers = tokio::task::JoinSet::new();
    for (listener, app) in listeners {
        let mut stopping = stopping.clone();
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        servers.spawn(async move {
            let stopped = async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            if let Err(error) = axum::serve(listener, service)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!("the web surface stopped: {error}");
            }
        });
    }
    shutdown.await;
    let _ = stop.send(true);
    let drained = async { while servers.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        tracing::warn!("web requests still open after {SHUTDOWN_GRACE:?}: closed");
        servers.shutdown().await;
    }
}
