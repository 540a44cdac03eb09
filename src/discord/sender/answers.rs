//! What Discord's answers mean for delivery: a 429's wait and scope, a closed DM, a
//! channel that is gone, a refusal, a failure whose outcome is unknown.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::jobs::SendError;

/// Error texts kept from Discord's answers (they end up in the outbox's last_error).
const MAX_ERROR: usize = 300;

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

/// Whether an answer counts towards Discord's invalid-request limit: 401, 403 and 429,
/// except a 429 of a shared bucket (`X-RateLimit-Scope: shared`), which Discord does not
/// count since other bots' requests used it up.
pub(super) fn counts_as_invalid(status: StatusCode, headers: &HeaderMap) -> bool {
    let shared = headers
        .get("x-ratelimit-scope")
        .is_some_and(|scope| scope.as_bytes() == b"shared");
    crate::discord::invalid::InvalidRequests::counts(status.as_u16())
        && !(status == StatusCode::TOO_MANY_REQUESTS && shared)
}

/// What a failed response means for delivery.
pub(super) fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    text: &str,
    to_channel: bool,
) -> SendError {
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
        // Discord may have created the message before failing.
        return SendError::Unknown(described());
    }
    match body.code {
        50007 => SendError::ClosedDm,
        10008 => SendError::MessageGone,
        160004 => SendError::ThreadExists,
        30038 => SendError::EventsFull,
        10070 => SendError::EventGone,
        50083 => SendError::ThreadArchived,
        // Unknown Channel, Missing Access, Missing Permissions.
        10003 | 50001 | 50013 if to_channel => SendError::ChannelUnavailable(described()),
        50013 => SendError::MissingPermission(described()),
        _ => SendError::Rejected(described()),
    }
}

pub(super) fn header_number(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A non-negative number of seconds as a duration (at most an hour: a bigger wait is a
/// misreading, and an hour still stops a hammering loop).
pub(super) fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.clamp(0.0, 3600.0)).unwrap_or(Duration::from_secs(1))
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
    fn a_shared_buckets_429_is_no_invalid_request_but_every_other_429_401_and_403_is() {
        let shared = headers(&[("x-ratelimit-scope", "shared")]);
        let user = headers(&[("x-ratelimit-scope", "user")]);
        assert!(!counts_as_invalid(StatusCode::TOO_MANY_REQUESTS, &shared));
        assert!(counts_as_invalid(StatusCode::TOO_MANY_REQUESTS, &user));
        assert!(counts_as_invalid(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new()
        ));
        assert!(counts_as_invalid(StatusCode::FORBIDDEN, &shared));
        assert!(counts_as_invalid(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new()
        ));
        assert!(!counts_as_invalid(StatusCode::NOT_FOUND, &HeaderMap::new()));
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
        assert!(matches!(busy, SendError::Unknown(_)));
        assert!(matches!(bad, SendError::Rejected(m) if m.contains("Invalid Form Body")));
    }

    #[test]
    fn a_full_server_a_deleted_event_and_a_missing_permission_are_told_apart() {
        let answer = |status, body: &str| classify(status, &HeaderMap::new(), body, false);

        let full = answer(
            StatusCode::BAD_REQUEST,
            r#"{"code": 30038, "message": "Maximum number of guild scheduled events reached (100)"}"#,
        );
        let deleted = answer(
            StatusCode::NOT_FOUND,
            r#"{"code": 10070, "message": "Unknown Guild Scheduled Event"}"#,
        );
        let forbidden = answer(
            StatusCode::FORBIDDEN,
            r#"{"code": 50013, "message": "Missing Permissions"}"#,
        );

        assert_eq!(full, SendError::EventsFull);
        assert_eq!(deleted, SendError::EventGone);
        assert!(matches!(forbidden, SendError::MissingPermission(m) if m.contains("50013")));
    }

    #[test]
    fn absurd_waits_are_bounded() {
        assert_eq!(seconds(-5.0), Duration::ZERO);
        assert_eq!(seconds(1e12), Duration::from_secs(3600));
        assert_eq!(seconds(f64::NAN), Duration::from_secs(1));
    }
}
