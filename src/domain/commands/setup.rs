//! `/setup`: a server's own settings, as organisers change them from Discord. Pure: the
//! adapter checks who may, validates against the store and Discord, stores the change and
//! asks here for every reply. Every reply is private to the organiser.

use super::render::{ephemeral, fit, quoted};
use super::{escape_markdown, truncate, Reply};
use crate::domain::board::{Board, BoardLayout};
use crate::domain::events::EventSelection;
use crate::domain::guild_settings::{ChannelKind, GuildSettings, SetupChange};
use crate::domain::model::ConferenceSlug;
use crate::domain::organisers::Access;
use crate::domain::privacy::{RetentionDays, DEFAULT_RETENTION_DAYS};
use crate::domain::questions::QuestionSettings;
use crate::domain::reminders::LeadTime;
use crate::domain::threads::ThreadSettings;

/// A parsed `/setup` invocation; text values are validated by the adapter after the
/// organiser check (a non-organiser learns nothing about what would have been accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupCommand {
    Show,
    Conference(String),
    TimeZone(String),
    Source {
        url: String,
        refresh_minutes: u32,
    },
    Channel {
        kind: ChannelKind,
        channel: u64,
    },
    Role(u64),
    Lead(LeadTime),
    Retention(RetentionDays),
    /// Whether the source's SUMMARY is `Title - Speaker`.
    SummarySpeakers(bool),
    /// Where schedule updates are posted; `None`: nowhere.
    Updates(Option<u64>),
    /// Where the live board is kept, and how; `None`: nowhere.
    Board(Option<Board>),
    /// Talk threads, and for which talks; `None`: none.
    Threads(Option<ThreadSettings>),
    /// Questions: anonymous or not, and the chairs' role.
    Questions(QuestionSettings),
    /// Discord Events, and for which talks; `None`: none.
    Events(Option<EventSelection>),
    /// `/setup web public:on|off`
    Web(bool),
}

impl SetupCommand {
    /// The command as an organiser typed it, for logs and the audit of refusals.
    pub fn name(&self) -> &'static str {
        match self {
            SetupCommand::Show => "/setup show",
            SetupCommand::Conference(_) => "/setup conference",
            SetupCommand::TimeZone(_) => "/setup timezone",
            SetupCommand::Source { .. } => "/setup source",
            SetupCommand::Channel { .. } => "/setup channel",
            SetupCommand::Role(_) => "/setup role",
            SetupCommand::Lead(_) => "/setup lead",
            SetupCommand::Retention(_) => "/setup retention",
            SetupCommand::SummarySpeakers(_) => "/setup speakers",
            SetupCommand::Updates(_) => "/setup updates",
            SetupCommand::Board(_) => "/setup board",
            SetupCommand::Threads(_) => "/setup threads",
            SetupCommand::Questions(_) => "/setup questions",
            SetupCommand::Events(_) => "/setup events",
            SetupCommand::Web(_) => "/setup web",
        }
    }
}

/// The refusal for anyone but an organiser, for every organiser command (`command` as
/// typed, e.g. "/setup timezone").
pub fn not_an_organiser(access: Access, command: &str) -> Reply {
    ephemeral(match access {
        Access::NotInAServer => format!("`{command}` works in a server only, for its organisers."),
        Access::Organiser | Access::NotAnOrganiser => format!(
            "Only this server's organisers (Manage Server, or the organiser role) can use `{command}`."
        ),
    })
}

/// The echo of a stored change: the setting, what it was and what it is now.
pub fn changed(change: &SetupChange, before: &GuildSettings, after: &GuildSettings) -> Reply {
    let lines: Vec<String> = fields(change)
        .into_iter()
        .map(|field| {
            format!(
                "**{}**: {} → {}",
                field.label(),
                field.value(before),
                field.value(after)
            )
        })
        .collect();
    fit(ephemeral(format!("Saved.\n{}", lines.join("\n"))))
}

/// `reply` (the echo of `/setup web public:on`) with the public addresses under `base`
/// (`web.public_url`) of the conference `slug`.
pub fn with_web_links(mut reply: Reply, base: &str, slug: &ConferenceSlug) -> Reply {
    let base = base.trim_end_matches('/');
    if let Some(first) = reply.messages.first_mut() {
        first.content.push_str(&format!(
            "\nThe programme's calendar: <{base}/c/{slug}.ics> (`?room=` and `?track=` narrow \
             it). Room screens: <{base}/c/{slug}/screen> (`?room=` for one room's door)."
        ));
    }
    fit(reply)
}

