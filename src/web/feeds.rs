//! `GET /cal/<token>.ics`: a person's live calendar. The token finds the feed (by its
//! hash, then compared in constant time); the feed is the person's current subscriptions
//! rendered from the programme snapshot the commands share, with an alarm at their lead
//! time. A wrong token is a plain 404, and an address that misses too often gets 429s.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use sqlx::PgPool;

use super::Throttle;

mod public;
mod screens;
use crate::config::Settings;
use crate::domain::feeds::{self, FeedToken, Unstamped};
use crate::domain::model::ConferenceSlug;
use crate::domain::programme::Programme;
use crate::domain::reminders::{LeadTime, SubscriptionTarget};
use crate::store::programme::{Snapshot, Snapshots};
use crate::store::{self, StoreError};

/// Wrong tokens allowed per address and minute, after a burst of [`MISS_BURST`]: enough
/// for a person mistyping a link, far too few to guess one.
const MISSES_PER_MINUTE: u32 = 10;
const MISS_BURST: u32 = 20;
/// What a calendar feed is: its media type (RFC 5545).
const CALENDAR: &str = "text/calendar; charset=utf-8";

/// What the feed routes read.
pub struct Feeds {
    pool: PgPool,
    snapshots: Arc<Snapshots>,
    /// The newest snapshot served per conference: held, so that a feed refresh does not
    /// load the programme again while it is unchanged.
    held: Mutex<HashMap<i64, Snapshot>>,
    default_lead: LeadTime,
    throttle: Throttle,
    /// Public feeds as last rendered, by conference, version and filter: the same few
    /// variants are fetched by every calendar that follows them.
    rendered: Mutex<HashMap<public::Variant, Arc<public::Rendered>>>,
    /// The running screen hubs, by conference slug.
    hubs: Mutex<HashMap<String, tokio::sync::watch::Sender<screens::Hub>>>,
    /// Screen streams open now.
    streams: std::sync::atomic::AtomicUsize,
    /// Set when the server stops: the screens' streams and hubs end.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Feeds {
    pub fn new(
        pool: PgPool,
        snapshots: Arc<Snapshots>,
        default_lead: LeadTime,
        throttle: Throttle,
    ) -> Self {
        Self {
            pool,
            snapshots,
            held: Mutex::default(),
            default_lead,
            throttle,
            rendered: Mutex::default(),
            hubs: Mutex::default(),
            streams: std::sync::atomic::AtomicUsize::new(0),
            closing: tokio::sync::watch::Sender::new(false),
        }
    }

    /// The feeds of a process configured by `settings`, sharing `snapshots` with its
    /// commands and planner.
    pub fn from_settings(
        settings: &Settings,
        pool: PgPool,
        snapshots: Arc<Snapshots>,
    ) -> anyhow::Result<Arc<Self>> {
        let minutes = settings.defaults.lead_time.num_minutes();
        let default_lead = LeadTime::from_minutes(minutes).context("defaults.lead_minutes")?;
        let n = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let throttle = Throttle::new(
            n(MISSES_PER_MINUTE),
            n(MISS_BURST),
            settings.web.trust_forwarded_for,
        );
        Ok(Arc::new(Self::new(pool, snapshots, default_lead, throttle)))
    }

    /// The conference's current programme: the held snapshot while its version stands.
    async fn programme(&self, slug: &str) -> Result<Option<Arc<Programme>>, StoreError> {
        let Ok(parsed) = ConferenceSlug::parse(slug) else {
            return Ok(None);
        };
        let Some((conference_id, version)) = store::programme::current(&self.pool, &parsed).await?
        else {
            return Ok(None);
        };
        self.programme_at(slug, conference_id, version).await
    }

    /// The programme of `slug` at `version` (or newer): the held snapshot when it is that
    /// version.
    pub(super) async fn programme_at(
        &self,
        slug: &str,
        conference_id: i64,
        version: i64,
    ) -> Result<Option<Arc<Programme>>, StoreError> {
        let Ok(slug) = ConferenceSlug::parse(slug) else {
            return Ok(None);
        };
        let held = self.lock().get(&conference_id).cloned();
        if let Some(held) = held.filter(|held| held.version == version) {
            return Ok(Some(held.programme));
        }
        let Some(snapshot) = self
            .snapshots
            .get_or_load(&self.pool, &slug, conference_id, version)
            .await?
        else {
            return Ok(None);
        };
        let programme = Arc::clone(&snapshot.programme);
        self.lock().insert(conference_id, snapshot);
        Ok(Some(programme))
    }

