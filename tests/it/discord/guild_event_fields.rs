//! The stand-in's checks of a scheduled event's fields and status changes, as Discord API
//! v10 makes them (see `guild_events.rs`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::super::super::responses;
use super::{Event, ACTIVE, CANCELED, COMPLETED, SCHEDULED};

pub(super) fn edit(event: &mut Event, body: &Value, now: DateTime<Utc>) -> Response {
    let status = event.status(now);
    if matches!(status, COMPLETED | CANCELED) {
        return responses::error(
            StatusCode::BAD_REQUEST,
            180000,
            "Cannot update a finished event",
        );
    }
    // Started is started: a later start does not make an active event scheduled again.
    if status == ACTIVE {
        event.set = Some(ACTIVE);
    }
    let mut changed = event.clone();
    if let Err(refusal) = apply(&mut changed, body, false) {
        return invalid(&refusal);
    }
    let new_start = body.get("scheduled_start_time").is_some();
    if status == SCHEDULED && new_start && changed.start <= now {
        return invalid("Cannot schedule event in the past.");
    }
    if let Some(to) = body.get("status").and_then(Value::as_u64) {
        let allowed = matches!(
            (status, to),
            (SCHEDULED, ACTIVE) | (SCHEDULED, CANCELED) | (ACTIVE, COMPLETED)
        );
        if !allowed {
            return invalid("Invalid Guild Scheduled Event Status Transition");
        }
        changed.set = Some(to);
    }
    *event = changed;
    Json(event.json(now)).into_response()
}

/// Takes the fields `body` sets (all of them when `creating`), checked as Discord checks.
pub(super) fn apply(event: &mut Event, body: &Value, creating: bool) -> Result<(), String> {
    let given = |field: &str| body.get(field).filter(|v| creating || !v.is_null());
    if let Some(name) = given("name").or(creating.then_some(&Value::Null)) {
        let name = name.as_str().unwrap_or_default();
        if !(1..=100).contains(&name.chars().count()) {
            return Err("name must be 1 to 100 characters".to_owned());
        }
        event.name = name.to_owned();
    }
    if let Some(description) = body.get("description") {
        match description.as_str() {
            None => event.description = None,
            Some(text) if (1..=1000).contains(&text.chars().count()) => {
                event.description = Some(text.to_owned());
            }
            Some(_) => return Err("description must be 1 to 1000 characters".to_owned()),
        }
    }
    if let Some(metadata) = given("entity_metadata").or(creating.then_some(&Value::Null)) {
        let location = metadata["location"].as_str().unwrap_or_default();
        if !(1..=100).contains(&location.chars().count()) {
            return Err("entity_metadata.location must be 1 to 100 characters".to_owned());
        }
        event.location = location.to_owned();
    }
    let time = |field: &str| -> Result<Option<DateTime<Utc>>, String> {
        match given(field) {
            None => Ok(None),
            Some(value) => value
                .as_str()
                .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                .map(|at| Some(at.with_timezone(&Utc)))
                .ok_or_else(|| format!("{field} must be an ISO8601 timestamp")),
        }
    };
    let start = time("scheduled_start_time")?;
    let end = time("scheduled_end_time")?;
    if creating && (start.is_none() || end.is_none()) {
        return Err("an external event needs a start and an end time".to_owned());
    }
    event.start = start.unwrap_or(event.start);
    event.end = end.unwrap_or(event.end);
    if event.end <= event.start {
        return Err("the end must come after the start".to_owned());
    }
    Ok(())
}

pub(super) fn invalid(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"message": "Invalid Form Body", "code": 50035,
                    "errors": {"_errors": [{"code": "INVALID", "message": message}]}})),
    )
        .into_response()
}

pub(super) fn unknown() -> Response {
    responses::error(
        StatusCode::NOT_FOUND,
        10070,
        "Unknown Guild Scheduled Event",
    )
}
