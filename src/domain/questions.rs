//! Questions with votes (`/ask`, `/questions`): what may be asked, which talk a question is
//! for, what its card in the talk's thread shows, and what a chair sees. Pure: the
//! programme, the stored questions and `now` in, decisions and messages out.
//!
//! - A question is one to [`MAX_LENGTH`] characters of untrusted text: control characters
//!   go, markdown is escaped and nobody is pinged when it is shown.
//! - One question per person, talk and [`COOLDOWN`].
//! - `/ask` typed in a talk's thread is for that talk; typed in a room's reminder channel, for
//!   the room's talk running now (else the next one starting within [`AHEAD`]); else the
//!   talk named, suggested among those running or starting within [`AHEAD`].
//! - The card names the asker without a ping (or says it was asked anonymously, where the
//!   server allows it), shows the votes and has an Upvote button; an answered question says
//!   so and takes no more votes; a hidden one is removed from the thread.
//! - `/questions` lists the [`LISTED`] open questions with most votes (earliest first on a
//!   tie), answered ones after them, with Answered and Hide buttons for each open one.

use chrono::{DateTime, Duration, Utc};

use crate::domain::commands::{
    escape_markdown, limits, truncate, Button, ButtonAction, Choice, Message, Reply, Visibility,
};
use crate::domain::model::{Moderation, QuestionId, StoredTalk, TalkId};
use crate::domain::programme::Programme;
use crate::domain::reminders::ChannelPlan;
use crate::domain::text::title_key;

/// The longest question, in characters.
pub const MAX_LENGTH: usize = 500;
/// How long a person waits between two questions to one talk.
pub const COOLDOWN: Duration = Duration::seconds(30);
/// Talks starting this soon take questions from the room's channel and are suggested.
pub const AHEAD: Duration = Duration::minutes(30);
/// How many questions `/questions` lists (each open one with two buttons: 4 rows of 5).
pub const LISTED: usize = 10;

/// A parsed `/ask` or `/questions`; `talk` as typed (or suggested), `None`: the talk of
/// where it is typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionsCommand {
    Ask {
        question: String,
        talk: Option<String>,
    },
    List {
        talk: Option<String>,
    },
}

/// A server's `/setup questions`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuestionSettings {
    /// Cards do not name the asker (the audit log still does, for organisers).
    pub anonymous: bool,
    /// Members with this role chair sessions (`/questions`); organisers always may.
    pub chair_role: Option<u64>,
}

/// Where a question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionState {
    Open,
    /// The chair marked it answered: the card says so and takes no more votes.
    Answered,
    /// The chair hid it: gone from the thread and from `/questions`.
    Hidden,
}

impl QuestionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Answered => "answered",
            Self::Hidden => "hidden",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Open, Self::Answered, Self::Hidden]
            .into_iter()
            .find(|state| state.as_str() == stored)
    }
}

/// A question as stored, with its votes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: QuestionId,
    pub talk: TalkId,
    pub asker: u64,
    pub anonymous: bool,
    /// As accepted by [`question_text`] (unescaped).
    pub text: String,
    pub state: QuestionState,
    pub votes: u32,
    pub asked_at: DateTime<Utc>,
}

impl Moderation {
    /// The state a question is left in.
    pub fn state(self) -> QuestionState {
        match self {
            Self::Answered => QuestionState::Answered,
            Self::Hide => QuestionState::Hidden,
        }
    }
}

/// The question as it will be stored, or why it cannot be.
pub fn question_text(raw: &str) -> Result<String, String> {
    let Some(text) = crate::domain::text::clean(raw) else {
        return Err("A question needs some text.".to_owned());
    };
    let length = text.chars().count();
    if length > MAX_LENGTH {
        return Err(format!(
            "That question is {length} characters long: please keep it to {MAX_LENGTH}."
        ));
    }
    Ok(text)
}

