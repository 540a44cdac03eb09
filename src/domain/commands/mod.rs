//! Attendee commands as plain functions: (programme snapshot, now, input) -> [`Reply`].
//!
//! Nothing here knows Discord or SQL. The Discord adapter (`crate::discord`) turns a `Reply`
//! into messages, embeds and buttons; the console (`crate::console`) prints it as text. Both
//! therefore give the same answers.
//!
//! Text in a reply is Discord-flavoured markdown: imported text is already escaped (see
//! [`escape_markdown`]) and times are Discord timestamps (`<t:UNIX:F>`), which the console
//! renders in the conference zone.

pub mod announcements;
pub mod channels;
mod complete;
mod help;
mod next;
pub mod overview;
pub mod privacy;
mod render;
pub(crate) use render::Pages;
mod schedule;
pub mod setup;
mod speaker;
pub mod status;
pub mod subscriptions;
mod talk;

use chrono::{DateTime, Utc};

use crate::domain::announcements::AnnouncementId;
use crate::domain::import::Fingerprint;
use crate::domain::model::{Moderation, QuestionId, TalkId};
use crate::domain::programme::Programme;

/// Discord's limits, respected at character boundaries by every reply.
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FIELDS: usize = 25;
    pub const EMBED_TOTAL: usize = 6000;
    pub const EMBEDS_PER_MESSAGE: usize = 10;
    pub const AUTOCOMPLETE_CHOICES: usize = 25;
    pub const CHOICE_NAME: usize = 100;
    pub const CHOICE_VALUE: usize = 100;
    /// Attachments per message, and the size an attachment is kept under (Discord's
    /// smallest upload limit; a server may allow more).
    pub const ATTACHMENTS: usize = 10;
    pub const ATTACHMENT_BYTES: usize = 8 * 1024 * 1024;
}

/// An attendee command with its parsed options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/talk query`
    Talk { query: String },
    /// `/next [room] [track]`
    Next {
        room: Option<String>,
        track: Option<String>,
    },
    /// `/now [room]`
    Now { room: Option<String> },
    /// `/schedule [day] [room]`; `day` is a programme day as `YYYY-MM-DD` or a weekday name.
    Schedule {
        day: Option<String>,
        room: Option<String>,
    },
    /// `/speaker name`
    Speaker { name: String },
    /// `/help`
    Help,
}

/// Who sees a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everybody in the channel.
    Public,
    /// Only the person who asked.
    Ephemeral,
}

/// An answer: one or more messages (the first answers the interaction, the rest are
/// follow-ups), each within Discord's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub visibility: Visibility,
    pub messages: Vec<Message>,
}

/// One message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// Markdown, at most [`limits::CONTENT`] characters.
    pub content: String,
    pub embeds: Vec<Embed>,
    pub buttons: Vec<Button>,
    /// Files sent with the message (e.g. the `.ics` of `/mytalks`).
    pub attachments: Vec<Attachment>,
    /// Whom the message may ping: nobody, unless an organiser chose a role or everyone for
    /// an announcement. The adapter turns it into `allowed_mentions`.
    pub ping: crate::domain::announcements::Ping,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name shown in Discord, e.g. `mytalks.ics`.
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A Discord embed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Embed {
    pub title: String,
    pub url: Option<String>,
    pub description: String,
    pub fields: Vec<EmbedField>,
    pub footer: Option<String>,
}

/// A name/value pair in an embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// A button under a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub action: ButtonAction,
}

/// What a button does when clicked. The adapter encodes it in the `custom_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonAction {
    /// Subscribe the clicker to a talk's reminders.
    RemindMe(TalkId),
    /// Toggle the clicker's vote for a question (its card's Upvote button).
    Upvote(QuestionId),
    /// A chair marks a question answered or hides it (`/questions`).
    Moderate(QuestionId, Moderation),
    /// An organiser confirms a previewed announcement draft: it is scheduled.
    ConfirmAnnouncement(AnnouncementId),
    /// An organiser cancels a previewed draft (or the announcement): nothing is posted.
    CancelAnnouncement(AnnouncementId),
    /// An organiser confirms an edit: the draft's text replaces the announcement's.
    ConfirmEdit {
        announcement: AnnouncementId,
        draft: AnnouncementId,
    },
    /// An organiser drops an edit: the announcement keeps its text.
    DiscardEdit {
        announcement: AnnouncementId,
        draft: AnnouncementId,
    },
    /// `/forget` confirmed: the clicker's data is deleted (where the click happened decides
    /// the scope, as it did for the command).
    ForgetMe,
    /// `/forget` declined: nothing is deleted.
    KeepMyData,
    /// An organiser applies the schedule a `/sync` refused as a mass change, exactly the
    /// source with this fingerprint (the one the preview described).
    ApplySchedule(Fingerprint),
    /// An organiser keeps the programme as it is after such a refusal.
    KeepProgramme,
}

/// One autocomplete suggestion: what the user sees and what the option's value becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub name: String,
    pub value: String,
}

/// Which option of which command is being typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutocompleteField {
    /// `/talk query`: titles and speaker names.
    TalkQuery,
    /// `/speaker name`
    SpeakerName,
    Room,
    Track,
    Day,
    /// `/ask talk`, `/questions talk`: talks running or starting soon.
    LiveTalk,
}

/// Answers a command. Pure: the same programme, instant and input give the same reply, and
/// every reply respects Discord's limits.
pub fn answer(programme: &Programme, now: DateTime<Utc>, command: &Command) -> Reply {
    let reply = match command {
        Command::Talk { query } => talk::answer(programme, now, query),
        Command::Next { room, track } => {
            next::next(programme, now, room.as_deref(), track.as_deref())
        }
        Command::Now { room } => next::now(programme, now, room.as_deref()),
        Command::Schedule { day, room } => {
            schedule::answer(programme, now, day.as_deref(), room.as_deref())
        }
        Command::Speaker { name } => speaker::answer(programme, now, name),
        Command::Help => help::answer(programme),
    };
    render::fit(reply)
}

/// Suggests up to 25 choices for a partially typed option.
pub fn autocomplete(programme: &Programme, field: AutocompleteField, typed: &str) -> Vec<Choice> {
    complete::suggest(programme, field, typed)
}

/// Escapes Discord markdown and neutralises mentions and bidi overrides in untrusted
/// (imported) text, so a title like `**@everyone** <@&123>` shows literally. (Pinging is also disabled by the
/// adapter through `allowed_mentions`; this keeps the text itself harmless too.)
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' | '(' | ')' | '<' | '-' => {
                out.push('\\');
                out.push(c);
            }
            '@' => {
                // A zero-width space after @ stops "@everyone" from being read as a mention.
                out.push('@');
                out.push('\u{200b}');
            }
            // Bidi embeddings, overrides and isolates: one left open in a title would reverse
            // the rest of the line (times, room) as Discord shows it.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            _ => out.push(c),
        }
    }
    out
}

/// Cuts `text` to at most `max` characters (not bytes), ending with "…" when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests;
