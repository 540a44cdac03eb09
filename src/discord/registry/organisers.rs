//! The organiser commands' registry entries (`/setup`, `/status`) and their parsing. Part
//! of the one command table ([`super::commands`]); kept here so the table's file stays
//! readable.

use serenity::all::Permissions;

use super::options::Given;
use super::{CommandSpec, OptionKind, OptionSpec, ParseError};
use crate::domain::board::{Board, BoardLayout};
use crate::domain::commands::setup::SetupCommand;
use crate::domain::commands::status::StatusCommand;
use crate::domain::events::EventSelection;
use crate::domain::guild_settings::{ChannelKind, REFRESH_MAX, REFRESH_MIN};
use crate::domain::privacy::{RetentionDays, RETENTION_MAX, RETENTION_MIN};
use crate::domain::questions::QuestionSettings;
use crate::domain::reminders::LeadTime;
use crate::domain::threads::{ThreadSettings, MAX_GRACE_MINUTES};

/// A subcommand with its options (shared by the organiser commands' entries).
pub(super) const fn subcommand(
    name: &'static str,
    description: &'static str,
    options: &'static [OptionSpec],
) -> OptionSpec {
    OptionSpec {
        name,
        description,
        required: false,
        kind: OptionKind::Subcommand(options),
    }
}

const fn required(name: &'static str, description: &'static str, kind: OptionKind) -> OptionSpec {
    OptionSpec {
        name,
        description,
        required: true,
        kind,
    }
}

const TEXT: OptionKind = OptionKind::String(None);
/// The `kind` values of `/setup channel`, as [`ChannelKind::as_str`] spells them.
const CHANNEL_KINDS: &[&str] = &["announcements", "organiser-log"];

