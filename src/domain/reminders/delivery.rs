//! The decision at delivery time: send (with text rendered from the true `now`) or drop.

use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use super::text::reminder_content;
use super::{PlannedPost, PostBody, PostKind, Subject, Target};
use crate::domain::announcements::Ping;
use crate::domain::commands::{Button, ButtonAction, Message};

/// What to do with a due post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send this message now.
    Send(Message),
    /// Do not send; log the reason and mark the post done.
    Drop(DropReason),
}

/// Why a post is not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// The talk started (or was to start) at `at`, before the post could go out: a
    /// reminder or notice after the start helps nobody.
    TooLate {
        subject: Subject,
        kind: PostKind,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLate {
                subject,
                kind,
                at,
                now,
            } => {
                let (what, why) = match subject {
                    Subject::Talk(talk) => (format!("talk {}", talk.0), "the talk started"),
                    Subject::Announcement(id) => (format!("announcement {}", id.0), "it was stale"),
                    Subject::Import(id) => (format!("import {id}"), "it was stale"),
                    Subject::Panel(id) => (format!("board panel {id}"), "its period ended"),
                    Subject::Question(id) => (format!("question {}", id.0), "it was stale"),
                };
                write!(
                    f,
                    "{} for {what} dropped at {}: {why} at {}",
                    kind.as_str(),
                    now.to_rfc3339_opts(SecondsFormat::Secs, true),
                    at.to_rfc3339_opts(SecondsFormat::Secs, true),
                )
            }
        }
    }
}

/// Decides a post at `now`, whether or not it is due yet (the caller chose to send it):
/// dropped once `now` is past its expiry (the talk's start; at the start instant itself
/// a reminder still goes out, saying "starting now"), else sent. A reminder's text
/// states the time left at `now`; channel reminders carry a "Remind me" button.
pub fn decide(post: &PlannedPost, now: DateTime<Utc>) -> Decision {
    if let Some(at) = post.expires.filter(|at| now > *at) {
        return Decision::Drop(DropReason::TooLate {
            subject: post.key.subject,
            kind: post.key.kind,
            at,
            now,
        });
    }
    let (content, ping) = match &post.body {
        PostBody::Reminder(body) => (reminder_content(body, now), Ping::None),
        PostBody::Notice { content }
        | PostBody::Board { content, .. }
        | PostBody::ThreadOpen { card: content, .. } => (content.clone(), Ping::None),
        // A card is read from the question when it is sent.
        // An event is no message: its fields are the body's.
        PostBody::ThreadClose { .. } | PostBody::QuestionCard | PostBody::Event { .. } => {
            (String::new(), Ping::None)
        }
        PostBody::Announcement { content, ping } => (content.clone(), *ping),
    };
    let remind_me =
        matches!(post.key.target, Target::Channel(_)) && post.key.kind == PostKind::Reminder;
    let buttons = post
        .key
        .subject
        .talk()
        .filter(|_| remind_me)
        .map(|talk| Button {
            label: "Remind me".to_owned(),
            action: ButtonAction::RemindMe(talk),
        })
        .into_iter()
        .collect();
    Decision::Send(Message {
        content,
        embeds: Vec::new(),
        buttons,
        attachments: Vec::new(),
        ping,
    })
}

/// The posts due at `now` with their decisions, in plan order. `grace` counts posts due
/// up to that much later as due too, so a loop woken a few milliseconds early sends them
/// instead of sleeping again; posts not yet due are left out.
pub fn due_now(
    planned: &[PlannedPost],
    now: DateTime<Utc>,
    grace: Duration,
) -> Vec<(&PlannedPost, Decision)> {
    let horizon = now.checked_add_signed(grace).unwrap_or(now);
    planned
        .iter()
        .filter(|p| p.due <= horizon)
        .map(|p| (p, decide(p, now)))
        .collect()
}
