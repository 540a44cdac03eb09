//! The slash commands: one registry listing every command with its description and options,
//! the registration payloads built from it, and the parsing of an invocation back into a
//! [`Command`]. Registration and parsing read the same table, so they cannot disagree.

use serenity::all::{CommandDataOption, Permissions};

use crate::domain::commands::announcements::AnnounceCommand;
use crate::domain::commands::setup::SetupCommand;
use crate::domain::commands::status::StatusCommand;
use crate::domain::commands::subscriptions::{ReminderCommand, TargetQuery};
use crate::domain::commands::{AutocompleteField, Command};
use crate::domain::reminders::LeadTime;

mod announcements;
mod options;
mod organisers;
mod questions;
mod registration;
pub use crate::domain::questions::QuestionsCommand;
pub use registration::registrations;

use options::Given;

/// One slash command as registered with Discord.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub name: &'static str,
    /// Shown by Discord under the command name (at most 100 characters).
    pub description: &'static str,
    pub options: &'static [OptionSpec],
    /// Whether a deferred answer should be public (`/talk` can be shared); others stay
    /// private to the asker. Only used when the answer has to be deferred before its own
    /// visibility is known.
    pub public: bool,
    /// Who sees the command in Discord's menu by default (`None`: everybody). Only a hint
    /// for server admins, who can change it: handlers still check permissions themselves.
    pub default_member_permissions: Option<Permissions>,
}

/// An option of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
    pub kind: OptionKind,
}

/// What an option holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// Text; with a field, Discord asks for suggestions while it is typed.
    String(Option<AutocompleteField>),
    /// A whole number from `min` to `max`: registered with Discord and checked again when
    /// parsing (a client or an older registration may send anything).
    Integer { min: u64, max: u64 },
    /// A text or announcement channel of the server.
    Channel,
    /// A role of the server.
    Role,
    /// True or false (Discord shows a toggle).
    Boolean,
    /// Text, one of these values (Discord shows them as a list).
    Choice(&'static [&'static str]),
    /// A subcommand with its own options (`/setup timezone zone:`); a command's options are
    /// either all subcommands or none.
    Subcommand(&'static [OptionSpec]),
}

const fn option(
    name: &'static str,
    description: &'static str,
    required: bool,
    autocomplete: AutocompleteField,
) -> OptionSpec {
    OptionSpec {
        name,
        description,
        required,
        kind: OptionKind::String(Some(autocomplete)),
    }
}

const ROOM: OptionSpec = option("room", "Only this room", false, AutocompleteField::Room);

/// `/subscribe` and `/unsubscribe` take exactly one of these (checked when parsing: Discord
/// has no "one of" constraint).
const TARGET_OPTIONS: [&str; 3] = ["talk", "room", "track"];
const TARGETS: &[OptionSpec] = &[
    option(
        "talk",
        "A talk: words from its title or a speaker's name",
        false,
        AutocompleteField::TalkQuery,
    ),
    option(
        "room",
        "Every talk in this room",
        false,
        AutocompleteField::Room,
    ),
    option(
        "track",
        "Every talk of this track",
        false,
        AutocompleteField::Track,
    ),
];

/// Every command confbot offers. `/help` and the registration are built from this list.
pub fn commands() -> &'static [CommandSpec] {
    COMMANDS
}

/// An attendee command: everybody, deferred privately.
const fn private(
    name: &'static str,
    description: &'static str,
    options: &'static [OptionSpec],
) -> CommandSpec {
    CommandSpec {
        name,
        description,
        options,
        public: false,
        default_member_permissions: None,
    }
}

/// A constant so that the nested option lists are `'static`.
const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "talk",
        description: "Find a talk by title, speaker or topic",
        options: &[option(
            "query",
            "Words from the title, a speaker's name or the abstract",
            true,
            AutocompleteField::TalkQuery,
        )],
        public: true,
        default_member_permissions: None,
    },
    private(
        "next",
        "The next talk in each room",
        &[
            ROOM,
            option("track", "Only this track", false, AutocompleteField::Track),
        ],
    ),
    private(
        "now",
        "What is running right now, and for how long",
        &[ROOM],
    ),
    private(
        "schedule",
        "A day's programme",
        &[
            option(
                "day",
                "The programme day (default: today)",
                false,
                AutocompleteField::Day,
            ),
            ROOM,
        ],
    ),
    private(
        "speaker",
        "A speaker's talks and biography",
        &[option(
            "name",
            "The speaker's name",
            true,
            AutocompleteField::SpeakerName,
        )],
    ),
    private(
        "subscribe",
        "Be reminded before a talk, or every talk of a room or track",
        TARGETS,
    ),
    private(
        "unsubscribe",
        "Stop reminders for a talk, room or track",
        TARGETS,
    ),
    private(
        "mytalks",
        "Your subscriptions, with a calendar file and a live calendar link",
        &[OptionSpec {
            name: "reset-link",
            description: "True: the old calendar link stops working and you get a new one",
            required: false,
            kind: OptionKind::Boolean,
        }],
    ),
    private(
        "remind",
        "How many minutes before a talk you are reminded",
        &[OptionSpec {
            name: "lead",
            description: "Minutes before the start (0 to 120); leave out to see the current one",
            required: false,
            kind: OptionKind::Integer {
                min: 0,
                max: LeadTime::MAX_MINUTES as u64,
            },
        }],
    ),
    CommandSpec {
        name: "channel",
        description: "Organisers: the channel where a room's reminders are posted",
        options: &[
            OptionSpec {
                name: "channel",
                description: "The channel for the reminders",
                required: true,
                kind: OptionKind::Channel,
            },
            option(
                "room",
                "The room (leave out: the channel for every other room)",
                false,
                AutocompleteField::Room,
            ),
        ],
        public: false,
        default_member_permissions: Some(Permissions::MANAGE_GUILD),
    },
    organisers::SETUP,
    organisers::STATUS,
    organisers::SYNC,
    announcements::ANNOUNCE,
    announcements::ANNOUNCEMENTS,
    questions::ASK,
    questions::QUESTIONS,
    private(
        "forget",
        "Delete everything confbot holds about you here (in a DM with me: everywhere)",
        &[],
    ),
    private("help", "What confbot does and how to use it", &[]),
];

