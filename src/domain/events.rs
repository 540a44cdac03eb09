//! Discord Events (`/setup events`): which talks get a Guild Scheduled Event in a server,
//! what each says, and the outbox posts that keep them in step with the programme. Pure:
//! the programme, the server's selection, its recorded events and `now` in, posts out;
//! at send time [`action`] turns a post into the one request it needs.
//!
//! - An event is external (the room is its location), named after the talk within
//!   Discord's 100 characters, its description (speakers, abstract, link) within 1,000.
//! - Discord starts an external event at its start and ends it at its end by itself, and
//!   counts at most [`MAX_EVENTS`] scheduled or active events per server: an event counts
//!   from its creation to its end, so the plan creates events for the nearest selected
//!   talks while fewer than that are live, and the rest as earlier ones end (the minute
//!   sweep plans again). Discord refuses events that start in the past: a talk already
//!   under way gets none.
//! - A moved or changed talk's event is edited (an active event keeps its start); a
//!   cancelled or deselected talk's event is cancelled, or ended when it is under way.
//! - A post's key carries the recorded event's revision (bumped at every change confbot
//!   records) and a digest of what the event is to show, so each change is sent once, a
//!   change undone is sent again, and a talk put back (or events turned on again) gets a
//!   new event. A post applies only to the revision it was planned from ([`action`]): an
//!   older post claimed late never overwrites a newer change.
//! - New events are due 30 days before their talk (the nearest first, under the limit),
//!   edits and cancellations at once.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::commands::{escape_markdown, truncate};
use crate::domain::model::{StoredTalk, TalkId, TalkKind, TalkStatus};
use crate::domain::programme::Programme;
use crate::domain::reminders::{
    is_web_url, PlannedPost, PostBody, PostKey, PostKind, Subject, Target,
};
use crate::domain::text::title_key;

/// Discord's limit of scheduled or active events per server.
pub const MAX_EVENTS: usize = 100;
/// Discord's limits on an event's name, description and external location.
pub const MAX_NAME: usize = 100;
pub const MAX_DESCRIPTION: usize = 1000;
pub const MAX_LOCATION: usize = 100;
/// A new event is due this long before its talk: the same instant on every pass (a due
/// that moved with `now` would re-plan the row at each sweep).
pub const AHEAD: Duration = Duration::days(30);

/// Which talks of the programme get an event: each list that is not empty must name the
/// talk's room, track or submission type ("Keynote"), matched like room names everywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSelection {
    pub rooms: Vec<String>,
    pub tracks: Vec<String>,
    pub types: Vec<String>,
}

impl EventSelection {
    /// Whether `talk` is selected (a talk that takes place: not cancelled, not a break or
    /// an all-day entry, with a time). Its submission type must be there: a programme's
    /// compact talks leave it out (see [`Programme::full_talk`]).
    pub fn wants(&self, talk: &StoredTalk) -> bool {
        self.wants_besides_type(talk) && listed(&self.types, talk.data.talk_type.as_deref())
    }

    fn wants_besides_type(&self, talk: &StoredTalk) -> bool {
        let d = &talk.data;
        d.kind == TalkKind::Talk
            && d.status == TalkStatus::Confirmed
            && d.slot
                .is_some_and(|slot| !slot.all_day && slot.end > slot.start)
            && listed(&self.rooms, d.room.as_deref())
            && listed(&self.tracks, d.track.as_deref())
    }
}

/// Whether `value` is in `list`, matched like room names; an empty list takes anything.
fn listed(list: &[String], value: Option<&str>) -> bool {
    list.is_empty()
        || value.is_some_and(|v| list.iter().any(|item| title_key(item) == title_key(v)))
}

