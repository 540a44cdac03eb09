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
//! - A DM goes to the channel the delivery loop opened ahead ([`Deliver::open_dm`],
//!   `POST /users/@me/channels`) and stored, so at send time it costs one request.
//! - Every request honours the send's [`Claim`]: no wait longer than the claim allows, and
//!   no request once it stopped holding. A request that left without an answer is an
//!   unknown outcome; after Discord's nonce memory the message is looked for
//!   (`find_sent`: the channel's messages after the first attempt, matched by author and
//!   text, since Discord does not keep nonces).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
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
mod latencies;
use super::render;
use crate::domain::commands::Message;
use crate::jobs::{Claim, Deliver, Recipient, SendError};
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
            .take(route, claim.time_left())
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

impl Deliver for DiscordSender {
    async fn open_dm(&self, user: u64, claim: &Claim) -> Result<u64, SendError> {
        #[derive(Deserialize)]
        struct Channel {
            id: String,
        }
        let body = serde_json::json!({ "recipient_id": user.to_string() });
        let response = self
            .post(
                "dm-open",
                "/users/@me/channels",
                body.to_string(),
                false,
                claim,
            )
            .await?;
        let channel: Channel = read_json(response).await?;
        channel
            .id
            .parse()
            .map_err(|_| SendError::Rejected(format!("DM channel id {:?}", channel.id)))
    }

    async fn deliver(
        &self,
        to: Recipient,
        message: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> Result<(), SendError> {
        let body = serde_json::to_string(&render::channel_message(message, nonce))
            .map_err(|e| SendError::Rejected(format!("message body: {e}")))?;
        let channel = to.channel();
        let route = format!("messages:{channel}");
        let path = format!("/channels/{channel}/messages");
        let to_channel = matches!(to, Recipient::Channel(_));
        self.post(&route, &path, body, to_channel, claim)
            .await
            .map(drop)
    }

    async fn show(
        &self,
        channel: u64,
        existing: Option<u64>,
        message: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> Result<u64, SendError> {
        #[derive(Deserialize)]
        struct Shown {
            id: String,
        }
        let route = format!("messages:{channel}");
        if let Some(id) = existing {
            let body = serde_json::to_string(&render::edited_message(message))
                .map_err(|e| SendError::Rejected(format!("message body: {e}")))?;
            let path = format!("/channels/{channel}/messages/{id}");
            let method = reqwest::Method::PATCH;
            match self
                .request(method, &route, &path, Some(body), true, claim)
                .await
            {
                Ok(_) => return Ok(id),
                // Deleted by someone: shown again as a new message.
                Err(SendError::MessageGone) => {}
                Err(error) => return Err(error),
            }
        }
        let body = serde_json::to_string(&render::channel_message(message, nonce))
            .map_err(|e| SendError::Rejected(format!("message body: {e}")))?;
        let path = format!("/channels/{channel}/messages");
        let response = self.post(&route, &path, body, true, claim).await?;
        let shown: Shown = read_json(response).await?;
        shown
            .id
            .parse()
            .map_err(|_| SendError::Rejected(format!("message id {:?}", shown.id)))
    }

    async fn find_sent(
        &self,
        to: Recipient,
        contents: &[String],
        after: DateTime<Utc>,
        claim: &Claim,
    ) -> Result<bool, SendError> {
        #[derive(Deserialize)]
        struct Author {
            id: String,
        }
        #[derive(Deserialize)]
        struct Found {
            id: String,
            #[serde(default)]
            content: String,
            author: Author,
        }
        let channel = to.channel();
        let own = self.own_id(claim).await?.to_string();
        let route = format!("messages-read:{channel}");
        let mut after = snowflake(after);
        // A reminder channel may be busy: a few pages of what came after the attempt.
        for _ in 0..READ_PAGES {
            let path = format!("/channels/{channel}/messages?after={after}&limit=100");
            let response = self
                .request(reqwest::Method::GET, &route, &path, None, true, claim)
                .await?;
            let page: Vec<Found> = read_json(response).await?;
            if page
                .iter()
                .any(|m| m.author.id == own && contents.contains(&m.content))
            {
                return Ok(true);
            }
            match page.iter().filter_map(|m| m.id.parse::<u64>().ok()).max() {
                Some(last) if page.len() == 100 => after = last,
                _ => return Ok(false),
            }
        }
        Ok(false)
    }

    fn share_with(&self, workers: u32) {
        self.pacer.share_with(workers);
    }

    fn backlog(&self) -> Duration {
        self.pacer.backlog()
    }

    fn latency(&self) -> Duration {
        lock(&self.latencies).slowest()
    }
}

/// Pages of 100 messages [`DiscordSender::find_sent`] reads at most.
const READ_PAGES: usize = 5;

/// The smallest snowflake of the instant `at`: Discord's ids are milliseconds since 2015
/// shifted left by 22 bits.
fn snowflake(at: DateTime<Utc>) -> u64 {
    const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
    u64::try_from(at.timestamp_millis() - DISCORD_EPOCH_MS).unwrap_or(0) << 22
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snowflake_encodes_the_milliseconds_since_discords_epoch() {
        // Discord's documented example: 175928847299117063 was made 2016-04-30 11:18:25.796 UTC.
        let at: DateTime<Utc> = "2016-04-30T11:18:25.796Z".parse().unwrap();
        assert_eq!(snowflake(at), 175_928_847_299_117_063 >> 22 << 22);
        assert_eq!(snowflake("2010-01-01T00:00:00Z".parse().unwrap()), 0);
    }
}
