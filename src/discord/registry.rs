//! The slash commands: one registry listing every command with its description and options,
//! the registration payloads built from it, and the parsing of an invocation back into a
//! [`Command`]. Registration and parsing read the same table, so they cannot disagree.

use serenity::all::{CommandDataOption, CommandOptionType, CreateCommand, CreateCommandOption};

use crate::domain::commands::{AutocompleteField, Command};

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
}

/// A string option of a command.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
    /// Which suggestions Discord asks for while the option is typed.
    pub autocomplete: Option<AutocompleteField>,
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
        autocomplete: Some(autocomplete),
    }
}

const ROOM: OptionSpec = option("room", "Only this room", false, AutocompleteField::Room);

/// Every command confbot offers. `/help` and the registration are built from this list.
pub fn commands() -> &'static [CommandSpec] {
    COMMANDS
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
    },
    CommandSpec {
        name: "next",
        description: "The next talk in each room",
        options: &[
            ROOM,
            option("track", "Only this track", false, AutocompleteField::Track),
        ],
        public: false,
    },
    CommandSpec {
        name: "now",
        description: "What is running right now, and for how long",
        options: &[ROOM],
        public: false,
    },
    CommandSpec {
        name: "schedule",
        description: "A day's programme",
        options: &[
            option(
                "day",
                "The programme day (default: today)",
                false,
                AutocompleteField::Day,
            ),
            ROOM,
        ],
        public: false,
    },
    CommandSpec {
        name: "speaker",
        description: "A speaker's talks and biography",
        options: &[option(
            "name",
            "The speaker's name",
            true,
            AutocompleteField::SpeakerName,
        )],
        public: false,
    },
    CommandSpec {
        name: "help",
        description: "What confbot does and how to use it",
        options: &[],
        public: false,
    },
];

/// The registry entry of a command name.
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    commands().iter().find(|spec| spec.name == name)
}

/// The registration payloads (`PUT .../commands` replaces the whole set, so commands
/// removed from the registry disappear from Discord too).
pub fn registrations() -> Vec<CreateCommand> {
    commands()
        .iter()
        .map(|spec| {
            let options = spec.options.iter().map(|option| {
                CreateCommandOption::new(CommandOptionType::String, option.name, option.description)
                    .required(option.required)
                    .set_autocomplete(option.autocomplete.is_some())
            });
            CreateCommand::new(spec.name)
                .description(spec.description)
                .set_options(options.collect())
        })
        .collect()
}

/// Why an invocation could not become a [`Command`]; the Display is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A command this version of confbot does not offer (e.g. registered by an older one).
    #[error("I don't know the command /{0} (any more). Try /help for the commands I offer.")]
    UnknownCommand(String),
    /// A required option was left out or is empty.
    #[error("Please fill in the option `{0}`.")]
    MissingOption(&'static str),
}

/// Reads an invocation's options into a [`Command`]. Empty or whitespace-only options count
/// as not given; unknown options are ignored (Discord only sends registered ones).
pub fn parse(name: &str, options: &[CommandDataOption]) -> Result<Command, ParseError> {
    let get = |key: &str| -> Option<String> {
        options
            .iter()
            .find(|option| option.name == key)
            .and_then(|option| option.value.as_str())
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let required = |key: &'static str| get(key).ok_or(ParseError::MissingOption(key));
    Ok(match name {
        "talk" => Command::Talk {
            query: required("query")?,
        },
        "next" => Command::Next {
            room: get("room"),
            track: get("track"),
        },
        "now" => Command::Now { room: get("room") },
        "schedule" => Command::Schedule {
            day: get("day"),
            room: get("room"),
        },
        "speaker" => Command::Speaker {
            name: required("name")?,
        },
        "help" => Command::Help,
        other => return Err(ParseError::UnknownCommand(other.to_owned())),
    })
}

/// Which suggestions an option being typed wants, if it autocompletes.
pub fn autocomplete_field(command: &str, option: &str) -> Option<AutocompleteField> {
    find(command)?
        .options
        .iter()
        .find(|spec| spec.name == option)?
        .autocomplete
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_option(name: &str, value: &str) -> CommandDataOption {
        serde_json::from_value(serde_json::json!({"name": name, "type": 3, "value": value}))
            .expect("option json")
    }

    #[test]
    fn every_command_has_a_short_lowercase_name_and_a_description_discord_accepts() {
        for spec in commands() {
            assert!(
                spec.name.chars().all(|c| c.is_ascii_lowercase()),
                "{}",
                spec.name
            );
            assert!((1..=100).contains(&spec.description.chars().count()));
            for option in spec.options {
                assert!((1..=100).contains(&option.description.chars().count()));
            }
        }
        assert_eq!(registrations().len(), 6);
    }

    #[test]
    fn options_become_a_command_with_blank_ones_left_out() {
        let options = [
            string_option("room", " Barn "),
            string_option("track", "  "),
        ];

        let command = parse("next", &options);

        assert_eq!(
            command,
            Ok(Command::Next {
                room: Some("Barn".to_owned()),
                track: None
            })
        );
    }

    #[test]
    fn a_missing_required_option_and_an_unknown_command_are_user_errors() {
        assert_eq!(parse("talk", &[]), Err(ParseError::MissingOption("query")));
        assert_eq!(
            parse("karaoke", &[]),
            Err(ParseError::UnknownCommand("karaoke".to_owned()))
        );
    }

    #[test]
    fn autocompleted_options_name_their_field() {
        assert_eq!(
            autocomplete_field("talk", "query"),
            Some(AutocompleteField::TalkQuery)
        );
        assert_eq!(
            autocomplete_field("schedule", "day"),
            Some(AutocompleteField::Day)
        );
        assert_eq!(autocomplete_field("help", "query"), None);
    }
}