/// What a talk's event shows, within Discord's limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventSpec {
    /// Plain text (Discord shows an event's name as typed).
    pub name: String,
    /// Markdown, imported text escaped.
    pub description: String,
    pub location: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl EventSpec {
    /// The event of `talk`; `None` when it has no time. `venue` is the location of a talk
    /// without a room (the conference's name).
    pub fn of(talk: &StoredTalk, venue: &str) -> Option<Self> {
        let d = &talk.data;
        let slot = d.slot?;
        let title = one_line(&d.title);
        let name = if title.is_empty() {
            "Talk".to_owned()
        } else {
            truncate(&title, MAX_NAME)
        };
        let location = [d.room.as_deref(), Some(venue), Some("The conference")]
            .into_iter()
            .flatten()
            .map(one_line)
            .find(|place| !place.is_empty())
            .unwrap_or_default();
        Some(Self {
            name,
            description: description(talk),
            location: truncate(&location, MAX_LOCATION),
            start: slot.start,
            end: slot.end,
        })
    }

    /// A digest of every field: what the recorded event is compared with.
    pub fn digest(&self) -> i32 {
        let mut hasher = Sha256::new();
        for field in [&self.name, &self.description, &self.location] {
            hasher.update(field.as_bytes());
            hasher.update([0]);
        }
        hasher.update(self.start.timestamp().to_be_bytes());
        hasher.update(self.end.timestamp().to_be_bytes());
        let bytes = hasher.finalize();
        i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}

/// A talk's event in a server, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub talk: TalkId,
    /// Discord's id, once created.
    pub event: Option<u64>,
    /// The digest of what it shows ([`EventSpec::digest`]).
    pub shown: Option<i32>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Cancelled, or ended early, by confbot (or found deleted).
    pub cancelled: bool,
    /// Bumped at every change recorded: the posts planned from it carry it.
    pub revision: i32,
}

impl StoredEvent {
    /// Whether Discord counts it at `now`: created, not cancelled and not over.
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.event.is_some() && !self.cancelled && self.end.is_some_and(|end| end > now)
    }
}

/// The posts that bring `guild`'s events in step with the programme at `now`: edits of
/// live events whose talk changed, cancellations of live events whose talk is no longer
/// selected (every one when `selection` is `None`: events are off), and new events for the
/// nearest selected talks while fewer than [`MAX_EVENTS`] are live.
pub fn event_posts(
    programme: &Programme,
    guild: u64,
    selection: Option<&EventSelection>,
    stored: &[StoredEvent],
    now: DateTime<Utc>,
) -> Vec<PlannedPost> {
    let recorded: std::collections::HashMap<TalkId, &StoredEvent> =
        stored.iter().map(|event| (event.talk, event)).collect();
    let venue = programme.conference.name.as_str();
    // The cheap tests first: the full talk (with its type and abstract) is put together
    // only for the talks that may get a post.
    let mut candidates: Vec<(DateTime<Utc>, TalkId, usize)> = programme
        .talks
        .iter()
        .enumerate()
        .filter(|(_, talk)| selection.is_some_and(|s| s.wants_besides_type(talk)))
        .filter_map(|(index, talk)| {
            let slot = talk.data.slot?;
            (slot.end > now).then_some((slot.start, talk.id, index))
        })
        .collect();
    candidates.sort_unstable();
    let live = stored.iter().filter(|event| event.live(now)).count();
    let mut free = MAX_EVENTS.saturating_sub(live);
    let mut posts = Vec::new();
    let mut kept = std::collections::HashSet::new();
    for (start, talk, index) in candidates {
        let event = recorded.get(&talk).filter(|event| event.live(now));
        if event.is_none() && (start <= now || free == 0) {
            continue;
        }
        let Some(full) = programme
            .full_talk(index)
            .filter(|full| selection.is_some_and(|s| s.wants(full)))
        else {
            continue;
        };
        let Some(spec) = EventSpec::of(&full, venue) else {
            continue;
        };
        let revision = recorded.get(&talk).map_or(0, |event| event.revision);
        if let Some(event) = event {
            kept.insert(talk);
            if event.shown != Some(spec.digest()) {
                posts.push(post(guild, talk, revision, Some(spec), false));
            }
        } else {
            free -= 1;
            posts.push(post(guild, talk, revision, Some(spec), true));
        }
    }
    for event in stored {
        if event.live(now) && !kept.contains(&event.talk) {
            posts.push(post(guild, event.talk, event.revision, None, false));
        }
    }
    posts
}