/// The registry entry of a command name.
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    commands().iter().find(|spec| spec.name == name)
}

/// A parsed invocation: answered from the programme alone, or about the user's reminders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    Lookup(Command),
    Reminders(ReminderCommand),
    /// Organisers only (checked by the handler).
    Setup(SetupCommand),
    /// Organisers only (checked by the handler).
    Status(StatusCommand),
    /// `/sync`: organisers only (checked by the handler).
    Sync,
    /// `/announce`, `/announcements`: organisers only (checked by the handler).
    Announce(AnnounceCommand),
    /// `/forget`: the asker's own data.
    Forget,
    /// `/ask` and `/questions` (chairs only, checked by the handler).
    Questions(QuestionsCommand),
}

/// Why an invocation could not be parsed; the Display is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A command this version of confbot does not offer (e.g. registered by an older one).
    #[error("I don't know the command /{0} (any more). Try /help for the commands I offer.")]
    UnknownCommand(String),
    /// A required option was left out or is empty.
    #[error("Please fill in the option `{0}`.")]
    MissingOption(&'static str),
    /// None or several of options of which exactly one is needed.
    #[error("Please give exactly one of `talk`, `room` or `track`.")]
    ExactlyOneTarget,
    /// A subcommand-only command invoked without one (an older registration).
    #[error("Please pick one of the subcommands of /{0}.")]
    MissingSubcommand(&'static str),
    /// An option value that is not one of its choices.
    #[error("`{option}` is one of: {choices}.")]
    NotAChoice {
        option: &'static str,
        choices: String,
    },
    /// An integer outside its registered range (or not an integer at all).
    #[error("`{option}` is a whole number from {min} to {max}.")]
    OutOfRange {
        option: &'static str,
        min: u64,
        max: u64,
    },
}

/// Reads an invocation's options. Empty or whitespace-only text options count as not
/// given; integers are checked against their registered range; unknown options are ignored
/// (Discord only sends registered ones).
pub fn parse(name: &str, options: &[CommandDataOption]) -> Result<Invocation, ParseError> {
    let spec = find(name).ok_or_else(|| ParseError::UnknownCommand(name.to_owned()))?;
    let given = Given::new(spec.options, options);
    let target = || -> Result<TargetQuery, ParseError> {
        let given: Vec<(&str, String)> = TARGET_OPTIONS
            .iter()
            .filter_map(|key| given.text(key).map(|value| (*key, value)))
            .collect();
        match given.as_slice() {
            [("talk", value)] => Ok(TargetQuery::Talk(value.clone())),
            [("room", value)] => Ok(TargetQuery::Room(value.clone())),
            [("track", value)] => Ok(TargetQuery::Track(value.clone())),
            _ => Err(ParseError::ExactlyOneTarget),
        }
    };
    let lookup = |command| Ok(Invocation::Lookup(command));
    let reminders = |command| Ok(Invocation::Reminders(command));
    match spec.name {
        "talk" => lookup(Command::Talk {
            query: given.required("query")?,
        }),
        "next" => lookup(Command::Next {
            room: given.text("room"),
            track: given.text("track"),
        }),
        "now" => lookup(Command::Now {
            room: given.text("room"),
        }),
        "schedule" => lookup(Command::Schedule {
            day: given.text("day"),
            room: given.text("room"),
        }),
        "speaker" => lookup(Command::Speaker {
            name: given.required("name")?,
        }),
        "help" => lookup(Command::Help),
        "subscribe" => reminders(ReminderCommand::Subscribe(target()?)),
        "unsubscribe" => reminders(ReminderCommand::Unsubscribe(target()?)),
        "mytalks" => reminders(ReminderCommand::MyTalks {
            reset_link: given.boolean("reset-link").unwrap_or(false),
        }),
        "remind" => reminders(ReminderCommand::Remind {
            lead: given.lead("lead")?,
        }),
        "channel" => reminders(ReminderCommand::Channel {
            channel: given.required_channel("channel")?,
            room: given.text("room"),
        }),
        "setup" => organisers::parse_setup(&given).map(Invocation::Setup),
        "status" => organisers::parse_status(&given).map(Invocation::Status),
        "sync" => Ok(Invocation::Sync),
        "forget" => Ok(Invocation::Forget),
        "announce" => announcements::parse_announce(&given).map(Invocation::Announce),
        "ask" | "questions" => questions::parse(spec.name, &given).map(Invocation::Questions),
        "announcements" => announcements::parse_announcements(&given).map(Invocation::Announce),
        other => Err(ParseError::UnknownCommand(other.to_owned())),
    }
}

/// Which suggestions an option being typed wants, if it autocompletes.
pub fn autocomplete_field(command: &str, option: &str) -> Option<AutocompleteField> {
    match find(command)?
        .options
        .iter()
        .find(|spec| spec.name == option)?
        .kind
    {
        OptionKind::String(field) => field,
        OptionKind::Integer { .. }
        | OptionKind::Channel
        | OptionKind::Role
        | OptionKind::Boolean
        | OptionKind::Choice(_)
        | OptionKind::Subcommand(_) => None,
    }
}

#[cfg(test)]
mod tests;
