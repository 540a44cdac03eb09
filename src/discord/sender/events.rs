//! Guild Scheduled Events for the delivery loop: a talk's external event created, edited,
//! cancelled (status 4) or ended (status 3: an active event may only end), and the look
//! for an event an earlier attempt may have made (Discord keeps no nonce for events).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{read_json, DiscordSender};
use crate::domain::events::{EventAction, EventSpec};
use crate::jobs::{Claim, SendError};

/// Discord's values: an external event, visible to the server's members.
const EXTERNAL: u8 = 3;
const GUILD_ONLY: u8 = 2;
const COMPLETED: u8 = 3;
const CANCELED: u8 = 4;

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    creator_id: Option<String>,
    #[serde(default)]
    scheduled_start_time: Option<String>,
    #[serde(default)]
    status: Option<u8>,
    #[serde(default)]
    entity_metadata: Option<Location>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    location: Option<String>,
}

impl DiscordSender {
    /// Makes `action` on `guild`'s events; the event's id.
    pub(super) async fn scheduled_event(
        &self,
        guild: u64,
        action: &EventAction,
        claim: &Claim,
    ) -> Result<u64, SendError> {
        let route = format!("events:{guild}");
        if let EventAction::Cancel { event } | EventAction::End { event } = action {
            return self.finish_event(guild, *event, action, claim).await;
        }
        let (method, path, body, known) = match action {
            EventAction::Create(spec) => {
                let mut body = fields(spec, true);
                body["privacy_level"] = json!(GUILD_ONLY);
                body["entity_type"] = json!(EXTERNAL);
                let path = format!("/guilds/{guild}/scheduled-events");
                (reqwest::Method::POST, path, body, None)
            }
            EventAction::Edit {
                event,
                spec,
                started,
            } => (
                reqwest::Method::PATCH,
                edit_path(guild, *event),
                // Discord started it: its start stays.
                fields(spec, !started),
                Some(*event),
            ),
            EventAction::Cancel { event } | EventAction::End { event } => {
                return Ok(*event);
            }
        };
        let response = self
            .request(method, &route, &path, Some(body.to_string()), false, claim)
            .await?;
        if let Some(event) = known {
            return Ok(event);
        }
        // Created, whatever the answer says: one that cannot be read leaves the event made
        // but unknown, and the retry looks for it.
        let made: Event = read_json(response).await.map_err(|error| match error {
            SendError::Rejected(reason) => SendError::Unknown(reason),
            other => other,
        })?;
        made.id
            .parse()
            .map_err(|_| SendError::Unknown(format!("event id {:?}", made.id)))
    }

    /// Cancels a scheduled event or ends an active one. Discord may start an event a moment
    /// after its start, and a lost answer may have finished it already: a refused status
    /// is tried the other way, and an event found finished (or gone) counts as done.
    async fn finish_event(
        &self,
        guild: u64,
        event: u64,
        action: &EventAction,
        claim: &Claim,
    ) -> Result<u64, SendError> {
        let route = format!("events:{guild}");
        let path = edit_path(guild, event);
        let (first, second) = match action {
            EventAction::End { .. } => (COMPLETED, CANCELED),
            _ => (CANCELED, COMPLETED),
        };
        let mut refused = None;
        for status in [first, second] {
            let body = json!({ "status": status }).to_string();
            let method = reqwest::Method::PATCH;
            match self
                .request(method, &route, &path, Some(body), false, claim)
                .await
            {
                Ok(_) => return Ok(event),
                Err(error @ SendError::Rejected(_)) => refused = Some(error),
                Err(error) => return Err(error),
            }
        }
        let response = self
            .request(reqwest::Method::GET, &route, &path, None, false, claim)
            .await?;
        let found: Event = read_json(response).await?;
        if matches!(found.status, Some(COMPLETED | CANCELED)) {
            return Ok(event);
        }
        Err(refused.unwrap_or_else(|| SendError::Rejected("the event's status".to_owned())))
    }

    /// The id of `guild`'s live event made by this bot with `spec`'s name and start.
    pub(super) async fn own_event(
        &self,
        guild: u64,
        spec: &EventSpec,
        claim: &Claim,
    ) -> Result<Option<u64>, SendError> {
        let own = self.own_id(claim).await?.to_string();
        let path = format!("/guilds/{guild}/scheduled-events");
        let route = format!("events-read:{guild}");
        let response = self
            .request(reqwest::Method::GET, &route, &path, None, false, claim)
            .await?;
        let events: Vec<Event> = read_json(response).await?;
        Ok(events
            .iter()
            .filter(|event| event.creator_id.as_deref() == Some(own.as_str()))
            .filter(|event| event.name == spec.name)
            .filter(|event| {
                let location = event
                    .entity_metadata
                    .as_ref()
                    .and_then(|m| m.location.as_deref());
                location == Some(spec.location.as_str())
            })
            .filter(|event| {
                event
                    .scheduled_start_time
                    .as_deref()
                    .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                    .is_some_and(|at| at.with_timezone(&Utc) == spec.start)
            })
            .find_map(|event| event.id.parse().ok()))
    }
}

fn edit_path(guild: u64, event: u64) -> String {
    format!("/guilds/{guild}/scheduled-events/{event}")
}

/// The event's fields as Discord takes them (the start only where it may change).
fn fields(spec: &EventSpec, with_start: bool) -> Value {
    let time = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut body = json!({
        "name": spec.name,
        // Discord takes 1 to 1,000 characters, or none.
        "description": (!spec.description.is_empty()).then_some(&spec.description),
        "scheduled_end_time": time(spec.end),
        "entity_metadata": { "location": spec.location },
    });
    if with_start {
        body["scheduled_start_time"] = json!(time(spec.start));
    }
    body
}
