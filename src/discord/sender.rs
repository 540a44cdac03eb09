//! Delivery to Discord over its REST API: channel posts and DMs for the reminder outbox.
//!
//! A plain reqwest client rather than serenity's `Http`: delivery must see each response's
//! rate-limit headers and a 429's `retry_after`/`global` (serenity's error type keeps
//! neither), and must pace itself whether or not a rate limiting proxy sits in between.
//! Requests go to `discord.proxy_url` when set (as serenity's do), else to discord.com.
//!
//! - Every request takes a slot of the [`Pacer`] (the global limit); a global 429 pauses it.
//! - Per-route buckets: a response saying the route has no requests left
//!   (`X-RateLimit-Remaining: 0`) holds that route until `X-RateLimit-Reset-After`.
//! - A DM first opens the DM channel (`POST /users/@me/channels`); channel ids are kept,
//!   so each user costs that request once per process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::{Client, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;

use super::pacer::Pacer;
use super::render;
use crate::domain::commands::Message;
use crate::domain::reminders::Target;
use crate::jobs::{Claim, Deliver, SendError};

/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Error texts kept from Discord's answers (they end up in the outbox's last_error).
const MAX_ERROR: usize = 300;

/// Posts messages for the delivery loop.
pub struct DiscordSender {
    client: Client,
    /// `https://discord.com/api/v10` or the proxy's equivalent.
    api: String,
    token: SecretString,
    pacer: Pacer,
    /// User id -> DM channel id.
    dm_channels: Mutex<HashMap<u64, u64>>,
    /// Route -> instant its bucket refills.
    routes: Mutex<HashMap<String, Instant>>,
}

impl DiscordSender {
    /// A sender to `base` (`https://discord.com` or a proxy) pacing itself at
    /// `rate_per_second` requests.
    pub fn new(base: &str, token: SecretString, rate_per_second: u32) -> anyhow::Result<Self> {
        let client = Client::builder().timeout(REQUEST_TIMEOUT).build()?;
        Ok(Self {
            client,
            api: format!("{}/api/v10", base.trim_end_matches('/')),
            token,
            pacer: Pacer::new(rate_per_second),
            dm_channels: Mutex::new(HashMap::new()),
            routes: Mutex::new(HashMap::new()),
        })
    }

    /// The DM channel of `user`, opened on first use.
    async fn dm_channel(&self, user: u64, claim: &Claim) -> Result<u64, SendError> {
        if let Some(channel) = lock(&self.dm_channels).get(&user) {
            return Ok(*channel);
        }
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
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SendError::Transient(format!("reading the DM channel: {e}")))?;
        let channel: Channel = serde_json::from_slice(&bytes)
            .map_err(|e| SendError::Rejected(format!("the DM channel answer: {e}")))?;
        let id = channel
            .id
            .parse()
            .map_err(|_| SendError::Rejected(format!("DM channel id {:?}", channel.id)))?;
        lock(&self.dm_channels).insert(user, id);
        Ok(id)
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
        self.wait_for_route(route, claim).await?;
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
        let response = self
            .client
            .post(format!("{}{path}", self.api))
            .header(AUTHORIZATION, format!("Bot {}", self.token.expose_secret()))
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!(
                    "DiscordBot (https://github.com/confbot, ",
                    env!("CARGO_PKG_VERSION"),
                    ")"
                ),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("request failed: {e}")))?;
        self.note_bucket(route, response.headers());
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let error = classify(status, &headers, &text, to_channel);
        if let SendError::RateLimited {
            retry_after,
            global,
        } = &error
        {
            if *global {
                self.pacer.pause(*retry_after);
            } else {
                lock(&self.routes).insert(route.to_owned(), Instant::now() + *retry_after);
            }
        }
        Err(error)
    }

    /// Waits until `route`'s bucket refills, if that fits in `claim`; else returns the wait.
    async fn wait_for_route(&self, route: &str, claim: &Claim) -> Result<(), SendError> {
        let until = lock(&self.routes).get(route).copied();
        if let Some(until) = until {
            let wait = until.saturating_duration_since(Instant::now());
            if !claim.fits(wait) {
                return Err(SendError::RateLimited {
                    retry_after: wait,
                    global: false,
                });
            }
            tokio::time::sleep_until(until).await;
        }
        Ok(())
    }

    /// Remembers when a route with no requests left refills.
    fn note_bucket(&self, route: &str, headers: &HeaderMap) {
        let remaining = header_number(headers, "x-ratelimit-remaining");
        let reset_after = header_number(headers, "x-ratelimit-reset-after");
        let mut routes = lock(&self.routes);
        match (remaining, reset_after) {
            (Some(remaining), Some(reset)) if remaining < 1.0 => {
                routes.insert(route.to_owned(), Instant::now() + seconds(reset));
            }
            _ => {
                routes.remove(route);
            }
        }
    }
}

