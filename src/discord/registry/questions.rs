//! `/ask` and `/questions`: questions to a talk, and the chair's list of them.

use super::options::Given;
use super::{option, CommandSpec, OptionKind, OptionSpec, ParseError};
use crate::domain::commands::AutocompleteField;
use crate::domain::questions::{QuestionsCommand, MAX_LENGTH};

const TALK: OptionSpec = option(
    "talk",
    "The talk (default: the talk of this thread or room channel)",
    false,
    AutocompleteField::LiveTalk,
);

/// `/ask`: everybody; the answer is private, the question goes to the talk's thread.
pub(super) const ASK: CommandSpec = CommandSpec {
    name: "ask",
    description: "Ask the speaker a question: it goes to the talk's Q&A thread to be upvoted",
    options: &[
        OptionSpec {
            name: "question",
            description: "Your question (at most 500 characters)",
            required: true,
            kind: OptionKind::String(None),
        },
        TALK,
    ],
    public: false,
    default_member_permissions: None,
};

/// `/questions`: session chairs (organisers, or the role of `/setup questions`), checked by
/// the handler; visible to everybody so a chair role without Manage Server can use it.
pub(super) const QUESTIONS: CommandSpec = CommandSpec {
    name: "questions",
    description: "Session chairs: a talk's questions by votes, to mark answered or hide",
    options: &[TALK],
    public: false,
    default_member_permissions: None,
};

pub(super) fn parse(name: &str, given: &Given<'_>) -> Result<QuestionsCommand, ParseError> {
    Ok(match name {
        "ask" => QuestionsCommand::Ask {
            // Longer questions are refused with their length by the handler; Discord's own
            // limit on an option's text is 6,000 characters.
            question: given
                .text("question")
                .ok_or(ParseError::MissingOption("question"))?,
            talk: given.text("talk"),
        },
        _ => QuestionsCommand::List {
            talk: given.text("talk"),
        },
    })
}

/// Shown in the option's description; kept in step with the domain's limit.
const _: () = assert!(MAX_LENGTH == 500);
