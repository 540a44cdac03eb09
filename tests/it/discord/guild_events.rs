//! The stand-in's Guild Scheduled Events, as Discord API v10 keeps them:
//! `POST/GET /guilds/{id}/scheduled-events`, `GET/PATCH/DELETE .../scheduled-events/{id}`.
//!
//! - Creating or changing one needs Manage Events (403, code 50013 without it: see
//!   [`super::Guilds::grant_bot`]).
//! - Fields are checked as Discord does: a name of 1–100 characters, a description of at most
//!   1,000, privacy level 2, an external event (entity type 3) with a location of 1–100
//!   characters and an end after its start, no start in the past (400, code 50035).
//! - At most 100 scheduled or active events per server (400, code 30038), whoever made them.
//! - Discord's automation: an external event becomes active at its start and completed at
//!   its end, read from the stand-in's clock ([`ScheduledEvents::set_clock`]: the bot's
//!   clock in tests that speed time up). Only SCHEDULED → ACTIVE or CANCELED and ACTIVE →
//!   COMPLETED are allowed by hand; a finished event takes no change (400, code 180000).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::super::payloads::BOT_USER_ID;
use super::super::responses;

// A sibling on disk, so the benches that include this file by path find it too.
#[path = "guild_event_fields.rs"]
mod fields;
use fields::{apply, edit, invalid, unknown};

pub const SCHEDULED: u64 = 1;
pub const ACTIVE: u64 = 2;
pub const COMPLETED: u64 = 3;
pub const CANCELED: u64 = 4;
/// Discord's limit of scheduled or active events per server.
pub const MAX_LIVE: usize = 100;

type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// One event as the stand-in holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: u64,
    pub guild: u64,
    pub creator: u64,
    pub name: String,
    pub description: Option<String>,
    pub location: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Set by hand (CANCELED or COMPLETED); otherwise the status follows the clock.
    pub set: Option<u64>,
}

impl Event {
    /// The status at `now`, Discord's automation included.
    pub fn status(&self, now: DateTime<Utc>) -> u64 {
        match self.set {
            Some(status) if status != ACTIVE => status,
            _ if now >= self.end => COMPLETED,
            Some(ACTIVE) => ACTIVE,
            _ if now >= self.start => ACTIVE,
            _ => SCHEDULED,
        }
    }

    fn json(&self, now: DateTime<Utc>) -> Value {
        let time = |at: DateTime<Utc>| at.to_rfc3339();
        json!({
            "id": self.id.to_string(), "guild_id": self.guild.to_string(), "channel_id": null,
            "creator_id": self.creator.to_string(), "name": self.name,
            "description": self.description, "scheduled_start_time": time(self.start),
            "scheduled_end_time": time(self.end), "privacy_level": 2,
            "status": self.status(now), "entity_type": 3, "entity_id": null,
            "entity_metadata": {"location": self.location}, "user_count": 0,
        })
    }
}

pub struct ScheduledEvents {
    events: Mutex<BTreeMap<u64, Event>>,
    /// Bumped at every change, so waiters wake up.
    changed: tokio::sync::watch::Sender<u64>,
    next: Mutex<u64>,
    now: Mutex<Now>,
    /// Creates still to answer 500 after making the event (see [`Self::fail_after_creating`]).
    failing: Mutex<usize>,
    /// Every answer given: `METHOD path segments` and the status code.
    answers: Mutex<Vec<(String, u16)>>,
}

impl Default for ScheduledEvents {
    fn default() -> Self {
        Self {
            events: Mutex::default(),
            changed: tokio::sync::watch::Sender::new(0),
            next: Mutex::new(9_000_000_000_000_000),
            now: Mutex::new(Arc::new(Utc::now)),
            failing: Mutex::new(0),
            answers: Mutex::default(),
        }
    }
}

impl ScheduledEvents {
    /// Reads the time from `now` (the wall clock until set).
    pub fn set_clock(&self, now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) {
        *self.now.lock().unwrap() = Arc::new(now);
    }

    pub fn now(&self) -> DateTime<Utc> {
        let now = Arc::clone(&self.now.lock().unwrap());
        now()
    }

    /// Every event of `guild`, in the order made, with its status now.
    pub fn of(&self, guild: u64) -> Vec<(Event, u64)> {
        let now = self.now();
        let events = self.events.lock().unwrap();
        events
            .values()
            .filter(|event| event.guild == guild)
            .map(|event| (event.clone(), event.status(now)))
            .collect()
    }

    /// The events of `guild` scheduled or under way now.
    pub fn live(&self, guild: u64) -> Vec<Event> {
        self.of(guild)
            .into_iter()
            .filter(|(_, status)| matches!(*status, SCHEDULED | ACTIVE))
            .map(|(event, _)| event)
            .collect()
    }

    /// Until `guild`'s events (with their status now) satisfy `reached`; panics with them
    /// after the stand-in's wait.
    pub async fn wait_until(
        &self,
        guild: u64,
        what: &str,
        reached: impl Fn(&[(Event, u64)]) -> bool,
    ) {
        let shown = || format!("{:#?}", self.of(guild));
        self.wait(what, || reached(&self.of(guild)), shown).await;
    }