impl Deliver for DiscordSender {
    async fn deliver(
        &self,
        target: Target,
        message: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> Result<(), SendError> {
        let body = serde_json::to_string(&render::channel_message(message, nonce))
            .map_err(|e| SendError::Rejected(format!("message body: {e}")))?;
        let (channel, to_channel) = match target {
            Target::Channel(id) => (id, true),
            Target::Dm(user) => (self.dm_channel(user, claim).await?, false),
        };
        let route = format!("messages:{channel}");
        let path = format!("/channels/{channel}/messages");
        let sent = self.post(&route, &path, body, to_channel, claim).await;
        if let (Err(SendError::Rejected(_)), Target::Dm(user)) = (&sent, target) {
            // A DM channel that stopped working is opened afresh next time.
            lock(&self.dm_channels).remove(&user);
        }
        sent.map(drop)
    }

    fn share_with(&self, workers: u32) {
        self.pacer.share_with(workers);
    }
}

/// Discord's JSON error body (`{"code": 50007, "message": "..."}`, and for 429s
/// `retry_after` in seconds and `global`).
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: u64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    retry_after: Option<f64>,
    #[serde(default)]
    global: Option<bool>,
}

/// What a failed response means for delivery.
fn classify(status: StatusCode, headers: &HeaderMap, text: &str, to_channel: bool) -> SendError {
    let body: ErrorBody = serde_json::from_str(text).unwrap_or_default();
    let described = || {
        let message: String = body.message.chars().take(MAX_ERROR).collect();
        format!("{status} (code {}): {message}", body.code)
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = body
            .retry_after
            .or_else(|| header_number(headers, "retry-after"))
            .map_or(Duration::from_secs(1), seconds);
        let global = body.global.unwrap_or(false)
            || headers.get("x-ratelimit-global").is_some()
            || headers
                .get("x-ratelimit-scope")
                .is_some_and(|scope| scope.as_bytes() == b"global");
        return SendError::RateLimited {
            retry_after,
            global,
        };
    }
    if status.is_server_error() {
        return SendError::Transient(described());
    }
    match body.code {
        50007 => SendError::ClosedDm,
        // Unknown Channel, Missing Access, Missing Permissions.
        10003 | 50001 | 50013 if to_channel => SendError::ChannelUnavailable(described()),
        _ => SendError::Rejected(described()),
    }
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A non-negative number of seconds as a duration (at most an hour: a bigger wait is a
/// misreading, and an hour still stops a hammering loop).
fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.clamp(0.0, 3600.0)).unwrap_or(Duration::from_secs(1))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these maps leaves it consistent (single inserts/removes).
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_429_body_gives_the_wait_and_whether_it_is_global() {
        let global = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            r#"{"message": "You are being rate limited.", "retry_after": 0.25, "global": true}"#,
            true,
        );
        let route = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "2")]),
            "",
            true,
        );

        assert_eq!(
            global,
            SendError::RateLimited {
                retry_after: Duration::from_millis(250),
                global: true
            }
        );
        assert_eq!(
            route,
            SendError::RateLimited {
                retry_after: Duration::from_secs(2),
                global: false
            }
        );
    }

    #[test]
    fn a_closed_dm_a_missing_channel_and_a_server_error_are_told_apart() {
        let closed = classify(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            r#"{"code": 50007, "message": "Cannot send messages to this user"}"#,
            false,
        );
        let gone = classify(
            StatusCode::NOT_FOUND,
            &HeaderMap::new(),
            r#"{"code": 10003, "message": "Unknown Channel"}"#,
            true,
        );
        let busy = classify(StatusCode::BAD_GATEWAY, &HeaderMap::new(), "<html>", true);
        let bad = classify(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            r#"{"code": 50035, "message": "Invalid Form Body"}"#,
            true,
        );

        assert_eq!(closed, SendError::ClosedDm);
        assert!(matches!(gone, SendError::ChannelUnavailable(m) if m.contains("10003")));
        assert!(matches!(busy, SendError::Transient(_)));
        assert!(matches!(bad, SendError::Rejected(m) if m.contains("Invalid Form Body")));
    }

    #[test]
    fn absurd_waits_are_bounded() {
        assert_eq!(seconds(-5.0), Duration::ZERO);
        assert_eq!(seconds(1e12), Duration::from_secs(3600));
        assert_eq!(seconds(f64::NAN), Duration::from_secs(1));
    }
}
