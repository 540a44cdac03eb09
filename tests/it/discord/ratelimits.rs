//! The stand-in's rate limits, Discord's unless a test makes them stricter: a global limit
//! per rolling second over the delivery routes, and a bucket per channel for messages, whose
//! every answer carries its `X-RateLimit-*` headers.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use axum::response::Response;

use super::responses::{too_many, Bucket};

/// Rate limits the stand-in enforces: Discord's unless a test makes them stricter.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests per rolling second over the delivery routes; over it: a global 429.
    pub global_per_second: u32,
    /// Messages per channel per window; over it: a route 429. Every answer carries the
    /// bucket's `X-RateLimit-*` headers.
    pub per_channel: (u32, Duration),
}

impl Limits {
    /// 50 requests a second, 5 messages per channel per 5 seconds.
    pub const DISCORD: Limits = Limits {
        global_per_second: 50,
        per_channel: (5, Duration::from_secs(5)),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DISCORD
    }
}

/// The bucket id of `POST /channels/{id}/messages` (per channel, as its major parameter).
const MESSAGES_BUCKET: &str = "80c17d2f203122d936070c88c8d10f33";

/// What the limits have counted so far.
#[derive(Default)]
pub struct RateLimits {
    limits: Limits,
    /// The requests of the last second.
    recent: VecDeque<Instant>,
    /// Per channel: messages in the window, and when it ends.
    buckets: HashMap<u64, (u32, Instant)>,
}

impl RateLimits {
    /// Stricter limits than Discord's; panics on looser ones.
    pub fn set(&mut self, limits: Limits) {
        let (count, window) = limits.per_channel;
        let (discord_count, discord_window) = Limits::DISCORD.per_channel;
        assert!(
            limits.global_per_second <= Limits::DISCORD.global_per_second
                && u128::from(count) * discord_window.as_millis()
                    <= u128::from(discord_count) * window.as_millis(),
            "{limits:?} are looser than Discord's"
        );
        self.limits = limits;
    }

    /// A global 429 when the last second already saw the allowed number of requests.
    pub fn global(&mut self) -> Option<Response> {
        let limit = self.limits.global_per_second;
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= limit as usize {
            let oldest = self.recent.front().copied().unwrap_or(now);
            let wait = Duration::from_secs(1).saturating_sub(now.duration_since(oldest));
            return Some(too_many(wait, true));
        }
        self.recent.push_back(now);
        None
    }

    /// The channel's bucket after one more message, or a route 429.
    pub fn channel(&mut self, channel: u64) -> Result<Bucket, Box<Response>> {
        let (limit, window) = self.limits.per_channel;
        let now = Instant::now();
        let (used, reset) = self.buckets.entry(channel).or_insert((0, now + window));
        if now >= *reset {
            *used = 0;
            *reset = now + window;
        }
        let reset_after = reset.saturating_duration_since(now);
        if *used >= limit {
            let mut response = too_many(reset_after, false);
            let bucket = Bucket::new(MESSAGES_BUCKET, limit, 0, reset_after);
            bucket.add_to(response.headers_mut());
            return Err(Box::new(response));
        }
        *used += 1;
        Ok(Bucket::new(
            MESSAGES_BUCKET,
            limit,
            limit - *used,
            reset_after,
        ))
    }
}
