//! `/announce` and `/announcements`, pure: the options checked into a plan, the text from
//! the modal checked, and every reply (preview, confirmations, the list, the errors). The
//! adapter (`crate::discord::announcements`) checks who may, asks Discord whether the
//! channel is usable, stores the draft and renders what this module returns.
//!
//! Times are parsed in the server's (else the conference's) zone and shown as Discord
//! timestamps, so every reader sees them in their own zone.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::render::{ephemeral, full, relative};
use super::{truncate, Reply};
use crate::domain::announcements::{
    parse_when, Announcement, AnnouncementId, Ping, Repeat, MAX_TEXT,
};

mod views;

use views::next;
pub use views::{edit_preview, has_future, list, preview};

/// The `ping` option's values, as the registry offers them.
pub const PING_CHOICES: &[&str] = &["none", "role", "everyone"];
/// A repeat that matches nothing this far ahead is refused as never occurring.
const REPEAT_LOOKAHEAD: Duration = Duration::days(400);

/// What an organiser asked `ping` to be (the role comes from its own option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PingChoice {
    #[default]
    None,
    Role,
    Everyone,
}

impl PingChoice {
    /// The choice an option value names (one of [`PING_CHOICES`]).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Self::None),
            "role" => Some(Self::Role),
            "everyone" => Some(Self::Everyone),
            _ => None,
        }
    }
}

/// `/announce`'s options as given; checked by [`plan`] after the organiser check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnnounceOptions {
    pub channel: Option<u64>,
    pub when: Option<String>,
    pub repeat: Option<String>,
    pub ping: PingChoice,
    pub role: Option<u64>,
}

/// A parsed `/announce` or `/announcements` invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnounceCommand {
    /// `/announce`: answered with the text modal.
    New(AnnounceOptions),
    /// `/announcements list`
    List,
    /// `/announcements cancel id:`
    Cancel(AnnouncementId),
    /// `/announcements edit id:`: answered with the text modal, pre-filled.
    Edit(AnnouncementId),
}

impl AnnounceCommand {
    /// The command as typed, for logs and the audit of refusals.
    pub fn name(&self) -> &'static str {
        match self {
            AnnounceCommand::New(_) => "/announce",
            AnnounceCommand::List => "/announcements list",
            AnnounceCommand::Cancel(_) => "/announcements cancel",
            AnnounceCommand::Edit(_) => "/announcements edit",
        }
    }

    /// Whether the first response is a modal (which cannot be deferred).
    pub fn opens_modal(&self) -> bool {
        matches!(self, AnnounceCommand::New(_) | AnnounceCommand::Edit(_))
    }
}

/// `/announce`'s options, checked: where, when, how often, whom to ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub channel: u64,
    pub first: DateTime<Utc>,
    pub repeat: Option<Repeat>,
    pub ping: Ping,
}