/// `/setup`: organisers only; Discord shows it to Manage Server by default, the handler
/// checks every invocation anyway.
pub(super) const SETUP: CommandSpec = CommandSpec {
    name: "setup",
    description: "Organisers: this server's confbot settings",
    options: &[
        subcommand("show", "Every setting of this server", &[]),
        subcommand(
            "conference",
            "The conference this server follows",
            &[required(
                "slug",
                "The conference's slug, e.g. pycon-2026",
                TEXT,
            )],
        ),
        subcommand(
            "timezone",
            "This server's time zone",
            &[required("zone", "An IANA zone, e.g. Europe/Berlin", TEXT)],
        ),
        subcommand(
            "source",
            "Where the schedule is re-imported from, and how often",
            &[
                required("url", "The schedule's http(s) address", TEXT),
                required(
                    "refresh",
                    "Minutes between re-imports",
                    OptionKind::Integer {
                        min: REFRESH_MIN as u64,
                        max: REFRESH_MAX as u64,
                    },
                ),
            ],
        ),
        subcommand(
            "channel",
            "The announcement or organiser log channel",
            &[
                required("kind", "Which channel", OptionKind::Choice(CHANNEL_KINDS)),
                required("channel", "The channel", OptionKind::Channel),
            ],
        ),
        subcommand(
            "role",
            "The role whose members are organisers (besides Manage Server)",
            &[required("role", "The organiser role", OptionKind::Role)],
        ),
        subcommand(
            "lead",
            "How early attendees are reminded until they choose (/remind)",
            &[required(
                "minutes",
                "Minutes before a talk (0 to 120)",
                OptionKind::Integer {
                    min: 0,
                    max: LeadTime::MAX_MINUTES as u64,
                },
            )],
        ),
        subcommand(
            "speakers",
            "Where the schedule source names speakers",
            &[required(
                "from",
                "summary: SUMMARY reads \"Title - Speaker\"; auto: pretalx, ATTENDEE CN, a Speaker: line",
                OptionKind::Choice(SPEAKER_SOURCES),
            )],
        ),
        subcommand(
            "retention",
            "How long attendees' data is kept after the conference's last talk",
            &[required(
                "days",
                "Days after the last talk (1 to 365; default 30)",
                OptionKind::Integer {
                    min: RETENTION_MIN as u64,
                    max: RETENTION_MAX as u64,
                },
            )],
        ),
        subcommand(
            "updates",
            "Where each schedule change is posted for everyone (no channel: nowhere)",
            &[OptionSpec {
                name: "channel",
                description: "The channel; leave out to stop posting schedule updates",
                required: false,
                kind: OptionKind::Channel,
            }],
        ),
        subcommand(
            "board",
            "A live now / next board, edited at every talk boundary (no channel: none)",
            &[
                OptionSpec {
                    name: "channel",
                    description: "The channel; leave out to remove the board",
                    required: false,
                    kind: OptionKind::Channel,
                },
                OptionSpec {
                    name: "layout",
                    description: "rooms: a message per room (default); single: one for all rooms",
                    required: false,
                    kind: OptionKind::Choice(BOARD_LAYOUTS),
                },
            ],
        ),
        subcommand(
            "threads",
            "A Q&A thread on each talk's channel reminder",
            &[
                required("enabled", "on or off", OptionKind::Choice(ON_OFF)),
                ONLY_ROOMS,
                ONLY_TRACKS,
                OptionSpec {
                    name: "grace",
                    description: "Minutes a thread stays open after its talk (default 15)",
                    required: false,
                    kind: OptionKind::Integer {
                        min: 0,
                        max: MAX_GRACE_MINUTES as u64,
                    },
                },
                OptionSpec {
                    name: "after",
                    description: "archive (default), or archive-and-lock: nobody posts any more",
                    required: false,
                    kind: OptionKind::Choice(THREAD_ENDS),
                },
            ],
        ),
        subcommand(
            "questions",
            "Questions with votes (/ask): anonymous or named, and who chairs (/questions)",
            &[
                required(
                    "anonymous",
                    "true: cards do not name the asker (the audit log still does)",
                    OptionKind::Boolean,
                ),
                OptionSpec {
                    name: "chair_role",
                    description: "This role may mark questions answered or hide them \
                                  (organisers always may; default: none)",
                    required: false,
                    kind: OptionKind::Role,
                },
            ],
        ),
        subcommand(
            "events",
            "A Discord Event for each selected talk (confbot needs Manage Events)",
            &[
                required("enabled", "on or off", OptionKind::Choice(ON_OFF)),
                ONLY_ROOMS,
                ONLY_TRACKS,
                OptionSpec {
                    name: "types",
                    description: "Only these submission types, comma-separated (e.g. Keynote)",
                    required: false,
                    kind: TEXT,
                },
            ],
        ),
        subcommand(
            "web",
            "The conference's calendar feed and room screens on the web, for everyone",
            &[required("public", "on or off", OptionKind::Choice(ON_OFF))],
        ),
    ],
    public: false,
    default_member_permissions: Some(Permissions::MANAGE_GUILD),
};

/// The values of `/setup board layout:`, as [`BoardLayout::as_str`] spells them.
const BOARD_LAYOUTS: &[&str] = &["rooms", "single"];

/// The values of `/setup threads enabled:` and `after:`.
const ON_OFF: &[&str] = &["on", "off"];
const THREAD_ENDS: &[&str] = &["archive", "archive-and-lock"];
/// The `rooms` and `tracks` options of `/setup threads` and `/setup events`.
const ONLY_ROOMS: OptionSpec = OptionSpec {
    name: "rooms",
    description: "Only these rooms, comma-separated (default: every room)",
    required: false,
    kind: TEXT,
};
const ONLY_TRACKS: OptionSpec = OptionSpec {
    name: "tracks",
    description: "Only these tracks, comma-separated (default: every track)",
    required: false,
    kind: TEXT,
};
/// The most rooms or tracks `/setup threads` takes, and their longest name.
const MAX_LISTED: usize = 50;
const MAX_LISTED_CHARS: usize = 100;

/// The values of `/setup speakers from:`.
const SPEAKER_SOURCES: &[&str] = &["auto", "summary"];

/// `/status`: organisers only. Each view is a subcommand (an overview can join `audit`).
pub(super) const STATUS: CommandSpec = CommandSpec {
    name: "status",
    description: "Organisers: what confbot did in this server",
    options: &[
        subcommand(
            "overview",
            "Conference, schedule sync, the next reminders and announcements, recent failures",
            &[],
        ),
        subcommand(
            "audit",
            "The latest organiser actions: who changed what, before and after",
            &[],
        ),
    ],
    public: false,
    default_member_permissions: Some(Permissions::MANAGE_GUILD),
};

