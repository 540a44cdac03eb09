//! Delivery to Discord over its REST API: channel posts and DMs for the reminder outbox.
//!
//! A plain reqwest client rather than serenity's `Http`: delivery must see each response's
//! rate-limit headers and a 429's `retry_after`/`global` (serenity's error type keeps
//! neither), and must pace itself whether or not a rate limiting proxy sits in between.
//! Requests go to `discord.proxy_url` when set (as serenity's do), else to discord.com.
//!
//! - Every request takes a slot of the [`Pacer`] (the global limit); a global 429 pauses it.
//! - Per-route buckets ([`Buckets`]): a request takes a place its route's bucket has left
//!   (`X-RateLimit-Remaining`, less the requests under way) or waits for the refill
//!   (`X-RateLimit-Reset-After`), so a route's limit is kept to before a 429.
//! - A DM goes to the channel the delivery loop opened ahead ([`crate::jobs::Deliver::open_dm`],
//!   `POST /users/@me/channels`) and stored, so at send time it costs one request.
//! - Every request honours the send's [`Claim`]: no wait longer than the claim allows, and
//!   no request once it stopped holding. A request that left without an answer is an
//!   unknown outcome; after Discord's nonce memory the message is looked for
//!   (`find_sent`: the channel's messages after the first attempt, matched by author and
//!   text, since Discord does not keep nonces).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::Client;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;

use super::buckets::Buckets;
use super::invalid::{self, InvalidRequests};
use super::pacer::Pacer;
use crate::lock::lock;

mod answers;
mod deliver;
mod events;
mod latencies;
use super::render;
use crate::jobs::{Claim, SendError};
use answers::{classify, counts_as_invalid, header_number, seconds};
use latencies::Latencies;

/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Posts messages for the delivery loop.
pub struct DiscordSender {
    client: Client,
    /// `https://discord.com/api/v10` or the proxy's equivalent.
    api: String,
    token: SecretString,
    pacer: Arc<Pacer>,
    /// Per-route buckets, kept to before a 429.
    buckets: Arc<Buckets>,
    /// How long the last requests took, leaving to answer.
    latencies: Mutex<Latencies>,
    /// The bot's user id, once asked.
    own_id: Mutex<Option<u64>>,
    /// 401, 403 and 429 answers: too many and Discord's edge bans the IP.
    invalid: Arc<InvalidRequests>,
}

impl DiscordSender {
    /// A sender to `base` (`https://discord.com` or a proxy) pacing itself at
    /// `rate_per_second` requests.
    pub fn new(base: &str, token: SecretString, rate_per_second: u32) -> anyhow::Result<Self> {
        Self::with_timeout(base, token, rate_per_second, REQUEST_TIMEOUT)
    }

    /// [`new`](Self::new) with another request timeout (a shorter lease needs a shorter one).
    pub fn with_timeout(
        base: &str,
        token: SecretString,
        rate_per_second: u32,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let client = Client::builder().timeout(timeout).build()?;
        Ok(Self {
            client,
            api: format!("{}/api/v10", base.trim_end_matches('/')),
            token,
            pacer: Arc::new(Pacer::new(rate_per_second)),
            buckets: Arc::default(),
            latencies: Mutex::default(),
            own_id: Mutex::new(None),
            invalid: Arc::default(),
        })
    }

    /// This sender, counting its invalid answers in `invalid` (a smaller budget in tests).
    pub fn counting_invalid_in(mut self, invalid: Arc<InvalidRequests>) -> Self {
        self.invalid = invalid;
        self
    }

    /// The budget serenity's requests share with this sender: its pacer and its count of
    /// invalid answers.
    pub fn rest(&self) -> super::rest::Rest {
        super::rest::Rest::new(Arc::clone(&self.pacer), Arc::clone(&self.invalid))
    }

    /// The invalid answers this sender counts, for the metrics.
    pub fn invalid_requests(&self) -> Arc<InvalidRequests> {
        Arc::clone(&self.invalid)
    }

    /// One paced POST; a non-success status becomes the matching [`SendError`]. Waits only
    /// as long as `claim` allows, and sends only if it still holds once the waits are over.
    async fn post(
        &self,
        route: &str,
        path: &str,
        body: String,
        to_channel: bool,
        claim: &Claim,
    ) -> Result<reqwest::Response, SendError> {
        self.request(
            reqwest::Method::POST,
            route,
            path,
            Some(body),
            to_channel,
            claim,
        )
        .await
    }

