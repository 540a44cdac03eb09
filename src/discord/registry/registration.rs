//! The registry's table as Discord's registration payloads.

use serenity::all::{ChannelType, CommandOptionType, CreateCommand, CreateCommandOption};

use super::{commands, OptionKind, OptionSpec};

/// The registration payloads (`PUT .../commands` replaces the whole set, so commands
/// removed from the registry disappear from Discord too).
pub fn registrations() -> Vec<CreateCommand> {
    commands()
        .iter()
        .map(|spec| {
            let mut command = CreateCommand::new(spec.name)
                .description(spec.description)
                .set_options(spec.options.iter().map(registration).collect());
            if let Some(permissions) = spec.default_member_permissions {
                command = command.default_member_permissions(permissions);
            }
            command
        })
        .collect()
}

/// The registration payload of one option (a subcommand with its own options).
fn registration(option: &OptionSpec) -> CreateCommandOption {
    let builder = |kind| {
        CreateCommandOption::new(kind, option.name, option.description).required(option.required)
    };
    match option.kind {
        OptionKind::String(autocomplete) => {
            builder(CommandOptionType::String).set_autocomplete(autocomplete.is_some())
        }
        OptionKind::Integer { min, max } => builder(CommandOptionType::Integer)
            .min_int_value(min)
            .max_int_value(max),
        OptionKind::Channel => builder(CommandOptionType::Channel)
            .channel_types(vec![ChannelType::Text, ChannelType::News]),
        OptionKind::Role => builder(CommandOptionType::Role),
        OptionKind::Boolean => builder(CommandOptionType::Boolean),
        OptionKind::Choice(values) => values
            .iter()
            .fold(builder(CommandOptionType::String), |option, value| {
                option.add_string_choice(*value, *value)
            }),
        // Discord refuses `required` on a subcommand.
        OptionKind::Subcommand(options) => options.iter().fold(
            CreateCommandOption::new(
                CommandOptionType::SubCommand,
                option.name,
                option.description,
            ),
            |subcommand, option| subcommand.add_sub_option(registration(option)),
        ),
    }
}
