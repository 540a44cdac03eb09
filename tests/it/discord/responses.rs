//! The stand-in's answers as Discord words them: message objects and pages of them, JSON
//! errors with their codes, 429s with `retry_after` and their scope, and a route bucket's
//! `X-RateLimit-Remaining` / `-Reset-After` headers.

use std::time::Duration;

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

pub fn with_bucket(mut response: Response, bucket: Option<(u32, Duration)>) -> Response {
    if let Some((remaining, reset_after)) = bucket {
        add_bucket_headers(response.headers_mut(), remaining, reset_after);
    }
    response
}

pub fn add_bucket_headers(headers: &mut HeaderMap, remaining: u32, reset_after: Duration) {
    let number = |text: String| HeaderValue::from_str(&text).expect("ascii");
    headers.insert("x-ratelimit-remaining", number(remaining.to_string()));
    headers.insert(
        "x-ratelimit-reset-after",
        number(format!("{:.3}", reset_after.as_secs_f64())),
    );
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
    if global {
        response
            .headers_mut()
            .insert("x-ratelimit-global", HeaderValue::from_static("true"));
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