/// Checks `/announce`'s options in `zone` at `now`: the explanation of the first problem
/// as the error. `guild` is the server's id (also its @everyone role's); `default_channel`
/// its `/setup channel kind:announcements`. Whether the bot can post in the channel is the
/// adapter's question to Discord, asked after this.
pub fn plan(
    options: &AnnounceOptions,
    guild: u64,
    default_channel: Option<u64>,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Planned, Reply> {
    let ping = match (options.ping, options.role) {
        (PingChoice::None, None) => Ping::None,
        (PingChoice::Everyone, None) => Ping::Everyone,
        (PingChoice::Role, Some(role)) if role == guild => {
            return Err(ephemeral(
                "That role is @everyone: choose `ping:everyone` to ping everyone.".to_owned(),
            ))
        }
        (PingChoice::Role, Some(role)) => Ping::Role(role),
        (PingChoice::Role, None) => {
            return Err(ephemeral(
                "`ping:role` needs the `role` option: the role to ping.".to_owned(),
            ))
        }
        (PingChoice::None | PingChoice::Everyone, Some(_)) => {
            return Err(ephemeral(
                "`role` is only used with `ping:role`: nothing is pinged unless you choose it."
                    .to_owned(),
            ))
        }
    };
    let when = options.when.as_deref().unwrap_or("now");
    let first = parse_when(when, zone, now).map_err(|e| invalid("when", &e.to_string()))?;
    let repeat = options
        .repeat
        .as_deref()
        .map(str::parse::<Repeat>)
        .transpose()
        .map_err(|e| invalid("repeat", &e.to_string()))?;
    let Some(channel) = options.channel.or(default_channel) else {
        return Err(ephemeral(
            "Which channel? Give the `channel` option, or set this server's announcement \
             channel with `/setup channel kind:announcements`."
                .to_owned(),
        ));
    };
    let planned = Planned {
        channel,
        first,
        repeat,
        ping,
    };
    let probe = announcement(AnnouncementId(0), &planned, "", zone);
    if planned.repeat.is_some()
        && probe
            .occurrences(first, first + REPEAT_LOOKAHEAD)
            .is_empty()
    {
        return Err(invalid(
            "repeat",
            "it never matches in the coming year: nothing would ever be posted",
        ));
    }
    Ok(planned)
}

/// The announcement a plan describes (for previews; the store assigns the real id).
pub fn announcement(id: AnnouncementId, planned: &Planned, text: &str, zone: Tz) -> Announcement {
    Announcement {
        id,
        channel: planned.channel,
        text: text.to_owned(),
        ping: planned.ping,
        first: planned.first,
        repeat: planned.repeat.clone(),
        zone,
    }
}

fn invalid(option: &str, reason: &str) -> Reply {
    ephemeral(format!(
        "`{option}`: {}. Nothing was saved.",
        truncate(reason, 300)
    ))
}

/// The modal's text, checked: not blank and at most [`MAX_TEXT`] characters. Surrounding
/// blank lines are dropped; everything else is posted as typed.
pub fn check_text(text: &str) -> Result<String, Reply> {
    let text = text.trim_matches(|c: char| c == '\n' || c == '\r' || c.is_whitespace());
    if text.is_empty() {
        return Err(ephemeral(
            "The announcement text is empty: nothing was saved.".to_owned(),
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT {
        return Err(ephemeral(format!(
            "The text is {chars} characters long; an announcement can have at most {MAX_TEXT} \
             (Discord's message limit, with room for the ping). Nothing was saved."
        )));
    }
    Ok(text.to_owned())
}

/// Confirm clicked: scheduled.
pub fn scheduled(announcement: &Announcement, now: DateTime<Utc>) -> Reply {
    let first = next(announcement, now).map_or_else(String::new, |at| {
        format!(", first post {} ({})", relative(at), full(at))
    });
    ephemeral(format!(
        "Scheduled: announcement #{} in <#{}>{first}.",
        announcement.id.0, announcement.channel
    ))
}

/// Confirm clicked again (or on an announcement confirmed elsewhere).
pub fn already_scheduled(id: AnnouncementId) -> Reply {
    ephemeral(format!(
        "Announcement #{} is already scheduled: nothing changed. `/announcements` lists it.",
        id.0
    ))
}

/// Confirm on an announcement that was cancelled meanwhile.
pub fn already_cancelled(id: AnnouncementId) -> Reply {
    ephemeral(format!(
        "Announcement #{} was cancelled: nothing will be posted. Start again with `/announce`.",
        id.0
    ))
}

/// Confirm too late: a one-off whose time (and the hour of grace after it) has passed.
pub fn time_passed(id: AnnouncementId) -> Reply {
    ephemeral(format!(
        "The time of announcement #{} has passed, so nothing was scheduled. Start again with \
         `/announce`.",
        id.0
    ))
}

/// Cancel clicked, or `/announcements cancel`; `was_scheduled`: it may have been posted
/// already (a repeat, or a time that has come), so "nothing more".
pub fn cancelled(id: AnnouncementId, was_scheduled: bool) -> Reply {
    let more = if was_scheduled { " more" } else { "" };
    ephemeral(format!(
        "Cancelled announcement #{}, nothing{more} will be posted.",
        id.0
    ))
}

/// Cancel of one that was cancelled before.
pub fn already_cancelled_nothing_changed(id: AnnouncementId) -> Reply {
    ephemeral(format!(
        "Announcement #{} was already cancelled: nothing will be posted.",
        id.0
    ))
}

/// An edit's Confirm or Cancel clicked a second time.
pub fn edit_already_done(id: AnnouncementId) -> Reply {
    ephemeral(format!(
        "This edit of announcement #{} was already confirmed or discarded: nothing changed.",
        id.0
    ))
}

/// An edit confirmed.
pub fn edited(announcement: &Announcement, now: DateTime<Utc>) -> Reply {
    let next = next(announcement, now)
        .map_or_else(String::new, |at| format!(" Next post {}.", relative(at)));
    ephemeral(format!(
        "Saved: announcement #{} has its new text.{next}",
        announcement.id.0
    ))
}

/// An edit's Cancel clicked.
pub fn edit_discarded(id: AnnouncementId) -> Reply {
    ephemeral(format!(
        "Edit discarded: announcement #{} keeps its text.",
        id.0
    ))
}

/// An id that is not one of this server's announcements (another server's, or none).
pub fn not_found(id: AnnouncementId) -> Reply {
    ephemeral(format!(
        "This server has no announcement #{} (any more). `/announcements` lists the scheduled \
         ones.",
        id.0
    ))
}

/// `/announcements edit` of one that is not scheduled, or has nothing left to post.
pub fn not_editable(id: AnnouncementId) -> Reply {
    ephemeral(format!(
        "Announcement #{} has nothing left to post, so there is nothing to edit. \
         `/announcements` lists the scheduled ones.",
        id.0
    ))
}

/// The modal's title (Discord: at most 45 characters).
pub fn modal_title(editing: Option<AnnouncementId>) -> String {
    match editing {
        None => "New announcement".to_owned(),
        Some(id) => truncate(&format!("Edit announcement #{}", id.0), 45),
    }
}

#[cfg(test)]
#[path = "tests/announcements.rs"]
mod tests;