fn post(
    guild: u64,
    talk: TalkId,
    revision: i32,
    spec: Option<EventSpec>,
    new: bool,
) -> PlannedPost {
    let mut hasher = Sha256::new();
    hasher.update(revision.to_be_bytes());
    hasher.update(spec.as_ref().map_or(0, EventSpec::digest).to_be_bytes());
    let bytes = hasher.finalize();
    let (due, expires) = match &spec {
        Some(spec) if new => (spec.start - AHEAD, Some(spec.end)),
        // Edits and cancellations at once.
        Some(spec) => (DateTime::<Utc>::UNIX_EPOCH, Some(spec.end)),
        None => (DateTime::<Utc>::UNIX_EPOCH, None),
    };
    PlannedPost {
        key: PostKey {
            target: Target::Guild(guild),
            subject: Subject::Talk(talk),
            kind: PostKind::Event,
            schedule_version: i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        },
        due,
        expires,
        body: PostBody::Event { spec, revision },
    }
}

/// The one request a post needs, given the talk's recorded event at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventAction {
    /// A new event.
    Create(EventSpec),
    /// Every field of a scheduled event, or all but the start (`started`: Discord started
    /// the event already, or the talk's new start is past, which Discord refuses).
    Edit {
        event: u64,
        spec: EventSpec,
        started: bool,
    },
    /// A scheduled event cancelled (status 4).
    Cancel { event: u64 },
    /// An event under way ended (status 3: Discord lets an active event only end).
    End { event: u64 },
}

/// What a post (`spec`: the event to show; `None`: none; planned from the event's
/// `revision`) asks of the recorded event at `now`; `Err` with the reason when nothing is
/// left to do.
pub fn action(
    spec: Option<&EventSpec>,
    revision: i32,
    stored: Option<&StoredEvent>,
    now: DateTime<Utc>,
) -> Result<EventAction, &'static str> {
    if stored.map_or(0, |event| event.revision) != revision {
        return Err("the event changed since this was planned; the next plan has it");
    }
    let live = stored.filter(|event| event.live(now));
    let started = |event: &StoredEvent| event.start.is_some_and(|start| start <= now);
    match (spec, live) {
        (Some(spec), Some(event)) if event.shown == Some(spec.digest()) => {
            Err("the event shows this already")
        }
        (Some(spec), Some(event)) => Ok(EventAction::Edit {
            event: event.event.unwrap_or_default(),
            spec: spec.clone(),
            started: started(event) || spec.start <= now,
        }),
        (Some(spec), None) if spec.start > now => Ok(EventAction::Create(spec.clone())),
        (Some(_), None) => Err("the talk has begun: Discord schedules no event in the past"),
        (None, Some(event)) if started(event) => Ok(EventAction::End {
            event: event.event.unwrap_or_default(),
        }),
        (None, Some(event)) => Ok(EventAction::Cancel {
            event: event.event.unwrap_or_default(),
        }),
        (None, None) => Err("the event is cancelled or over already"),
    }
}

/// Speakers, the abstract and the link, escaped, within Discord's 1,000 characters.
fn description(talk: &StoredTalk) -> String {
    let d = &talk.data;
    let mut parts = Vec::new();
    let speakers: Vec<&str> = d
        .speakers
        .iter()
        .map(|s| s.name.trim())
        .filter(|n| !n.is_empty())
        .collect();
    if !speakers.is_empty() {
        parts.push(format!(
            "With {}",
            truncate(&escape_markdown(&speakers.join(", ")), 300)
        ));
    }
    let url = d.url.as_deref().filter(|u| is_web_url(u) && u.len() <= 512);
    let summary = d
        .abstract_text
        .as_deref()
        .or(d.description.as_deref())
        .map(str::trim)
        .filter(|text| !text.is_empty());
    if let Some(summary) = summary {
        // What the link and the speakers leave of the limit.
        let room = MAX_DESCRIPTION
            .saturating_sub(url.map_or(0, |u| u.chars().count() + 4))
            .saturating_sub(parts.first().map_or(0, |p| p.chars().count() + 2));
        parts.push(truncate(&escape_markdown(summary), room));
    }
    if let Some(url) = url {
        parts.push(format!("<{url}>"));
    }
    truncate(&parts.join("\n\n"), MAX_DESCRIPTION)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