/// How long the asker must still wait after their last question to the talk, if at all.
pub fn cooldown_left(last_asked: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<Duration> {
    let next = last_asked? + COOLDOWN;
    (next > now).then(|| next - now)
}

/// The refusal for a question asked too soon.
pub fn too_soon(wait: Duration) -> String {
    let seconds = wait.num_seconds().max(1);
    format!("One question per talk every 30 seconds, please: try again in {seconds} s.")
}

/// Whether `talk` takes questions from its room's channel or is suggested: running now, or
/// starting within [`AHEAD`].
fn is_live(talk: &StoredTalk, now: DateTime<Utc>) -> bool {
    talk.data
        .slot
        .is_some_and(|slot| slot.start - AHEAD <= now && now < slot.end)
}

/// The talks a question can be for now, soonest first: running or starting within
/// [`AHEAD`].
pub fn live_talks(programme: &Programme, now: DateTime<Utc>) -> Vec<&StoredTalk> {
    let mut live: Vec<&StoredTalk> = programme
        .attendable()
        .filter_map(|i| programme.talks.get(i))
        .filter(|talk| is_live(talk, now))
        .collect();
    live.sort_by_key(|talk| talk.data.slot.map(|slot| slot.start));
    live
}

/// The talk a question typed in `channel` is for when that is a room's reminder channel
/// (`plan`): the talk running there now, else the next one starting within [`AHEAD`].
pub fn talk_in_channel(
    programme: &Programme,
    plan: &ChannelPlan,
    channel: u64,
    now: DateTime<Utc>,
) -> Option<TalkId> {
    live_talks(programme, now)
        .into_iter()
        .find(|talk| plan.channel_for(talk.data.room.as_deref()) == Some(channel))
        .map(|talk| talk.id)
}

/// The talk a typed (or suggested) title names: a live talk whose title it is or starts,
/// else any talk of that title.
pub fn talk_named(programme: &Programme, typed: &str, now: DateTime<Utc>) -> Option<TalkId> {
    let key = title_key(typed);
    if key.is_empty() {
        return None;
    }
    let live = live_talks(programme, now);
    let found = live
        .iter()
        .find(|talk| title_key(&talk.data.title) == key)
        .or_else(|| {
            live.iter()
                .find(|talk| title_key(&talk.data.title).starts_with(&key))
        })
        .map(|talk| talk.id);
    found.or_else(|| {
        programme
            .attendable()
            .filter_map(|i| programme.talks.get(i))
            .find(|talk| title_key(&talk.data.title) == key)
            .map(|talk| talk.id)
    })
}

/// Suggestions for `/ask talk` and `/questions talk`: live talks matching what was typed.
pub fn suggestions(programme: &Programme, typed: &str, now: DateTime<Utc>) -> Vec<Choice> {
    let key = title_key(typed);
    live_talks(programme, now)
        .into_iter()
        .filter(|talk| key.is_empty() || title_key(&talk.data.title).contains(&key))
        .take(limits::AUTOCOMPLETE_CHOICES)
        .map(|talk| {
            let room = talk.data.room.as_deref().unwrap_or("no room");
            Choice {
                name: truncate(
                    &format!("{} ({room})", talk.data.title),
                    limits::CHOICE_NAME,
                ),
                value: truncate(&talk.data.title, limits::CHOICE_VALUE),
            }
        })
        .collect()
}

/// What a question's card should be: shown as this message, or removed from the thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Card {
    Show(Message),
    Remove,
}

/// The card of `question` in its talk's thread.
pub fn card(question: &Question) -> Card {
    let votes = match question.votes {
        1 => "▲ 1 vote".to_owned(),
        n => format!("▲ {n} votes"),
    };
    let by = if question.anonymous {
        "asked anonymously".to_owned()
    } else {
        // Shown as the asker's name; `allowed_mentions` keeps it from pinging them.
        format!("asked by <@{}>", question.asker)
    };
    let (status, buttons) = match question.state {
        QuestionState::Hidden => return Card::Remove,
        QuestionState::Open => (
            String::new(),
            vec![Button {
                label: "Upvote".to_owned(),
                action: ButtonAction::Upvote(question.id),
            }],
        ),
        QuestionState::Answered => (" · ✅ Answered".to_owned(), Vec::new()),
    };
    let content = format!(
        "❓ {}\n-# {by} · {votes}{status}",
        escape_markdown(&question.text)
    );
    Card::Show(Message {
        content: truncate(&content, limits::CONTENT),
        buttons,
        ..Message::default()
    })
}

