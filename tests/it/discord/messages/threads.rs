//! Threads started on a message (`POST /channels/{id}/messages/{id}/threads`) and changed
//! (`PATCH /channels/{thread}`: `archived`, `locked`), as Discord v10 does:
//! - the thread's id is the message's; starting a second one on the message is 400 with
//!   code 160004; an unknown or deleted message is 404 / 10008; the name must be 1 to 100
//!   characters and `auto_archive_duration` one of 60, 1440, 4320, 10080 (else 400 / 50035);
//! - the answer is the thread channel (type 11, public) with its `thread_metadata`;
//! - messages are posted in a thread as in its channel (the thread is a channel), except
//!   in an archived one: 400 / 50083 ("Thread is archived"); an archived thread changes
//!   only with a request that unarchives it (else 50083 too).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::super::responses::{error, with_bucket};
use super::{Messages, State};

/// A thread the bot started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// Its id: the message it was started on.
    pub id: u64,
    pub parent: u64,
    pub name: String,
    pub archived: bool,
    pub locked: bool,
    pub auto_archive_duration: u64,
}

impl Thread {
    fn json(&self) -> Value {
        json!({"id": self.id.to_string(), "type": 11, "parent_id": self.parent.to_string(),
               "guild_id": super::super::payloads::GUILD_ID.to_string(), "name": self.name,
               "owner_id": super::super::payloads::BOT_USER_ID.to_string(),
               "message_count": 0, "member_count": 1, "rate_limit_per_user": 0,
               "thread_metadata": {"archived": self.archived, "locked": self.locked,
                                   "auto_archive_duration": self.auto_archive_duration,
                                   "archive_timestamp": chrono::Utc::now().to_rfc3339()}})
    }
}

impl Messages {
    pub(super) fn start_thread(&self, channel: u64, message: u64, body: &Value) -> Response {
        let mut state = self.state.lock().unwrap();
        if let Some(limited) = state.global_limit() {
            return limited;
        }
        let name = body["name"].as_str().unwrap_or_default();
        let duration = body["auto_archive_duration"].as_u64().unwrap_or(1440);
        if !(1..=100).contains(&name.chars().count())
            || ![60, 1440, 4320, 10080].contains(&duration)
        {
            return error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
        }
        let known = state
            .posted
            .iter()
            .any(|p| p.channel == channel && p.id == message);
        if !known || state.deleted.contains(&message) {
            return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
        }
        if state.threads.contains_key(&message) {
            return error(
                StatusCode::BAD_REQUEST,
                160004,
                "A thread has already been created for this message",
            );
        }
        let bucket = match state.route_bucket(channel) {
            Ok(bucket) => bucket,
            Err(limited) => return *limited,
        };
        let thread = Thread {
            id: message,
            parent: channel,
            name: name.to_owned(),
            archived: false,
            locked: false,
            auto_archive_duration: duration,
        };
        let answer = (StatusCode::CREATED, Json(thread.json())).into_response();
        state.threads.insert(message, thread);
        with_bucket(answer, bucket)
    }

    /// `None` when `id` is no thread (another route answers then).
    pub(super) fn change_thread(&self, id: u64, body: &Value) -> Option<Response> {
        let mut state = self.state.lock().unwrap();
        if !state.threads.contains_key(&id) {
            return None;
        }
        if let Some(limited) = state.global_limit() {
            return Some(limited);
        }
        let thread = state.threads.get_mut(&id)?;
        // An archived thread changes only when the request unarchives it.
        if thread.archived && body["archived"].as_bool() != Some(false) {
            return Some(error(StatusCode::BAD_REQUEST, 50083, "Thread is archived"));
        }
        if let Some(archived) = body["archived"].as_bool() {
            thread.archived = archived;
        }
        if let Some(locked) = body["locked"].as_bool() {
            thread.locked = locked;
        }
        Some(Json(thread.json()).into_response())
    }

    /// Whether `id` is a thread the bot started.
    pub(crate) fn is_thread(&self, id: u64) -> bool {
        self.state.lock().unwrap().threads.contains_key(&id)
    }

    /// A moderator archives the thread.
    pub fn archive_thread(&self, id: u64) {
        if let Some(thread) = self.state.lock().unwrap().threads.get_mut(&id) {
            thread.archived = true;
        }
    }

    /// Every thread started, by id.
    pub fn threads(&self) -> Vec<Thread> {
        self.state
            .lock()
            .unwrap()
            .threads
            .values()
            .cloned()
            .collect()
    }
}

/// The refusal of a post in an archived thread.
pub(super) fn refuse_post(state: &State, channel: u64) -> Option<Response> {
    state
        .threads
        .get(&channel)
        .filter(|thread| thread.archived)
        .map(|_| error(StatusCode::BAD_REQUEST, 50083, "Thread is archived"))
}
