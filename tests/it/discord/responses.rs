//! The stand-in's answers as Discord words them: message objects and pages of them, JSON
//! errors with their codes, 429s with `retry_after` (body and `Retry-After` header) and
//! their scope, and a route bucket's `X-RateLimit-*` headers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::messages::Posted;
use super::payloads;

/// A page of `GET /channels/{id}/messages`: message objects, without their nonce (Discord
/// does not keep it).
pub fn page(found: &[&Posted], channel: u64) -> Response {
    let messages: Vec<Value> = found
        .iter()
        .map(|p| {
            let field = |name: &str| p.body.get(name).cloned().unwrap_or(json!([]));
            let mut object =
                payloads::message(p.id, &p.content, &field("embeds"), &field("components"));
            object["channel_id"] = json!(channel.to_string());
            object
        })
        .collect();
    Json(messages).into_response()
}

/// A route's rate-limit bucket as one answer reports it.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// Discord's name for it (`X-RateLimit-Bucket`): the same for every route and method
    /// that shares the limit, and only for those.
    pub id: String,
    pub limit: u32,
    pub remaining: u32,
    pub reset_after: Duration,
}

impl Bucket {
    pub fn new(id: impl Into<String>, limit: u32, remaining: u32, reset_after: Duration) -> Self {
        Self {
            id: id.into(),
            limit,
            remaining,
            reset_after,
        }
    }

    /// Discord's `X-RateLimit-Limit`, `-Remaining`, `-Reset` (Unix seconds), `-Reset-After`
    /// and `-Bucket` headers.
    pub fn add_to(&self, headers: &mut HeaderMap) {
        let number = |text: String| HeaderValue::from_str(&text).expect("ascii");
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + self.reset_after;
        headers.insert("x-ratelimit-limit", number(self.limit.to_string()));
        headers.insert("x-ratelimit-remaining", number(self.remaining.to_string()));
        headers.insert(
            "x-ratelimit-reset",
            number(format!("{:.3}", reset.as_secs_f64())),
        );
        headers.insert(
            "x-ratelimit-reset-after",
            number(format!("{:.3}", self.reset_after.as_secs_f64())),
        );
        headers.insert("x-ratelimit-bucket", number(self.id.clone()));
    }
}

/// A bucket per route shape (method and path with its ids left out) and major parameter
/// (the path's first id: a channel, a server, a user) for the routes without limits of their
/// own: 50 requests a second, each answer saying how many are left and naming the bucket
/// after the route's shape, as Discord leaves the major parameter out of its names.
#[derive(Default)]
pub struct RouteBuckets {
    used: std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>,
}

impl RouteBuckets {
    const LIMIT: u32 = 50;
    const WINDOW: Duration = Duration::from_secs(1);

    /// One request on `route`: its bucket after it, or a route 429.
    pub fn take(&self, route: &str) -> Result<Bucket, Box<Response>> {
        let now = std::time::Instant::now();
        let mut used = self.used.lock().unwrap();
        let (name, counted) = route_shape(route);
        let (count, reset) = used.entry(counted).or_insert((0, now + Self::WINDOW));
        if now >= *reset {
            *count = 0;
            *reset = now + Self::WINDOW;
        }
        let reset_after = reset.saturating_duration_since(now);
        if *count >= Self::LIMIT {
            let mut response = too_many(reset_after, false);
            Bucket::new(name, Self::LIMIT, 0, reset_after).add_to(response.headers_mut());
            return Err(Box::new(response));
        }
        *count += 1;
        Ok(Bucket::new(
            name,
            Self::LIMIT,
            Self::LIMIT - *count,
            reset_after,
        ))
    }
}

/// `route` ("METHOD /path")'s bucket name, a hash of its shape (its ids as `{id}`), and
/// what it is counted by: the shape and the major parameter, the path's first id.
pub fn route_shape(route: &str) -> (String, String) {
    use std::hash::{Hash as _, Hasher as _};
    let mut major = None;
    let shape: Vec<&str> = route
        .split('/')
        .map(|segment| {
            if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                major.get_or_insert(segment);
                "{id}"
            } else {
                segment
            }
        })
        .collect();
    let shape = shape.join("/");
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    shape.hash(&mut hasher);
    let counted = format!("{shape} {}", major.unwrap_or(""));
    (format!("{:016x}", hasher.finish()), counted)
}

pub fn with_bucket(mut response: Response, bucket: Bucket) -> Response {
    bucket.add_to(response.headers_mut());
    response
}

pub fn too_many(retry_after: Duration, global: bool) -> Response {
    let secs = retry_after.as_secs_f64();
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(
            json!({"message": "You are being rate limited.", "retry_after": secs,
                    "global": global, "code": 0}),
        ),
    )
        .into_response();
    let headers = response.headers_mut();
    // Whole seconds, rounded up, in the header; the body has the exact value.
    let whole = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    headers.insert(
        "retry-after",
        HeaderValue::from_str(&whole.to_string()).expect("ascii"),
    );
    let scope = if global { "global" } else { "user" };
    headers.insert("x-ratelimit-scope", HeaderValue::from_static(scope));
    if global {
        headers.insert("x-ratelimit-global", HeaderValue::from_static("true"));
    }
    response
}

pub fn error(status: StatusCode, code: u64, message: &str) -> Response {
    (status, Json(json!({"message": message, "code": code}))).into_response()
}

pub fn message(id: u64, channel: u64, content: &str, body: &Value) -> Response {
    let field = |name: &str| body.get(name).cloned().unwrap_or(json!([]));
    let mut object = payloads::message(id, content, &field("embeds"), &field("components"));
    object["channel_id"] = json!(channel.to_string());
    Json(object).into_response()
}
