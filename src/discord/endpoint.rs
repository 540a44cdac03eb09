//! The HTTP interactions endpoint (`confbot serve-interactions`): Discord POSTs each
//! interaction to `/interactions` instead of sending it over the gateway. Every request must
//! carry a valid Ed25519 signature and a fresh timestamp ([`gate`]); a PING is answered with
//! a PONG; anything else goes to the same [`Router`] as gateway interactions, and its first
//! response becomes the HTTP reply (see [`super::respond`]). Edits and follow-ups go out
//! over REST as usual.
//!
//! The endpoint holds no state besides caches, so any number of replicas can stand behind a
//! load balancer; reminders are delivered by `confbot run` workers on the same database.

pub mod gate;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use chrono::Utc;
use secrecy::SecretString;
use serenity::all::Interaction;
use serenity::http::Http;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::config::Settings;

use super::interactions::Router;
use super::respond::Ctx;
use super::{InFlight, Telemetry};
use gate::Gate;

/// Discord drops an interaction whose first response takes longer than this.
const FIRST_RESPONSE_WITHIN: Duration = Duration::from_secs(3);
/// The largest request read. Interactions are a few kilobytes; a modal submission with
/// every field full stays well under this.
const MAX_BODY: usize = 256 * 1024;

/// Everything a request handler needs.
struct Endpoint {
    router: Router,
    http: Arc<Http>,
    gate: Gate,
    telemetry: Arc<Telemetry>,
    in_flight: Arc<InFlight>,
}

/// Answers interactions on `listener` alone until `shutdown` completes; then stops
/// accepting, lets answers in progress finish (bounded) and returns.
pub async fn serve(
    settings: &Settings,
    pool: PgPool,
    listener: TcpListener,
    telemetry: Arc<Telemetry>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let interactions = routes(settings, pool, telemetry)?;
    let bound = listener.local_addr().context("the interactions listener")?;
    tracing::info!(%bound, "web surface listening (interactions only)");
    let site = crate::web::Site {
        interactions: Some(interactions.router.clone()),
        ..crate::web::Site::default()
    };
    crate::web::serve(vec![listener], site.router(), shutdown).await;
    interactions.finish().await;
    Ok(())
}

/// The interactions route, and what must be finished once the web surface serving it
/// has stopped.
pub struct Interactions {
    /// `POST /interactions`, for [`crate::web::Site::interactions`].
    pub router: axum::Router,
    in_flight: Arc<InFlight>,
    registration: tokio::task::JoinHandle<()>,
}

impl Interactions {
    /// Stops the registration if it still runs and waits (bounded) for answers whose first
    /// response went out but which may still be editing or following up.
    pub async fn finish(self) {
        self.registration.abort();
        self.in_flight.drain().await;
    }
}

/// The interactions endpoint's route, its commands registered in the background.
///
/// Needs `discord.public_key` (to verify requests), `discord.application_id` (edits and
/// follow-ups address the application's webhook) and the bot token (channel checks,
/// registration).
pub fn routes(
    settings: &Settings,
    pool: PgPool,
    telemetry: Arc<Telemetry>,
) -> anyhow::Result<Interactions> {
    let (token, gate) = check_settings(settings)?;
    let http = Arc::new(super::http_client(settings, token));
    // Answers only: its channel checks and reports have the whole rate to themselves.
    let rest = super::rest::Rest::standalone(settings.reminders.rate_per_second);
    // Nothing in this process plans reminders: the workers hear about subscription changes
    // through the database's notifications.
    let router = super::router(
        settings,
        pool,
        Arc::new(Notify::new()),
        Arc::default(),
        rest.clone(),
    )?;
    let in_flight = Arc::new(InFlight::default());
    let endpoint = Arc::new(Endpoint {
        router,
        http: Arc::clone(&http),
        gate,
        telemetry,
        in_flight: Arc::clone(&in_flight),
    });

    let guild_ids = settings.discord.guild_ids.clone();
    let registration = tokio::spawn(async move {
        if let Err(error) = super::register(&http, &rest, &guild_ids).await {
            tracing::error!("registering the slash commands failed: {error:#}");
        }
    });

    let router = axum::Router::new()
        .route("/interactions", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(endpoint);
    Ok(Interactions {
        router,
        in_flight,
        registration,
    })
}

/// The token and the request gate, or an error naming the setting that is missing.
pub fn check_settings(settings: &Settings) -> anyhow::Result<(&SecretString, Gate)> {
    let token = super::token(settings)?;
    let public_key = settings.discord.public_key.context(
        "no public key: set DISCORD_PUBLIC_KEY (or discord.public_key) to the application's \
         public key from the Discord developer portal (General Information)",
    )?;
    settings.discord.application_id.context(
        "no application id: set discord.application_id (CONFBOT__DISCORD__APPLICATION_ID) to \
         the application id from the Discord developer portal",
    )?;
    Ok((token, Gate::new(public_key)?))
}

/// One POST from Discord.
async fn receive(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let checked = endpoint.gate.check(
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
        &body,
        Utc::now(),
    );
    if let Err(rejection) = checked {
        tracing::warn!(%rejection, "refused an interactions request");
        endpoint.telemetry.count_rejected();
        return (StatusCode::UNAUTHORIZED, format!("{rejection}\n")).into_response();
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(interaction) => interaction,
        Err(error) => {
            // Signed by Discord, so a new interaction type rather than an attack.
            tracing::warn!("an interaction confbot cannot read: {error}");
            return (
                StatusCode::BAD_REQUEST,
                "not an interaction confbot knows\n",
            )
                .into_response();
        }
    };
    if let Interaction::Ping(_) = interaction {
        return Json(serde_json::json!({ "type": 1 })).into_response();
    }
    let (ctx, first) = Ctx::webhook(Arc::clone(&endpoint.http), endpoint.router.rest.clone());
    let answering = endpoint.in_flight.enter();
    let worker = Arc::clone(&endpoint);
    // Detached: after the first response the answer may go on (a deferred edit, follow-ups)
    // while the HTTP reply is already on its way.
    tokio::spawn(async move {
        let _answering = answering;
        worker
            .router
            .dispatch(&ctx, interaction, &worker.telemetry)
            .await;
    });
    match tokio::time::timeout(FIRST_RESPONSE_WITHIN, first).await {
        Ok(Ok(response)) => Json(response).into_response(),
        Ok(Err(_closed)) => {
            tracing::error!("the interaction was handled without a response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_elapsed) => {
            tracing::error!("no first response within {FIRST_RESPONSE_WITHIN:?}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
