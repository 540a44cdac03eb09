//! The stand-in's REST side: every request recorded, then answered as Discord would (see
//! the stand-in's module docs), with its route's rate-limit headers.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::super::multipart::read_body;
use super::super::{limits, responses};
use super::{Recorded, Shared, TOKEN};

/// Every REST call: recorded, then answered like Discord would (see the module docs), with
/// its route's rate-limit headers.
pub(super) async fn rest(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _open = shared.network.open();
    let route = format!("{method} {}", uri.path());
    let mut response = answer(Arc::clone(&shared), method, uri, headers, body).await;
    if !response.headers().contains_key("x-ratelimit-bucket") {
        match shared.routes.take(&route) {
            Ok(bucket) => bucket.add_to(response.headers_mut()),
            Err(limited) => return *limited,
        }
    }
    response
}

async fn answer(
    shared: Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let (json_body, attachments) = read_body(&headers, &body);
    shared.requests.lock().unwrap().push(Recorded {
        method: method.clone(),
        path: path.clone(),
        body: json_body.clone(),
        attachments,
        at: Instant::now(),
    });
    shared.recorded.send_modify(|count| *count += 1);
    shared.network.delay().await;

    let segments: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    // Interaction callbacks and webhooks are authorised by the token in their path; every
    // other route needs the bot's token, as on Discord.
    let by_path = matches!(segments.as_slice(), ["interactions", ..] | ["webhooks", ..]);
    let authorised = headers
        .get("authorization")
        .is_some_and(|value| value.as_bytes() == format!("Bot {TOKEN}").as_bytes());
    if !by_path && !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "401: Unauthorized", "code": 0})),
        )
            .into_response();
    }
    if let Some(response) =
        shared
            .interactions
            .handle(method.as_str(), &path, &segments, &json_body)
    {
        return response;
    }
    if let ("POST" | "GET", ["channels", channel, "messages"])
    | ("PATCH", ["channels", channel, "messages", _]) = (method.as_str(), segments.as_slice())
    {
        // Only channels that exist: a guild channel a test made, or an opened DM.
        let channel: u64 = channel.parse().unwrap_or(0);
        if !shared.guilds.has_text_channel(channel)
            && !shared.messages.is_dm_channel(channel)
            && !shared.messages.is_thread(channel)
        {
            return responses::error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
        }
        if let Some(problem) = limits::message(&json_body) {
            return shared.interactions.refuse_over_limits(&path, problem);
        }
    }
    if let ("POST", ["channels", channel, "messages", _, "threads"]) =
        (method.as_str(), segments.as_slice())
    {
        // A thread is started in a text channel of the guild.
        if !shared.guilds.has_text_channel(channel.parse().unwrap_or(0)) {
            return responses::error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
        }
    }
    if let Some(response) = shared
        .messages
        .handle(method.as_str(), &segments, uri.query(), &json_body)
        .await
    {
        return response;
    }
    if let Some(response) = shared
        .guilds
        .handle_events(method.as_str(), &segments, &json_body)
    {
        return response;
    }
    if let Some(response) = shared.guilds.handle(method.as_str(), &segments) {
        return response;
    }
    let ws_url = format!("ws://{}/ws", shared.addr.lock().unwrap().expect("address"));
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => Json(json!({"url": ws_url})).into_response(),
        ("GET", ["gateway", "bot"]) => Json(json!({"url": ws_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0,
                                    "max_concurrency": 1}}))
        .into_response(),
        ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => Json(json!([])).into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "404: Not Found (stand-in)", "code": 0})),
        )
            .into_response(),
    }
}