    /// Waits, re-checking at every request answered, until `done`; else panics with `what`
    /// and `shown`.
    async fn wait(&self, what: &str, done: impl Fn() -> bool, shown: impl Fn() -> String) {
        let mut changed = self.changed.subscribe();
        let waited = tokio::time::timeout(super::super::standin::WAIT, async {
            while !done() {
                if changed.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        assert!(waited.is_ok(), "no {what}: {}", shown());
    }

    /// The next `count` creates make their event and then answer 500, as Discord does when
    /// it fails after acting: the caller cannot know whether the event exists.
    pub fn fail_after_creating(&self, count: usize) {
        *self.failing.lock().unwrap() = count;
    }

    /// A moderator deletes event `id`.
    pub fn delete(&self, id: u64) {
        self.events.lock().unwrap().remove(&id);
        self.changed.send_modify(|n| *n += 1);
    }

    /// `count` events someone else made in `guild`, from `start` to `end`.
    pub fn add_by_people(
        &self,
        guild: u64,
        count: usize,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) {
        for i in 0..count {
            let id = self.next_id();
            self.events.lock().unwrap().insert(
                id,
                Event {
                    id,
                    guild,
                    creator: 1,
                    name: format!("Meetup {i}"),
                    description: None,
                    location: "Lobby".into(),
                    start,
                    end,
                    set: None,
                },
            );
        }
    }

    fn next_id(&self) -> u64 {
        let mut next = self.next.lock().unwrap();
        *next += 1;
        *next
    }

    /// Answers the scheduled-event routes; `None` for any other request. `allowed`: the
    /// bot's permissions let it manage events.
    pub(super) fn handle(
        &self,
        method: &str,
        segments: &[&str],
        body: &Value,
        allowed: bool,
    ) -> Option<Response> {
        let answer = self.answer(method, segments, body, allowed);
        if let Some(answer) = &answer {
            let request = format!("{method} {}", segments.join("/"));
            let status = answer.status().as_u16();
            self.answers.lock().unwrap().push((request, status));
        }
        // Whatever the request did is done: waiters look again.
        self.changed.send_modify(|n| *n += 1);
        answer
    }

    /// Until an answer (`METHOD guilds/…/scheduled-events…`, status) satisfies `matches`.
    pub async fn wait_for_answer(&self, what: &str, matches: impl Fn(&str, u16) -> bool) {
        let answers = || self.answers.lock().unwrap().clone();
        let found = || {
            answers()
                .iter()
                .any(|(request, status)| matches(request, *status))
        };
        self.wait(what, found, || format!("{:#?}", answers())).await;
    }

    fn answer(
        &self,
        method: &str,
        segments: &[&str],
        body: &Value,
        allowed: bool,
    ) -> Option<Response> {
        let ["guilds", guild, "scheduled-events", rest @ ..] = segments else {
            return None;
        };
        let guild: u64 = guild.parse().ok()?;
        let now = self.now();
        let missing = || responses::error(StatusCode::FORBIDDEN, 50013, "Missing Permissions");
        Some(match (method, rest) {
            ("GET", []) => {
                let live: Vec<Value> = self.live(guild).iter().map(|e| e.json(now)).collect();
                Json(json!(live)).into_response()
            }
            ("POST", []) if !allowed => missing(),
            ("POST", []) => self.create(guild, body, now),
            (_, [id]) => {
                let id: u64 = id.parse().ok()?;
                let mut events = self.events.lock().unwrap();
                let Some(event) = events.get_mut(&id).filter(|e| e.guild == guild) else {
                    return Some(unknown());
                };
                match method {
                    "GET" => Json(event.json(now)).into_response(),
                    _ if !allowed => missing(),
                    "DELETE" => {
                        events.remove(&id);
                        StatusCode::NO_CONTENT.into_response()
                    }
                    "PATCH" => edit(event, body, now),
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    fn create(&self, guild: u64, body: &Value, now: DateTime<Utc>) -> Response {
        if body["privacy_level"] != json!(2) || body["entity_type"] != json!(3) {
            return invalid("privacy_level must be 2 and entity_type 3 (external) here");
        }
        if !body["channel_id"].is_null() {
            return invalid("an external event has no channel");
        }
        let mut event = Event {
            id: 0,
            guild,
            creator: BOT_USER_ID,
            name: String::new(),
            description: None,
            location: String::new(),
            start: now,
            end: now,
            set: None,
        };
        if let Err(refusal) = apply(&mut event, body, true) {
            return invalid(&refusal);
        }
        if event.start <= now {
            return invalid("Cannot schedule event in the past.");
        }
        let mut events = self.events.lock().unwrap();
        let live = events
            .values()
            .filter(|e| e.guild == guild && matches!(e.status(now), SCHEDULED | ACTIVE))
            .count();
        if live >= MAX_LIVE {
            return responses::error(
                StatusCode::BAD_REQUEST,
                30038,
                "Maximum number of guild scheduled events reached (100)",
            );
        }
        // Counted and inserted under one lock: two creates at once cannot pass 100.
        event.id = self.next_id();
        let answer = Json(event.json(now)).into_response();
        events.insert(event.id, event);
        let mut failing = self.failing.lock().unwrap();
        if *failing > 0 {
            *failing -= 1;
            return responses::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                0,
                "500: Internal Server Error",
            );
        }
        answer
    }
}
