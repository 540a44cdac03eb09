//! What became of posted messages: read back (`GET /channels/{id}/messages`), edited
//! (`PATCH /channels/{id}/messages/{id}`) and deleted by someone (a test's
//! [`Messages::delete_message`]), as Discord v10 does it:
//! - an edit replaces the content (and components) of a message the bot created, answers
//!   the message with `edited_timestamp`, and counts against the channel's bucket and the
//!   global limit like a post;
//! - a deleted or unknown message is 404 with code 10008 ("Unknown Message"), a missing
//!   channel 404 / 10003; reads no longer return a deleted message and show edited text;
//! - the bot deletes its own message with `DELETE /channels/{id}/messages/{id}` (204);
//! - a message in an archived thread can be neither edited nor deleted (400 / 50083).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::super::payloads;
use super::super::responses::Bucket;
use super::super::responses::{error, page, too_many, with_bucket};
use super::{Messages, Posted, State};

/// One edit the stand-in applied.
#[derive(Debug, Clone)]
pub struct Edit {
    pub channel: u64,
    pub id: u64,
    pub content: String,
    /// The whole JSON body as sent.
    pub body: Value,
}

/// Whether the bot may change (edit or delete) message `id` of `channel` now, as Discord
/// decides it: the global limit, the channel, the message, an archived thread, then the
/// channel's bucket, whose place is returned.
fn changeable(state: &mut State, channel: u64, id: u64) -> Result<Bucket, Box<Response>> {
    if let Some(limited) = state.global_limit() {
        return Err(Box::new(limited));
    }
    if state.missing_channels.contains(&channel) {
        return Err(Box::new(error(
            StatusCode::NOT_FOUND,
            10003,
            "Unknown Channel",
        )));
    }
    let known = state
        .posted
        .iter()
        .any(|p| p.channel == channel && p.id == id);
    if !known || state.deleted.contains(&id) {
        return Err(Box::new(error(
            StatusCode::NOT_FOUND,
            10008,
            "Unknown Message",
        )));
    }
    if let Some(archived) = super::threads::refuse_post(state, channel) {
        return Err(Box::new(archived));
    }
    state.route_bucket(channel)
}

impl Messages {
    /// `?after=ID&limit=N`: the channel's messages made after ID, at most N (1-100, default
    /// 50), newest first.
    pub(super) fn read_messages(&self, channel: u64, query: &str) -> Response {
        let parameter = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_owned)
        };
        let after: u64 = parameter("after").and_then(|a| a.parse().ok()).unwrap_or(0);
        let limit: usize = parameter("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
        }
        let mut state = self.state.lock().unwrap();
        if let Some(limited) = state.global_limit() {
            return limited;
        }
        if let Some((left, wait)) = state.read_storm {
            state.read_storm = (left > 1).then_some((left - 1, wait));
            state.counts.rate_limited += 1;
            return too_many(wait, true);
        }
        let shown: Vec<Posted> = state
            .posted
            .iter()
            .filter(|p| p.channel == channel && p.id > after && !state.deleted.contains(&p.id))
            .map(|p| Posted {
                content: state.edited.get(&p.id).unwrap_or(&p.content).clone(),
                ..p.clone()
            })
            .collect();
        let mut found: Vec<&Posted> = shown.iter().collect();
        // The `limit` oldest after `after`, answered newest first.
        found.sort_by_key(|p| p.id);
        found.truncate(limit);
        found.reverse();
        page(&found, channel)
    }

    pub(super) fn edit_message(&self, channel: u64, id: u64, body: &Value) -> Response {
        let mut state = self.state.lock().unwrap();
        let bucket = match changeable(&mut state, channel, id) {
            Ok(bucket) => bucket,
            Err(refused) => return *refused,
        };
        let content = body["content"].as_str().unwrap_or_default().to_owned();
        state.edited.insert(id, content.clone());
        state.edits.push(Edit {
            channel,
            id,
            content: content.clone(),
            body: body.clone(),
        });
        let edits = state.edits.len();
        drop(state);
        self.edit_count.send_replace(edits);
        let field = |name: &str| body.get(name).cloned().unwrap_or(json!([]));
        let mut object = payloads::message(id, &content, &field("embeds"), &field("components"));
        object["channel_id"] = json!(channel.to_string());
        object["edited_timestamp"] = json!(chrono::Utc::now().to_rfc3339());
        with_bucket(Json(object).into_response(), bucket)
    }

    /// `DELETE /channels/{channel}/messages/{id}` by the bot.
    pub(super) fn remove_message(&self, channel: u64, id: u64) -> Response {
        let mut state = self.state.lock().unwrap();
        let bucket = match changeable(&mut state, channel, id) {
            Ok(bucket) => bucket,
            Err(refused) => return *refused,
        };
        state.deleted.insert(id);
        state.removed.push((channel, id));
        with_bucket(StatusCode::NO_CONTENT.into_response(), bucket)
    }

    /// The messages the bot deleted, `(channel, id)` in order.
    pub fn removed(&self) -> Vec<(u64, u64)> {
        self.state.lock().unwrap().removed.clone()
    }

    /// Someone deleted the message: edits of it get 404 / 10008 from now on.
    pub fn delete_message(&self, id: u64) {
        self.state.lock().unwrap().deleted.insert(id);
    }

    /// Every edit, in order.
    pub fn edits(&self) -> Vec<Edit> {
        self.state.lock().unwrap().edits.clone()
    }

    /// The messages of `channel` as a member sees them now: not deleted, edited text
    /// shown, oldest first.
    pub fn current(&self, channel: u64) -> Vec<Posted> {
        let state = self.state.lock().unwrap();
        state
            .posted
            .iter()
            .filter(|p| p.channel == channel && !state.deleted.contains(&p.id))
            .map(|p| Posted {
                content: state.edited.get(&p.id).unwrap_or(&p.content).clone(),
                ..p.clone()
            })
            .collect()
    }

    /// Waits until at least `count` edits were applied; panics after `wait`.
    pub async fn wait_for_edits(&self, count: usize, wait: std::time::Duration) -> Vec<Edit> {
        let mut edited = self.edit_count.subscribe();
        let reached = tokio::time::timeout(wait, edited.wait_for(|n| *n >= count)).await;
        assert!(
            reached.is_ok(),
            "{count} edits not applied within {wait:?}: {:?}",
            self.edits()
        );
        self.edits()
    }
}