    /// The answer to a request that found nothing: a plain 404, or 429 once its address
    /// missed too often (each miss costs a query).
    fn missed(&self, peer: SocketAddr, headers: &HeaderMap) -> Response {
        if self.throttle.miss(self.throttle.client(peer, headers)) {
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        }
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            "too many requests\n",
        )
            .into_response()
    }

    /// Ends the screens' streams and hubs (the server is stopping).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Snapshot>> {
        // The map holds plain values: a panic elsewhere leaves it usable.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(super) fn routes(feeds: Arc<Feeds>) -> axum::Router {
    axum::Router::new()
        .route("/cal/{file}", get(personal))
        .route("/c/{name}", get(public::calendar))
        .route("/c/{name}/screen", get(screens::page))
        .route("/c/{name}/screen/events", get(screens::events))
        .route("/static/{name}", get(screens::asset))
        .with_state(feeds)
}

async fn personal(
    State(feeds): State<Arc<Feeds>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let token = file.strip_suffix(".ics").and_then(FeedToken::parse);
    let answer = match token {
        Some(token) => personal_feed(&feeds, &token, &headers).await,
        None => Ok(None),
    };
    match answer {
        Ok(Some(response)) => response,
        Ok(None) => feeds.missed(peer, &headers),
        Err(error) => {
            tracing::error!("a calendar feed failed: {:#}", anyhow::Error::from(error));
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "30")],
                "the calendar is unavailable right now; try again shortly\n",
            )
                .into_response()
        }
    }
}

/// The feed of `token`; `None` when no feed has it (or its conference is gone).
async fn personal_feed(
    feeds: &Feeds,
    token: &FeedToken,
    headers: &HeaderMap,
) -> Result<Option<Response>, StoreError> {
    let key = token.lookup_key();
    let Some(feed) = store::feeds::find(&feeds.pool, &key).await? else {
        return Ok(None);
    };
    if !token.matches(feed.token.as_str()) {
        return Ok(None);
    }
    let Some(programme) = feeds.programme(&feed.slug).await? else {
        return Ok(None);
    };
    let subscriptions = store::subscriptions::of_user(&feeds.pool, feed.conference_id, feed.user);
    let subscriptions: Vec<SubscriptionTarget> =
        subscriptions.await?.into_iter().map(|s| s.target).collect();
    let (own, default) =
        store::subscriptions::lead_and_default(&feeds.pool, feed.conference_id, feed.user).await?;
    let lead = own.or(default).unwrap_or(feeds.default_lead);
    let talks = feeds::personal_talks(&programme, &subscriptions);
    let unstamped = Unstamped::render(&programme.conference, &talks, Some(lead.duration()));
    let changed_at = match feed.served {
        Some((digest, since)) if digest == unstamped.digest => since,
        _ => store::feeds::served(&feeds.pool, &key, &unstamped.digest, Utc::now()).await?,
    };
    Ok(Some(answer(&unstamped, changed_at, headers)))
}

/// 200 with the stamped feed, or 304 when the client's copy is current; both with the
/// validators and a cache lifetime matching the refresh the feed asks for (`private`: only
/// the person's own calendar app may keep it).
fn answer(
    unstamped: &Unstamped,
    changed_at: chrono::DateTime<Utc>,
    headers: &HeaderMap,
) -> Response {
    let cache = format!("private, max-age={}", feeds::REFRESH.num_seconds());
    conditional(
        unstamped.etag(changed_at),
        changed_at,
        cache,
        headers,
        || unstamped.stamped(changed_at),
    )
}

/// 200 with `body()`, or 304 when the request's validators say the client has it.
fn conditional(
    etag: String,
    changed_at: chrono::DateTime<Utc>,
    cache: String,
    headers: &HeaderMap,
    body: impl FnOnce() -> String,
) -> Response {
    let last_modified = feeds::http_date(changed_at);
    let header_text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let fresh = feeds::not_modified(
        &etag,
        changed_at,
        header_text(header::IF_NONE_MATCH),
        header_text(header::IF_MODIFIED_SINCE),
    );
    let validators = [
        (header::ETAG, etag),
        (header::LAST_MODIFIED, last_modified),
        (header::CACHE_CONTROL, cache),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    (validators, [(header::CONTENT_TYPE, CALENDAR)], body()).into_response()
}
