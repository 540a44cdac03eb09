//! The stand-in's interaction side, with Discord's rules:
//!
//! - An interaction's token is known once the interaction was sent to the bot (through the
//!   gateway, or over HTTP with [`Interactions::answered_over_http`], whose reply is its
//!   acknowledgement).
//! - `POST /interactions/{id}/{token}/callback` acknowledges it once, within 3 s of its
//!   sending: later, or for a token never sent, 404 with code 10062 ("Unknown
//!   interaction"); a second acknowledgement, 400 with code 40060.
//! - The response type must suit the interaction: autocomplete is answered with choices
//!   (type 8) and nothing else; a modal (type 9) never answers a modal submit or an
//!   autocomplete; a message update (types 6 and 7) only answers a component or a modal
//!   submit. Otherwise, and for a body over Discord's limits ([`super::limits`]), 400 with
//!   code 50035.
//! - Follow-ups (`POST /webhooks/{app}/{token}`) and the original response's edits and
//!   deletes work only after the acknowledgement (else 404, code 10015 "Unknown Webhook")
//!   and only for 15 minutes after it (then 401, code 50027 "Invalid Webhook Token").
//!
//! Every refusal is also recorded: a stand-in refuses what Discord would, and
//! [`super::standin::StandIn`] fails the test at its end if a refusal nobody expected
//! (collected with [`Interactions::take_refusals`]) happened.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::limits;
use super::payloads;
use super::responses::error;

/// How long after its sending an interaction may be acknowledged.
pub const RESPONSE_DEADLINE: Duration = Duration::from_secs(3);
/// How long after the acknowledgement its token works for follow-ups and edits.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Interaction types (`type` of an interaction).
const PING: u64 = 1;
const COMPONENT: u64 = 3;
const AUTOCOMPLETE: u64 = 4;
const MODAL_SUBMIT: u64 = 5;

/// A request Discord would have refused, and why.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub path: String,
    /// Discord's error code.
    pub code: u64,
    pub why: String,
}

#[derive(Debug, Clone, Copy)]
struct Tracked {
    /// The interaction's type.
    kind: u64,
    sent: Instant,
    acknowledged: Option<Instant>,
}

#[derive(Default)]
struct State {
    /// By token.
    tracked: HashMap<String, Tracked>,
    refusals: Vec<Refusal>,
    next_message_id: u64,
    /// Instead of [`TOKEN_LIFETIME`].
    lifetime: Option<Duration>,
    /// Instead of [`RESPONSE_DEADLINE`].
    deadline: Option<Duration>,
}

#[derive(Default)]
pub struct Interactions {
    state: Mutex<State>,
}

impl Interactions {
    /// `interaction` went to the bot through the gateway now.
    pub(super) fn sent(&self, interaction: &Value) {
        self.track(interaction, None);
    }

    /// `interaction` is posted to the bot's HTTP endpoint now: its reply is the
    /// acknowledgement (so follow-ups may come at once, and a callback is a second one).
    pub fn answered_over_http(&self, interaction: &Value) {
        self.track(interaction, Some(Instant::now()));
    }

    fn track(&self, interaction: &Value, acknowledged: Option<Instant>) {
        let Some(token) = interaction["token"].as_str() else {
            return;
        };
        let tracked = Tracked {
            kind: interaction["type"].as_u64().unwrap_or(0),
            sent: Instant::now(),
            acknowledged,
        };
        let mut state = self.state.lock().unwrap();
        state.tracked.insert(token.to_owned(), tracked);
    }

