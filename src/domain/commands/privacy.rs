//! `/forget`: what confbot holds about the asker, a Confirm before anything is deleted, and
//! what was deleted. Every reply is private.

use super::render::ephemeral;
use super::{Button, ButtonAction, Reply};
use crate::domain::privacy::{ForgetScope, Holdings};

/// What would be deleted, with Forget me / Keep buttons; or that there is nothing.
pub fn preview(scope: ForgetScope, held: &Holdings) -> Reply {
    if held.is_empty() {
        return ephemeral(format!(
            "I hold nothing about you {}: no subscriptions, no lead time, no direct messages.",
            place(scope)
        ));
    }
    let mut reply = ephemeral(format!(
        "This deletes everything I hold about you {}:\n{}\nIt cannot be undone: you would \
         get no more reminders from these subscriptions.",
        place(scope),
        list(held)
    ));
    if let Some(message) = reply.messages.first_mut() {
        message.buttons = vec![
            Button {
                label: "Forget me".to_owned(),
                action: ButtonAction::ForgetMe,
            },
            Button {
                label: "Keep my data".to_owned(),
                action: ButtonAction::KeepMyData,
            },
        ];
    }
    reply
}

/// After the deletion: what went.
pub fn forgotten(scope: ForgetScope, deleted: &Holdings) -> Reply {
    if deleted.is_empty() {
        return ephemeral(format!(
            "There was nothing left to delete {}.",
            place(scope)
        ));
    }
    ephemeral(format!(
        "Done: I deleted everything I held about you {}:\n{}",
        place(scope),
        list(deleted)
    ))
}

/// The asker chose to keep their data.
pub fn kept() -> Reply {
    ephemeral("Nothing was deleted.".to_owned())
}

fn place(scope: ForgetScope) -> &'static str {
    match scope {
        ForgetScope::Server { .. } => {
            "in this server (use /forget in a direct message with me for everywhere)"
        }
        ForgetScope::Everywhere => "in every server",
    }
}

fn list(held: &Holdings) -> String {
    let count = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("• 1 {one}")
        } else {
            format!("• {n} {many}")
        }
    };
    let mut lines = Vec::new();
    if held.subscriptions > 0 {
        lines.push(count(held.subscriptions, "subscription", "subscriptions"));
    }
    if held.lead_times > 0 {
        lines.push(count(
            held.lead_times,
            "chosen reminder lead time",
            "chosen reminder lead times",
        ));
    }
    if held.direct_messages > 0 {
        lines.push(count(
            held.direct_messages,
            "record of a direct message (sent or planned)",
            "records of direct messages (sent or planned)",
        ));
    }
    if held.calendar_links > 0 {
        lines.push(count(
            held.calendar_links,
            "private calendar link (it stops working)",
            "private calendar links (they stop working)",
        ));
    }
    if held.questions > 0 {
        lines.push(count(
            held.questions,
            "question or vote of yours (questions are removed from their threads)",
            "questions and votes of yours (questions are removed from their threads)",
        ));
    }
    if held.organiser_records > 0 {
        lines.push(count(
            held.organiser_records,
            "organiser action naming you (kept, without your name)",
            "organiser actions naming you (kept, without your name)",
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: ForgetScope = ForgetScope::Server {
        guild: 7,
        conference: Some(1),
    };

    #[test]
    fn the_preview_lists_what_would_go_and_asks_before_deleting() {
        let held = Holdings {
            subscriptions: 3,
            lead_times: 1,
            direct_messages: 12,
            organiser_records: 0,
            questions: 2,
            calendar_links: 1,
        };

        let reply = preview(SERVER, &held);
        assert!(
            reply.messages[0]
                .content
                .contains("• 1 private calendar link (it stops working)"),
            "{}",
            reply.messages[0].content
        );

        let message = &reply.messages[0];
        assert!(
            message.content.contains("• 3 subscriptions"),
            "{}",
            message.content
        );
        assert!(
            message.content.contains("• 1 chosen reminder lead time\n"),
            "{}",
            message.content
        );
        assert!(
            message.content.contains("• 12 records of direct messages"),
            "{}",
            message.content
        );
        assert!(
            !message.content.contains("organiser"),
            "{}",
            message.content
        );
        assert!(
            message.content.contains("in this server"),
            "{}",
            message.content
        );
        let actions: Vec<_> = message.buttons.iter().map(|b| b.action).collect();
        assert_eq!(actions, [ButtonAction::ForgetMe, ButtonAction::KeepMyData]);
        assert_eq!(reply.visibility, super::super::Visibility::Ephemeral);
    }

    #[test]
    fn nothing_held_means_no_buttons() {
        let reply = preview(ForgetScope::Everywhere, &Holdings::default());

        assert!(reply.messages[0].buttons.is_empty());
        assert!(reply.messages[0]
            .content
            .starts_with("I hold nothing about you in every server"));
    }

    #[test]
    fn the_confirmation_says_what_was_deleted() {
        let deleted = Holdings {
            organiser_records: 2,
            ..Holdings::default()
        };

        let reply = forgotten(ForgetScope::Everywhere, &deleted);

        assert!(reply.messages[0]
            .content
            .contains("• 2 organiser actions naming you (kept, without your name)"));
        assert_eq!(
            forgotten(SERVER, &Holdings::default()).messages[0].content,
            "There was nothing left to delete in this server (use /forget in a direct message \
             with me for everywhere)."
        );
    }
}
