//! A Q&A thread for every talk (`/setup threads`): which talks get one, what it is called
//! and says, and the outbox posts that open and archive it. Pure: the programme's channel
//! reminders, the server's settings and `now` in, posts out.
//!
//! - A thread is started on the talk's channel reminder once that is posted (a thread
//!   started from a message has the message's id), named "Q&A · <title>" within Discord's
//!   100 characters, with the talk card as its first message (speakers named, never pinged;
//!   the link; the end time).
//! - Its posts are keyed like the reminder they belong to (channel, talk, schedule
//!   version): a moved talk's thread opens on the reminder of its new time; a cancelled
//!   talk's reminder is retired, and a thread whose reminder was never posted is not
//!   opened (delivery drops it).
//! - It is archived at the talk's end plus the server's grace period, and locked as well
//!   when the organisers chose so. An opened thread is always archived: the planner never
//!   retires archive posts.
//! - Planned for the reminders due from an hour back to [`HORIZON`] ahead; the minute
//!   sweep moves the window on.

use chrono::{DateTime, Duration, Utc};

use crate::domain::commands::{escape_markdown, limits, truncate};
use crate::domain::programme::Programme;
use crate::domain::reminders::{
    is_web_url, plan_channels, ChannelPlan, PlannedPost, PostBody, PostKey, PostKind,
};
use crate::domain::text::title_key;
use crate::domain::time::{discord_timestamp, TimestampStyle};

/// How far ahead threads are planned.
pub const HORIZON: Duration = Duration::hours(3);
/// A thread is opened this long after its reminder is due: the reminder goes first.
pub const AFTER_REMINDER: Duration = Duration::seconds(2);
/// Discord's limit on a thread's name.
pub const MAX_NAME: usize = 100;
/// The longest grace period, in minutes (a day).
pub const MAX_GRACE_MINUTES: u32 = 1440;

/// A server's thread settings; `None` in the settings: no threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadSettings {
    /// Only talks in these rooms (matched like room names everywhere); empty: every room.
    pub rooms: Vec<String>,
    /// Only talks of these tracks; empty: every track.
    pub tracks: Vec<String>,
    /// How long after the talk's end its thread stays open, in minutes.
    pub grace_minutes: u32,
    /// Lock the thread as well as archive it.
    pub lock: bool,
}

impl Default for ThreadSettings {
    fn default() -> Self {
        Self {
            rooms: Vec::new(),
            tracks: Vec::new(),
            grace_minutes: 15,
            lock: false,
        }
    }
}

impl ThreadSettings {
    fn wants(&self, room: Option<&str>, track: Option<&str>) -> bool {
        let listed = |list: &[String], value: Option<&str>| {
            list.is_empty()
                || value.is_some_and(|v| list.iter().any(|item| title_key(item) == title_key(v)))
        };
        listed(&self.rooms, room) && listed(&self.tracks, track)
    }
}

/// The open and archive posts of the threads of the talks whose channel reminders fall due
/// from an hour before `now` to [`HORIZON`] after, in `guild`'s channels.
pub fn thread_posts(
    programme: &Programme,
    channels: &ChannelPlan,
    guild: u64,
    settings: &ThreadSettings,
    now: DateTime<Utc>,
) -> Vec<PlannedPost> {
    let window = (now - Duration::hours(1))..=(now + HORIZON);
    let grace = Duration::minutes(i64::from(settings.grace_minutes.min(MAX_GRACE_MINUTES)));
    let talks: std::collections::HashMap<_, _> =
        programme.talks.iter().map(|t| (t.id, t)).collect();
    let mut posts = Vec::new();
    for reminder in plan_channels(programme, channels) {
        if !window.contains(&reminder.due) {
            continue;
        }
        let Some(talk) = reminder.key.subject.talk().and_then(|id| talks.get(&id)) else {
            continue;
        };
        let d = &talk.data;
        let Some(slot) = d.slot else {
            continue;
        };
        if !settings.wants(d.room.as_deref(), d.track.as_deref()) {
            continue;
        }
        let key = |kind| PostKey {
            kind,
            ..reminder.key
        };
        posts.push(PlannedPost {
            key: key(PostKind::Thread),
            due: reminder.due + AFTER_REMINDER,
            // A thread for a talk that is over helps nobody.
            expires: Some(slot.end),
            body: PostBody::ThreadOpen {
                guild,
                name: name(&d.title),
                card: card(talk, slot.end),
            },
        });
        posts.push(PlannedPost {
            key: key(PostKind::ThreadClose),
            due: slot.end + grace,
            expires: None,
            body: PostBody::ThreadClose {
                lock: settings.lock,
            },
        });
    }
    posts
}

/// "Q&A · <title>", cut to Discord's 100 characters (a thread name is plain text: no
/// markdown is rendered there).
pub fn name(title: &str) -> String {
    let title: String = title.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&format!("Q&A · {title}"), MAX_NAME)
}

/// The talk card that opens the thread.
fn card(talk: &crate::domain::model::StoredTalk, end: DateTime<Utc>) -> String {
    let d = &talk.data;
    let mut lines = vec![format!(
        "🎤 **{}**",
        truncate(&escape_markdown(&d.title), 200)
    )];
    let speakers: Vec<&str> = d
        .speakers
        .iter()
        .map(|s| s.name.as_str())
        .filter(|n| !n.trim().is_empty())
        .collect();
    if !speakers.is_empty() {
        lines.push(format!(
            "With {}",
            truncate(&escape_markdown(&speakers.join(", ")), 300)
        ));
    }
    lines.push(format!(
        "Ends {} ({})",
        discord_timestamp(end, TimestampStyle::ShortTime),
        discord_timestamp(end, TimestampStyle::Relative)
    ));
    if let Some(url) = d.url.as_deref().filter(|u| is_web_url(u)) {
        lines.push(format!("<{url}>"));
    }
    lines.push("Questions and comments about this talk go here.".to_owned());
    truncate(&lines.join("\n"), limits::CONTENT)
}

#[cfg(test)]
mod tests;