/// The private answer to the asker once their question is stored.
pub fn asked(talk_title: &str, guild: u64, thread: u64, anonymous: bool) -> String {
    let shown = if anonymous {
        " It is shown without your name (the organisers can still see who asked)."
    } else {
        ""
    };
    format!(
        "Your question to **{}** is posted in https://discord.com/channels/{guild}/{thread} : \
         others can upvote it there.{shown}",
        escape_markdown(talk_title)
    )
}

/// The private answer to a vote.
pub fn voted(counted: bool, votes: u32) -> String {
    let total = match votes {
        1 => "1 vote".to_owned(),
        n => format!("{n} votes"),
    };
    if counted {
        format!("Upvoted: the question has {total} now. Click again to take your vote back.")
    } else {
        format!("Your vote is taken back: the question has {total} now.")
    }
}

/// A chair's list: the open questions with most votes, then the answered ones, each open
/// one with its Answered and Hide buttons. `questions` holds the talk's questions in any
/// order; hidden ones are left out.
pub fn chair_list(talk: &StoredTalk, questions: &[Question]) -> Reply {
    let mut shown: Vec<&Question> = questions
        .iter()
        .filter(|q| q.state != QuestionState::Hidden)
        .collect();
    shown.sort_by(|a, b| {
        let answered = |q: &Question| q.state == QuestionState::Answered;
        answered(a)
            .cmp(&answered(b))
            .then(b.votes.cmp(&a.votes))
            .then(a.asked_at.cmp(&b.asked_at))
            .then(a.id.cmp(&b.id))
    });
    let title = escape_markdown(&talk.data.title);
    if shown.is_empty() {
        return private(format!("No questions to **{title}** yet."), Vec::new());
    }
    let mut lines = vec![format!("**Questions to {title}**, most votes first:")];
    let mut answered_buttons = Vec::new();
    let mut hide_buttons = Vec::new();
    // Each line gets an equal share of the message, less its number, votes and asker (at
    // most 50 characters), and the header and footer lines (300).
    let per_line = (limits::CONTENT - 300) / LISTED - 50;
    for (n, question) in shown.iter().take(LISTED).enumerate() {
        let n = n + 1;
        let by = if question.anonymous {
            "anonymous".to_owned()
        } else {
            format!("<@{}>", question.asker)
        };
        let done = if question.state == QuestionState::Answered {
            " ✅"
        } else {
            answered_buttons.push(Button {
                label: format!("✅ {n}"),
                action: ButtonAction::Moderate(question.id, Moderation::Answered),
            });
            hide_buttons.push(Button {
                label: format!("🙈 {n}"),
                action: ButtonAction::Moderate(question.id, Moderation::Hide),
            });
            ""
        };
        let text = truncate(&escape_markdown(&question.text), per_line);
        lines.push(format!(
            "**{n}.** ▲ {} · {text} — {by}{done}",
            question.votes
        ));
    }
    if shown.len() > LISTED {
        lines.push(format!("…and {} more.", shown.len() - LISTED));
    }
    lines.push("-# ✅ marks a question answered; 🙈 hides it from the thread.".to_owned());
    // Rows of Answered buttons for 1-5 and of Hide buttons for 1-5, then the same for 6-10
    // (the adapter starts a row where the action changes).
    let mut buttons = Vec::new();
    for (answered, hide) in answered_buttons.chunks(5).zip(hide_buttons.chunks(5)) {
        buttons.extend_from_slice(answered);
        buttons.extend_from_slice(hide);
    }
    private(truncate(&lines.join("\n"), limits::CONTENT), buttons)
}

/// A list asked for a talk the programme no longer has.
pub fn talk_gone() -> Reply {
    private(
        "That talk is no longer in the programme.".to_owned(),
        Vec::new(),
    )
}

fn private(content: String, buttons: Vec<Button>) -> Reply {
    Reply {
        visibility: Visibility::Ephemeral,
        messages: vec![Message {
            content,
            buttons,
            ..Message::default()
        }],
    }
}

#[cfg(test)]
mod tests;