/// `/sync`: organisers only; re-imports the server's schedule source now.
pub(super) const SYNC: CommandSpec = CommandSpec {
    name: "sync",
    description: "Organisers: re-import the schedule from its source now (see /setup source)",
    options: &[],
    public: false,
    default_member_permissions: Some(Permissions::MANAGE_GUILD),
};

/// A `/setup` invocation.
pub(super) fn parse_setup(given: &Given<'_>) -> Result<SetupCommand, ParseError> {
    let (name, options) = given.subcommand("setup")?;
    Ok(match name {
        "show" => SetupCommand::Show,
        "conference" => SetupCommand::Conference(options.required("slug")?),
        "timezone" => SetupCommand::TimeZone(options.required("zone")?),
        "source" => SetupCommand::Source {
            url: options.required("url")?,
            refresh_minutes: u32::try_from(options.required_integer("refresh")?)
                .map_err(|_| ParseError::MissingOption("refresh"))?,
        },
        "channel" => SetupCommand::Channel {
            kind: ChannelKind::parse(options.required_choice("kind")?)
                .ok_or(ParseError::MissingOption("kind"))?,
            channel: options.required_channel("channel")?,
        },
        "updates" => SetupCommand::Updates(options.channel("channel")),
        "questions" => SetupCommand::Questions(QuestionSettings {
            anonymous: options.required_boolean("anonymous")?,
            chair_role: options.role("chair_role"),
        }),
        "threads" => SetupCommand::Threads(match options.required_choice("enabled")? {
            "off" => None,
            _ => Some(ThreadSettings {
                rooms: listed(options.text("rooms")),
                tracks: listed(options.text("tracks")),
                grace_minutes: match options.integer("grace")? {
                    Some(minutes) => {
                        u32::try_from(minutes).map_err(|_| ParseError::MissingOption("grace"))?
                    }
                    None => ThreadSettings::default().grace_minutes,
                },
                lock: options.choice("after")? == Some("archive-and-lock"),
            }),
        }),
        "events" => SetupCommand::Events(match options.required_choice("enabled")? {
            "off" => None,
            _ => Some(EventSelection {
                rooms: listed(options.text("rooms")),
                tracks: listed(options.text("tracks")),
                types: listed(options.text("types")),
            }),
        }),
        "board" => {
            let layout = options
                .choice("layout")?
                .map_or(Some(BoardLayout::default()), BoardLayout::parse)
                .ok_or(ParseError::MissingOption("layout"))?;
            SetupCommand::Board(
                options
                    .channel("channel")
                    .map(|channel| Board { channel, layout }),
            )
        }
        "role" => SetupCommand::Role(options.required_role("role")?),
        "lead" => SetupCommand::Lead(
            options
                .lead("minutes")?
                .ok_or(ParseError::MissingOption("minutes"))?,
        ),
        "web" => SetupCommand::Web(options.required_choice("public")? == "on"),
        "speakers" => SetupCommand::SummarySpeakers(options.required_choice("from")? == "summary"),
        "retention" => SetupCommand::Retention(
            u32::try_from(options.required_integer("days")?)
                .ok()
                .and_then(RetentionDays::new)
                .ok_or(ParseError::MissingOption("days"))?,
        ),
        _ => return Err(ParseError::MissingSubcommand("setup")),
    })
}

/// "Barn, Loft " as its names, trimmed, each cut to a sane length, at most [`MAX_LISTED`].
fn listed(typed: Option<String>) -> Vec<String> {
    typed
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| name.chars().take(MAX_LISTED_CHARS).collect())
        .take(MAX_LISTED)
        .collect()
}

/// A `/status` invocation.
pub(super) fn parse_status(given: &Given<'_>) -> Result<StatusCommand, ParseError> {
    match given.subcommand("status")?.0 {
        "audit" => Ok(StatusCommand::Audit),
        "overview" => Ok(StatusCommand::Overview),
        _ => Err(ParseError::MissingSubcommand("status")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_kinds_offered_are_the_ones_the_domain_knows() {
        let known: Vec<&str> = ChannelKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(CHANNEL_KINDS, known.as_slice());
    }
}