    async fn request(
        &self,
        method: reqwest::Method,
        route: &str,
        path: &str,
        body: Option<String>,
        to_channel: bool,
        claim: &Claim,
    ) -> Result<reqwest::Response, SendError> {
        if let Some(pause) = self.invalid.paused_for(Instant::now()) {
            tracing::error!(
                ?pause,
                "{} answers 401/403/429 within 10 minutes: no request until fewer (Discord bans the IP at 10,000)",
                invalid::BUDGET
            );
            return Err(SendError::RateLimited {
                retry_after: pause,
                global: true,
            });
        }
        let place = self
            .buckets
            .take(method.as_str(), route, claim.time_left())
            .await
            .map_err(|retry_after| SendError::RateLimited {
                retry_after,
                global: false,
            })?;
        self.pacer
            .acquire_within(claim.time_left())
            .await
            .map_err(|retry_after| SendError::RateLimited {
                retry_after,
                global: true,
            })?;
        if !claim.may_leave() {
            return Err(SendError::ClaimLost);
        }
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.api))
            .header(AUTHORIZATION, format!("Bot {}", self.token.expose_secret()))
            .header(
                USER_AGENT,
                concat!(
                    "DiscordBot (https://github.com/confbot, ",
                    env!("CARGO_PKG_VERSION"),
                    ")"
                ),
            );
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let left = Instant::now();
        let response = request.send().await;
        lock(&self.latencies).record(left.elapsed());
        let response = response.map_err(|e| {
            // Not connected: nothing reached Discord. Anything later (a timeout, a reset
            // after the body left) may have created the message.
            if e.is_connect() {
                SendError::Transient(format!("request failed: {e}"))
            } else {
                SendError::Unknown(format!("request failed: {e}"))
            }
        })?;
        let status = response.status();
        if counts_as_invalid(status, response.headers()) {
            self.invalid.record(Instant::now());
        }
        let headers = response.headers();
        let remaining = header_number(headers, "x-ratelimit-remaining");
        let limit = header_number(headers, "x-ratelimit-limit");
        let reset_after = header_number(headers, "x-ratelimit-reset-after").map(seconds);
        // A bucket is named by the answers it gives: a success or its own 429. An error from
        // elsewhere (a closed DM, a global 429, a gateway's 502) says nothing of the route.
        let own_answer = status.is_success()
            || (status == reqwest::StatusCode::TOO_MANY_REQUESTS
                && !headers.contains_key("x-ratelimit-global"));
        let place = place.in_bucket(
            headers
                .get("x-ratelimit-bucket")
                .filter(|_| own_answer)
                .and_then(|name| name.to_str().ok()),
        );
        if status.is_success() {
            place.answered(remaining, limit, reset_after);
            return Ok(response);
        }
        let headers = headers.clone();
        let text = response.text().await.unwrap_or_default();
        let error = classify(status, &headers, &text, to_channel);
        match &error {
            SendError::RateLimited {
                retry_after,
                global: true,
            } => {
                self.pacer.pause(*retry_after);
                place.answered(remaining, limit, reset_after);
            }
            SendError::RateLimited { retry_after, .. } => place.limited(*retry_after),
            _ => place.answered(remaining, limit, reset_after),
        }
        Err(error)
    }

    /// The bot's own user id (`GET /users/@me`), asked once.
    async fn own_id(&self, claim: &Claim) -> Result<u64, SendError> {
        if let Some(id) = *lock(&self.own_id) {
            return Ok(id);
        }
        #[derive(Deserialize)]
        struct User {
            id: String,
        }
        let response = self
            .request(reqwest::Method::GET, "me", "/users/@me", None, false, claim)
            .await?;
        let user: User = read_json(response).await?;
        let id = user
            .id
            .parse()
            .map_err(|_| SendError::Rejected(format!("own user id {:?}", user.id)))?;
        *lock(&self.own_id) = Some(id);
        Ok(id)
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, SendError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| SendError::Transient(format!("reading Discord's answer: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| SendError::Rejected(format!("Discord's answer: {e}")))
}