/// `/setup show`: every setting. `stored` says whether an organiser changed any yet (else
/// they are the configuration's first values).
pub fn show(settings: &GuildSettings, stored: bool) -> Reply {
    let mut lines = vec!["**This server's confbot settings**".to_owned()];
    lines.extend(
        Field::ALL
            .iter()
            .map(|field| format!("{}: {}", field.label(), field.value(settings))),
    );
    lines.push("Reminder channels per room: see `/channel`.".to_owned());
    if !stored {
        lines.push(
            "_These are the configuration's first values: no organiser has changed them yet._"
                .to_owned(),
        );
    }
    fit(ephemeral(lines.join("\n")))
}

/// A conference slug that is not stored: the ones that are.
pub fn unknown_conference(slug: &str, known: &[String]) -> Reply {
    let known = if known.is_empty() {
        "none yet: import a schedule first (`confbot import`)".to_owned()
    } else {
        known
            .iter()
            .map(|slug| format!("`{}`", truncate(slug, 64)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    fit(ephemeral(format!(
        "There is no conference {} in confbot. Conferences: {known}.",
        quoted(&truncate(slug, 64))
    )))
}

/// A channel the bot cannot use, with the reason (`<#id>` mentions nobody).
pub fn unusable_channel(channel: u64, reason: &str) -> Reply {
    ephemeral(format!("I can't use <#{channel}>: {reason}"))
}

/// The refusal of `/setup events` while the bot lacks the permission.
pub const NEEDS_MANAGE_EVENTS: &str = "I need the Manage Events permission in this server to \
     keep its events. Give it to me (Server Settings → Roles), then try again.";

/// The refusal of `/setup web public:on` from a server that does not bring the programme.
pub const NOT_THE_PROGRAMME_S_SERVER: &str = "Only the server that imports this conference's \
     programme (with `/setup source`), or the one the bot's operator assigned it to, can publish \
     it on the web.";

/// A value refused by validation, with its reason (already safe to show).
pub fn invalid(reason: &str) -> Reply {
    ephemeral(reason.to_owned())
}

/// One setting as shown to organisers.
#[derive(Debug, Clone, Copy)]
enum Field {
    Conference,
    TimeZone,
    Source,
    Refresh,
    Channel(ChannelKind),
    Role,
    Lead,
    Retention,
    Speakers,
    Updates,
    Board,
    Threads,
    Questions,
    Events,
    Web,
}

impl Field {
    const ALL: [Field; 16] = [
        Field::Conference,
        Field::TimeZone,
        Field::Source,
        Field::Refresh,
        Field::Speakers,
        Field::Channel(ChannelKind::Announcements),
        Field::Channel(ChannelKind::OrganiserLog),
        Field::Updates,
        Field::Board,
        Field::Threads,
        Field::Questions,
        Field::Events,
        Field::Web,
        Field::Role,
        Field::Lead,
        Field::Retention,
    ];

    fn label(self) -> &'static str {
        match self {
            Field::Conference => "Conference",
            Field::TimeZone => "Time zone",
            Field::Source => "Schedule source",
            Field::Refresh => "Refreshed every",
            Field::Channel(ChannelKind::Announcements) => "Announcement channel",
            Field::Channel(ChannelKind::OrganiserLog) => "Organiser log channel",
            Field::Role => "Organiser role",
            Field::Lead => "Default reminder lead",
            Field::Retention => "Personal data kept after the last talk",
            Field::Speakers => "Speakers read from",
            Field::Updates => "Schedule updates channel",
            Field::Board => "Now / next board",
            Field::Threads => "Talk threads",
            Field::Questions => "Questions (/ask)",
            Field::Events => "Discord Events",
            Field::Web => "Public calendar feed and room screens",
        }
    }

    /// The value, formatted; an unset one says what applies instead.
    fn value(self, settings: &GuildSettings) -> String {
        let channel =
            |id: Option<u64>| id.map_or_else(|| "none".to_owned(), |id| format!("<#{id}>"));
        match self {
            Field::Conference => settings
                .conference
                .as_ref()
                .map_or_else(|| "none".to_owned(), |slug| format!("`{slug}`")),
            Field::TimeZone => settings.time_zone.map_or_else(
                || "the conference's".to_owned(),
                |zone| format!("`{}`", zone.name()),
            ),
            Field::Source => settings.source_url.as_deref().map_or_else(
                || "none".to_owned(),
                // In angle brackets: Discord shows the link without an embed preview.
                |url| {
                    let url = crate::domain::source_url::shown(url);
                    format!("<{}>", escape_markdown(&truncate(&url, 500)))
                },
            ),
            Field::Refresh => settings
                .refresh_minutes
                .map_or_else(|| "never".to_owned(), |m| format!("{m} minutes")),
            Field::Channel(ChannelKind::Announcements) => channel(settings.announcement_channel),
            Field::Channel(ChannelKind::OrganiserLog) => channel(settings.organiser_log_channel),
            Field::Updates => channel(settings.updates_channel),
            Field::Board => settings.board.map_or_else(
                || "none".to_owned(),
                |board| match board.layout {
                    BoardLayout::Rooms => format!("<#{}>, a message per room", board.channel),
                    BoardLayout::Single => format!("<#{}>, one message", board.channel),
                },
            ),
            Field::Threads => settings
                .threads
                .as_ref()
                .map_or_else(|| "off".to_owned(), threads_shown),
            Field::Questions => {
                let questions = settings.questions;
                let named = if questions.anonymous {
                    "anonymous cards"
                } else {
                    "cards name the asker"
                };
                match questions.chair_role {
                    Some(role) => format!("{named}; chaired by organisers and <@&{role}>"),
                    None => format!("{named}; chaired by organisers"),
                }
            }
            Field::Events => settings
                .events
                .as_ref()
                .map_or_else(|| "off".to_owned(), events_shown),
            Field::Web if settings.web_public => "on".to_owned(),
            Field::Web => "off".to_owned(),
            Field::Role => settings.organiser_role.map_or_else(
                || "none (Manage Server only)".to_owned(),
                |role| format!("<@&{role}>"),
            ),
            Field::Lead => settings.default_lead.map_or_else(
                || "confbot's default".to_owned(),
                |lead| match lead.minutes() {
                    0 => "at the start".to_owned(),
                    1 => "1 minute".to_owned(),
                    minutes => format!("{minutes} minutes"),
                },
            ),
            Field::Speakers => {
                if settings.summary_speakers {
                    "the SUMMARY \"Title - Speaker\" (/setup speakers)".to_owned()
                } else {
                    "pretalx's SUMMARY, ATTENDEE/ORGANIZER CN or a \"Speaker:\" line".to_owned()
                }
            }
            Field::Retention => settings.retention.map_or_else(
                || format!("{DEFAULT_RETENTION_DAYS} days (the default)"),
                |days| match days.days() {
                    1 => "1 day".to_owned(),
                    days => format!("{days} days"),
                },
            ),
        }
    }
}

/// "on in Barn, Loft, tracks Web; archived 15 minutes after each talk".
fn threads_shown(threads: &ThreadSettings) -> String {
    let mut shown = if threads.rooms.is_empty() {
        "on in every room".to_owned()
    } else {
        format!("on in {}", list(&threads.rooms))
    };
    if !threads.tracks.is_empty() {
        shown.push_str(&format!(", tracks {}", list(&threads.tracks)));
    }
    let then = if threads.lock {
        "archived and locked"
    } else {
        "archived"
    };
    shown.push_str(&format!(
        "; {then} {} minutes after each talk",
        threads.grace_minutes
    ));
    shown
}

/// "on for every talk", or "on for rooms Barn; types Keynote".
fn events_shown(events: &EventSelection) -> String {
    let lists: Vec<String> = [
        ("rooms", &events.rooms),
        ("tracks", &events.tracks),
        ("types", &events.types),
    ]
    .into_iter()
    .filter(|(_, items)| !items.is_empty())
    .map(|(what, items)| format!("{what} {}", list(items)))
    .collect();
    if lists.is_empty() {
        "on for every talk".to_owned()
    } else {
        format!("on for {}", lists.join("; "))
    }
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| escape_markdown(&truncate(item, 60)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The settings a change touches.
fn fields(change: &SetupChange) -> Vec<Field> {
    match change {
        SetupChange::Conference(_) => vec![Field::Conference],
        SetupChange::TimeZone(_) => vec![Field::TimeZone],
        SetupChange::Source { .. } => vec![Field::Source, Field::Refresh],
        SetupChange::Channel { kind, .. } => vec![Field::Channel(*kind)],
        SetupChange::Role(_) => vec![Field::Role],
        SetupChange::Lead(_) => vec![Field::Lead],
        SetupChange::Retention(_) => vec![Field::Retention],
        SetupChange::SummarySpeakers(_) => vec![Field::Speakers],
        SetupChange::Updates(_) => vec![Field::Updates],
        SetupChange::Board(_) => vec![Field::Board],
        SetupChange::Threads(_) => vec![Field::Threads],
        SetupChange::Questions(_) => vec![Field::Questions],
        SetupChange::Events(_) => vec![Field::Events],
        SetupChange::Web(_) => vec![Field::Web],
    }
}

#[cfg(test)]
mod tests;
