//! Reading an invocation's options against their registry specs: the same table that
//! registered them says what each one holds and which range an integer has.

use serenity::all::{CommandDataOption, CommandDataOptionValue};

use super::{OptionKind, OptionSpec, ParseError};
use crate::domain::reminders::LeadTime;

/// The options given to a command (or to one of its subcommands), with their specs.
pub(super) struct Given<'a> {
    specs: &'static [OptionSpec],
    options: &'a [CommandDataOption],
}

impl<'a> Given<'a> {
    pub(super) fn new(specs: &'static [OptionSpec], options: &'a [CommandDataOption]) -> Self {
        Self { specs, options }
    }

    fn option(&self, key: &str) -> Option<&'a CommandDataOption> {
        self.options.iter().find(|option| option.name == key)
    }

    fn spec(&self, key: &str) -> Option<&'static OptionSpec> {
        self.specs.iter().find(|spec| spec.name == key)
    }

    /// A text option, trimmed; empty or blank counts as not given.
    pub(super) fn text(&self, key: &str) -> Option<String> {
        self.option(key)
            .and_then(|option| option.value.as_str())
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    }

    /// A text option that must be given.
    pub(super) fn required(&self, key: &'static str) -> Result<String, ParseError> {
        self.text(key).ok_or(ParseError::MissingOption(key))
    }

    /// An integer option, checked against its registered range.
    pub(super) fn integer(&self, key: &str) -> Result<Option<u64>, ParseError> {
        let Some(spec) = self.spec(key) else {
            return Ok(None);
        };
        let OptionKind::Integer { min, max } = spec.kind else {
            return Ok(None);
        };
        let out_of_range = ParseError::OutOfRange {
            option: spec.name,
            min,
            max,
        };
        match self.option(key).map(|o| o.value.as_i64()) {
            None => Ok(None),
            Some(value) => value
                .and_then(|v| u64::try_from(v).ok())
                .filter(|v| (min..=max).contains(v))
                .map(Some)
                .ok_or(out_of_range),
        }
    }

    /// An integer option that must be given.
    pub(super) fn required_integer(&self, key: &'static str) -> Result<u64, ParseError> {
        self.integer(key)?.ok_or(ParseError::MissingOption(key))
    }

    /// A lead time in minutes (registered with LeadTime's range).
    pub(super) fn lead(&self, key: &'static str) -> Result<Option<LeadTime>, ParseError> {
        self.integer(key)?
            .map(|minutes| {
                // The registered range and LeadTime's agree; this guards the day they
                // would not.
                i64::try_from(minutes)
                    .ok()
                    .and_then(|m| LeadTime::from_minutes(m).ok())
                    .ok_or(ParseError::OutOfRange {
                        option: key,
                        min: 0,
                        max: u64::from(LeadTime::MAX_MINUTES),
                    })
            })
            .transpose()
    }

    /// A channel option's channel id, if given.
    pub(super) fn channel(&self, key: &str) -> Option<u64> {
        self.option(key)
            .and_then(|option| option.value.as_channel_id())
            .map(|id| id.get())
    }

    /// A channel option's channel id, which must be given.
    pub(super) fn required_channel(&self, key: &'static str) -> Result<u64, ParseError> {
        self.channel(key).ok_or(ParseError::MissingOption(key))
    }

    /// A role option's role id, if given.
    pub(super) fn role(&self, key: &str) -> Option<u64> {
        self.option(key)
            .and_then(|option| option.value.as_role_id())
            .map(|id| id.get())
    }

    /// A boolean option's value, which must be given.
    pub(super) fn required_boolean(&self, key: &'static str) -> Result<bool, ParseError> {
        match self.option(key).map(|option| &option.value) {
            Some(CommandDataOptionValue::Boolean(value)) => Ok(*value),
            _ => Err(ParseError::MissingOption(key)),
        }
    }

    /// A boolean option's value, if given.
    pub(super) fn boolean(&self, key: &str) -> Option<bool> {
        match self.option(key).map(|option| &option.value) {
            Some(CommandDataOptionValue::Boolean(value)) => Some(*value),
            _ => None,
        }
    }

    /// A role option's role id, which must be given.
    pub(super) fn required_role(&self, key: &'static str) -> Result<u64, ParseError> {
        self.role(key).ok_or(ParseError::MissingOption(key))
    }

    /// A choice option's value, which must be given and be one of its choices.
    pub(super) fn required_choice(&self, key: &'static str) -> Result<&'static str, ParseError> {
        self.choice(key)?.ok_or(ParseError::MissingOption(key))
    }

    /// A choice option's value if given; it must be one of its choices.
    pub(super) fn choice(&self, key: &'static str) -> Result<Option<&'static str>, ParseError> {
        let Some(typed) = self.text(key) else {
            return Ok(None);
        };
        let choices = match self.spec(key).map(|spec| spec.kind) {
            Some(OptionKind::Choice(choices)) => choices,
            _ => &[],
        };
        choices
            .iter()
            .copied()
            .find(|choice| *choice == typed)
            .map(Some)
            .ok_or_else(|| ParseError::NotAChoice {
                option: key,
                choices: choices.join(", "),
            })
    }

    /// The subcommand invoked and its options (read against its own specs).
    pub(super) fn subcommand(
        &self,
        command: &'static str,
    ) -> Result<(&'static str, Given<'a>), ParseError> {
        let missing = ParseError::MissingSubcommand(command);
        let option = self.options.first().ok_or(missing.clone())?;
        let CommandDataOptionValue::SubCommand(options) = &option.value else {
            return Err(missing);
        };
        let spec = self.spec(&option.name).ok_or(missing.clone())?;
        let OptionKind::Subcommand(specs) = spec.kind else {
            return Err(missing);
        };
        Ok((spec.name, Given::new(specs, options)))
    }
}
