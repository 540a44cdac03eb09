//! What posts say. Reminder text is built at send time from `now`, so a reminder sent late
//! (after downtime) states the true remaining time; change notices are complete when planned.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::announcements::Ping;
use crate::domain::commands::{escape_markdown, limits, truncate};
use crate::domain::diff::Placement;
use crate::domain::model::StoredTalk;
use crate::domain::time::{discord_timestamp, TimestampStyle};

/// The longest link a reminder carries; longer ones are left out rather than cut (a cut
/// link is a broken link).
const MAX_URL: usize = 512;

/// What a post says, kept as data (serialisable for an outbox row).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "body", rename_all = "snake_case")]
pub enum PostBody {
    /// A reminder; its wording depends on when it is sent (see [`reminder_content`]).
    Reminder(ReminderBody),
    /// A change notice: finished markdown, imported text already escaped.
    Notice { content: String },
    /// An organiser's announcement: the text with its ping, and who may be pinged.
    Announcement { content: String, ping: Ping },
    /// What a board's panel shows: finished markdown, imported text already escaped. Sent
    /// as an edit of the panel's message (a new message when it has none).
    Board { panel: i64, content: String },
    /// A talk's thread: its name (plain text) and the card posted in it first (finished
    /// markdown). Started on the channel reminder the post's key names.
    ThreadOpen {
        guild: u64,
        name: String,
        card: String,
    },
    /// The archiving of the thread of the channel reminder the post's key names.
    ThreadClose { lock: bool },
    /// A question's card: what it shows is read when it is sent, so the last change sent
    /// shows the question's last state (see `domain::questions`).
    QuestionCard,
    /// A talk's Discord Event as it is to be (`None`: cancelled); whether it is created or
    /// edited is decided when it is sent (see `domain::events::action`).
    Event {
        spec: Option<crate::domain::events::EventSpec>,
        /// The revision of the recorded event it was planned from.
        revision: i32,
    },
}

/// The talk facts a reminder shows, as imported (unescaped: escaping happens on rendering).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReminderBody {
    pub title: String,
    pub speakers: Vec<String>,
    pub room: Option<String>,
    pub start: DateTime<Utc>,
    pub url: Option<String>,
}

impl ReminderBody {
    /// The facts of a stored talk; `None` when it has no time slot.
    pub(super) fn of(talk: &StoredTalk) -> Option<Self> {
        let d = &talk.data;
        Some(Self {
            title: d.title.clone(),
            speakers: d.speakers.iter().map(|s| s.name.clone()).collect(),
            room: d.room.as_deref().map(str::to_owned),
            start: d.slot?.start,
            url: d.url.as_deref().map(str::to_owned),
        })
    }
}

/// "starting in 10 minutes": the time left until `start`, rounded to the nearest whole
/// minute (30 s and more round up). Under 30 s, or past the start, it is "starting now".
pub fn starting_in(start: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (start - now).num_seconds();
    let minutes = seconds.saturating_add(30).div_euclid(60);
    match minutes {
        i64::MIN..=0 => "starting now".to_owned(),
        1 => "starting in 1 minute".to_owned(),
        n => format!("starting in {n} minutes"),
    }
}

/// The reminder text at `now`: "⏰ **Title** — Ann, Bob — starting in 10 minutes in Barn
/// (<t:START:R>)", then the talk's link on its own line (in `<>` so Discord shows no
/// preview card). Speakers, room and link are left out when unknown. At most
/// [`limits::CONTENT`] characters whatever the imported text.
pub fn reminder_content(body: &ReminderBody, now: DateTime<Utc>) -> String {
    let mut line = format!("⏰ **{}**", clip(&body.title, 200));
    let names: Vec<&str> = body
        .speakers
        .iter()
        .map(String::as_str)
        .filter(|n| !n.trim().is_empty())
        .collect();
    if !names.is_empty() {
        line.push_str(" — ");
        line.push_str(&truncate(&escape_markdown(&names.join(", ")), 200));
    }
    line.push_str(" — ");
    line.push_str(&starting_in(body.start, now));
    line.push_str(&in_room(body.room.as_deref()));
    line.push_str(&format!(
        " ({})",
        discord_timestamp(body.start, TimestampStyle::Relative)
    ));
    if let Some(url) = body.url.as_deref().filter(|u| is_web_url(u)) {
        line.push_str(&format!("\n<{url}>"));
    }
    truncate(&line, limits::CONTENT)
}

/// "Moved: **Title** now <t:NEW:F> in Room B (was <t:OLD:F> in Barn)".
pub(crate) fn moved(title: &str, before: &Placement, after: &Placement) -> String {
    let text = format!(
        "Moved: **{}** now {}{} (was {}{})",
        clip(title, 200),
        full_time(after),
        in_room(after.room.as_deref()),
        full_time(before),
        in_room(before.room.as_deref()),
    );
    truncate(&text, limits::CONTENT)
}

/// "Cancelled: **Title** (was <t:OLD:F> in Barn)", so a reader with many subscriptions
/// knows which slot is now free; the parenthesis is left out when the old slot is unknown.
pub(crate) fn cancelled(title: &str, before: Option<&Placement>) -> String {
    let mut text = format!("Cancelled: **{}**", clip(title, 200));
    if let Some(was) = before.filter(|p| p.start.is_some()) {
        text.push_str(&format!(
            " (was {}{})",
            full_time(was),
            in_room(was.room.as_deref())
        ));
    }
    truncate(&text, limits::CONTENT)
}

/// A DM reminder with the link to its talk's open thread in `guild` on a line of its own.
pub fn with_thread_link(content: &str, guild: u64, thread: u64) -> String {
    let link = format!("\n💬 Questions: https://discord.com/channels/{guild}/{thread}");
    if content.chars().count() + link.chars().count() > limits::CONTENT {
        return content.to_owned();
    }
    format!("{content}{link}")
}

/// "New: **Title** <t:START:F> in Barn".
pub(crate) fn added(title: &str, after: &Placement) -> String {
    placed("New", title, after)
}

/// "Back on the schedule: **Title** <t:START:F> in Barn": a cancelled talk the source
/// restored.
pub(crate) fn back_on(title: &str, after: &Placement) -> String {
    placed("Back on the schedule", title, after)
}

fn placed(label: &str, title: &str, at: &Placement) -> String {
    let text = format!(
        "{label}: **{}** {}{}",
        clip(title, 200),
        full_time(at),
        in_room(at.room.as_deref())
    );
    truncate(&text, limits::CONTENT)
}

/// Escaped and cut to `max` characters.
fn clip(text: &str, max: usize) -> String {
    truncate(&escape_markdown(text), max)
}

/// " in Barn" (escaped), or nothing without a room.
fn in_room(room: Option<&str>) -> String {
    room.filter(|r| !r.trim().is_empty())
        .map(|r| format!(" in {}", clip(r, 100)))
        .unwrap_or_default()
}

/// `<t:UNIX:F>` of a placement's start, or "an unscheduled time".
fn full_time(placement: &Placement) -> String {
    placement.start.map_or_else(
        || "an unscheduled time".to_owned(),
        |s| discord_timestamp(s, TimestampStyle::LongDateTime),
    )
}

/// A link worth showing: http(s), short, and nothing that could end the `<…>` early.
pub(crate) fn is_web_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= MAX_URL
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>'))
}