    /// Tokens work for follow-ups for `lifetime` after the acknowledgement.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.state.lock().unwrap().lifetime = Some(lifetime);
    }

    /// Interactions must be acknowledged within `deadline` of their sending.
    pub fn set_response_deadline(&self, deadline: Duration) {
        self.state.lock().unwrap().deadline = Some(deadline);
    }

    /// The refusals so far, which are then expected (not reported at the end).
    pub fn take_refusals(&self) -> Vec<Refusal> {
        std::mem::take(&mut self.state.lock().unwrap().refusals)
    }

    /// The refusals nobody took.
    pub fn unexpected_refusals(&self) -> Vec<Refusal> {
        self.state.lock().unwrap().refusals.clone()
    }

    /// A refusal of a message body over Discord's limits, on any route.
    pub(super) fn refuse_over_limits(&self, path: &str, problem: String) -> Response {
        self.refuse(path, StatusCode::BAD_REQUEST, 50035, problem)
    }

    fn refuse(&self, path: &str, status: StatusCode, code: u64, why: String) -> Response {
        let response = error(status, code, &why);
        self.state.lock().unwrap().refusals.push(Refusal {
            path: path.to_owned(),
            code,
            why,
        });
        response
    }

    /// Answers the interaction routes; `None` for any other request.
    pub(super) fn handle(
        &self,
        method: &str,
        path: &str,
        segments: &[&str],
        body: &Value,
    ) -> Option<Response> {
        match (method, segments) {
            ("POST", ["interactions", _, token, "callback"]) => {
                Some(self.callback(path, token, body))
            }
            ("POST", ["webhooks", _, token]) => Some(self.webhook(path, token, Some(body))),
            ("PATCH", ["webhooks", _, token, "messages", _]) => {
                Some(self.webhook(path, token, Some(body)))
            }
            ("DELETE", ["webhooks", _, token, "messages", _]) => {
                Some(self.webhook(path, token, None))
            }
            _ => None,
        }
    }

    fn callback(&self, path: &str, token: &str, body: &Value) -> Response {
        let (tracked, deadline) = {
            let state = self.state.lock().unwrap();
            let deadline = state.deadline.unwrap_or(RESPONSE_DEADLINE);
            (state.tracked.get(token).copied(), deadline)
        };
        let Some(tracked) = tracked else {
            let why = "Unknown interaction (never sent)".to_owned();
            return self.refuse(path, StatusCode::NOT_FOUND, 10062, why);
        };
        if tracked.acknowledged.is_some() {
            let why = "Interaction has already been acknowledged.".to_owned();
            return self.refuse(path, StatusCode::BAD_REQUEST, 40060, why);
        }
        let age = tracked.sent.elapsed();
        if age > deadline {
            let why = format!("Unknown interaction (answered {age:?} after it was sent)");
            return self.refuse(path, StatusCode::NOT_FOUND, 10062, why);
        }
        if let Some(problem) = unsuitable(tracked.kind, body) {
            return self.refuse(path, StatusCode::BAD_REQUEST, 50035, problem);
        }
        if let Some(entry) = self.state.lock().unwrap().tracked.get_mut(token) {
            entry.acknowledged = Some(Instant::now());
        }
        StatusCode::NO_CONTENT.into_response()
    }

    /// A follow-up (`body`), an edit (`body`) or a delete (`None`) with `token`.
    fn webhook(&self, path: &str, token: &str, body: Option<&Value>) -> Response {
        let (tracked, lifetime, id) = {
            let mut state = self.state.lock().unwrap();
            state.next_message_id += 1;
            let id = 10_000 + state.next_message_id;
            let lifetime = state.lifetime.unwrap_or(TOKEN_LIFETIME);
            (state.tracked.get(token).copied(), lifetime, id)
        };
        let Some(acknowledged) = tracked.and_then(|t| t.acknowledged) else {
            let why = "Unknown Webhook (the interaction was not acknowledged)".to_owned();
            return self.refuse(path, StatusCode::NOT_FOUND, 10015, why);
        };
        if acknowledged.elapsed() > lifetime {
            let why = "Invalid Webhook Token (older than 15 minutes)".to_owned();
            return self.refuse(path, StatusCode::UNAUTHORIZED, 50027, why);
        }
        let Some(body) = body else {
            return StatusCode::NO_CONTENT.into_response();
        };
        if let Some(problem) = limits::message(body) {
            return self.refuse_over_limits(path, problem);
        }
        let field = |name: &str| body.get(name).cloned().unwrap_or(Value::Array(Vec::new()));
        let content = body["content"].as_str().unwrap_or_default();
        Json(payloads::message(
            id,
            content,
            &field("embeds"),
            &field("components"),
        ))
        .into_response()
    }
}

/// Why a callback `body` does not suit an interaction of type `kind`, if it does not.
fn unsuitable(kind: u64, body: &Value) -> Option<String> {
    let response = body["type"].as_u64().unwrap_or(0);
    let data = &body["data"];
    let allowed = match response {
        1 => kind == PING,
        4 | 5 => kind != AUTOCOMPLETE && kind != PING,
        6 | 7 => kind == COMPONENT || kind == MODAL_SUBMIT,
        8 => kind == AUTOCOMPLETE,
        9 => kind != AUTOCOMPLETE && kind != MODAL_SUBMIT && kind != PING,
        _ => false,
    };
    if !allowed {
        return Some(format!(
            "type: response type {response} is not valid for an interaction of type {kind}"
        ));
    }
    match response {
        4 | 7 => limits::message(data).map(|problem| format!("data.{problem}")),
        8 => limits::choices(data),
        9 => limits::modal(data),
        _ => None,
    }
}
