//! `/subscribe`, `/unsubscribe`, `/mytalks`, `/remind` and `/channel`: the pure half.
//!
//! The Discord adapter (`crate::discord::subscriptions`) reads and writes the store; what a
//! subscription points at, which talks overlap and every text shown are decided here, from
//! the programme snapshot and plain values. Every reply is ephemeral: subscriptions are
//! personal. The organisers' `/channel` replies are in [`super::channels`].

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::render::{self, ephemeral, full, in_room, name_list, quoted, Pages};
use super::render::{relative, time_of_day};
use super::render::{MAX_MESSAGES, MAX_QUERY_CHARS};
use super::talk::find_talks;
use super::{escape_markdown, truncate, Reply};
use crate::domain::model::{StoredTalk, TalkId, TalkStatus};
use crate::domain::programme::Programme;
use crate::domain::reminders::LeadTime;
use crate::domain::text::title_key;

mod my_talks;
pub use my_talks::{my_talks, CalendarLink, MYTALKS_FILENAME};

/// How many talks `/unsubscribe talk` looks through for one the user is subscribed to.
const CANDIDATES: usize = 10;
/// How many overlapping talks one line names.
const MAX_OVERLAPS_SHOWN: usize = 5;
/// Room kept in the last message for the note saying the list goes on.
pub(super) const MORE_NOTE_CHARS: usize = 120;

/// A reminder command with its parsed options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReminderCommand {
    /// `/subscribe talk|room|track` (exactly one).
    Subscribe(TargetQuery),
    /// `/unsubscribe talk|room|track` (exactly one).
    Unsubscribe(TargetQuery),
    /// `/mytalks [reset-link]`; `reset_link` revokes the private calendar link and makes
    /// a new one.
    MyTalks { reset_link: bool },
    /// `/remind [lead]`; without a lead it shows the current one.
    Remind { lead: Option<LeadTime> },
    /// `/channel channel [room]` (organisers only); without a room it sets the default
    /// channel.
    Channel { channel: u64, room: Option<String> },
}

/// What the user typed to name what a subscription covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetQuery {
    /// Words of a talk's title or a speaker's name, resolved like `/talk`.
    Talk(String),
    Room(String),
    Track(String),
}

/// A subscription target found in the programme: a talk, or a room or track spelled as the
/// programme spells it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved<'a> {
    Talk(&'a StoredTalk),
    Room(&'a str),
    Track(&'a str),
}

/// Finds what `query` names. A talk is the best match as `/talk` finds it; among the close
/// matches one in `prefer` (the user's subscribed talks, for `/unsubscribe`) wins. The error
/// is the reply explaining why nothing matched.
pub fn resolve<'a>(
    programme: &'a Programme,
    query: &TargetQuery,
    prefer: &[TalkId],
) -> Result<Resolved<'a>, Reply> {
    match query {
        TargetQuery::Talk(typed) => {
            let typed: String = typed.chars().take(MAX_QUERY_CHARS).collect();
            if title_key(&typed).is_empty() {
                return Err(ephemeral(
                    "Type part of a talk's title or a speaker's name, e.g. \
                     `/subscribe talk:orchestration`."
                        .to_owned(),
                ));
            }
            let found = find_talks(programme, &typed, CANDIDATES);
            let preferred = found.iter().copied().find(|&i| {
                programme
                    .talks
                    .get(i)
                    .is_some_and(|t| prefer.contains(&t.id))
            });
            preferred
                .or_else(|| found.first().copied())
                .and_then(|i| programme.talks.get(i))
                .map(Resolved::Talk)
                .ok_or_else(|| {
                    ephemeral(format!(
                        "No talk matches {}. Try part of the title or a speaker's name; \
                         `/schedule` lists every talk of a day.",
                        quoted(&typed)
                    ))
                })
        }
        TargetQuery::Room(typed) => {
            programme
                .find_room(typed)
                .map(Resolved::Room)
                .ok_or_else(|| {
                    ephemeral(format!(
                        "There is no room {} in this programme. Rooms: {}.",
                        quoted(typed),
                        name_list(programme.rooms().iter().map(String::as_str))
                    ))
                })
        }
        TargetQuery::Track(typed) => {
            programme
                .find_track(typed)
                .map(Resolved::Track)
                .ok_or_else(|| {
                    ephemeral(format!(
                        "There is no track {} in this programme. Tracks: {}.",
                        quoted(typed),
                        name_list(programme.tracks().iter().map(String::as_str))
                    ))
                })
        }
    }
}

/// The talks among `others` whose time overlaps `talk`'s, in programme order. Cancelled,
/// unscheduled and all-day entries overlap nothing.
pub fn overlaps<'a>(
    programme: &'a Programme,
    talk: &StoredTalk,
    others: &[TalkId],
) -> Vec<&'a StoredTalk> {
    let Some(slot) = talk.data.slot.filter(|_| takes_place(talk)) else {
        return Vec::new();
    };
    let others: HashSet<TalkId> = others.iter().copied().collect();
    programme
        .talks
        .iter()
        .filter(|other| other.id != talk.id && others.contains(&other.id))
        .filter(|other| takes_place(other))
        .filter(|other| {
            other
                .data
                .slot
                .is_some_and(|s| s.start < slot.end && slot.start < s.end)
        })
        .collect()
}

fn takes_place(talk: &StoredTalk) -> bool {
    talk.data.status == TalkStatus::Confirmed && talk.data.slot.is_some_and(|s| !s.all_day)
}

/// The answer to subscribing to a talk that is over: nothing is stored, since nothing can
/// come of it. `None` for a talk still to come or under way (or a room or track).
pub fn over(target: &Resolved<'_>, now: DateTime<Utc>) -> Option<Reply> {
    let Resolved::Talk(talk) = target else {
        return None;
    };
    let slot = talk.data.slot.filter(|slot| slot.end <= now)?;
    Some(render::fit(ephemeral(format!(
        "{} is over (it ended {}): there is nothing left to remind you of.",
        bold_title(talk),
        relative(slot.end)
    ))))
}

/// The answer to a subscription: when the reminder comes, whether it existed already, and
/// which of the user's other talks overlap. A talk under way is said to be: no reminder will
/// come for it (one that is over is refused before, by [`over`]).
pub fn subscribed(
    target: &Resolved<'_>,
    lead: LeadTime,
    added: bool,
    overlapping: &[&StoredTalk],
    now: DateTime<Utc>,
) -> Reply {
    let mut text = String::new();
    if !added {
        text.push_str("You are already subscribed. ");
    }
    let phrase = lead_phrase(lead);
    match target {
        Resolved::Talk(talk) => {
            match talk.data.slot.filter(|slot| slot.start <= now) {
                // Under way (one that is over never gets here): in /mytalks, but no reminder.
                Some(slot) => text.push_str(&format!(
                    "{} started {}, so no reminder will come; it runs until {}{} and is in \
                     your `/mytalks`.",
                    bold_title(talk),
                    relative(slot.start),
                    time_of_day(slot.end),
                    talk.data
                        .room
                        .as_deref()
                        .map(|room| format!(" in {}", name(room)))
                        .unwrap_or_default()
                )),
                None => text.push_str(&format!(
                    "You will be reminded {phrase} {} ({}).",
                    bold_title(talk),
                    when_and_where(talk)
                )),
            }
            if talk.data.status == TalkStatus::Cancelled {
                text.push_str("\nThis talk is cancelled: you will hear about it if it comes back.");
            }
        }
        Resolved::Room(room) => text.push_str(&format!(
            "You will be reminded {phrase} every talk in **{}**.",
            name(room)
        )),
        Resolved::Track(track) => text.push_str(&format!(
            "You will be reminded {phrase} every talk of the track **{}**.",
            name(track)
        )),
    }
    if !overlapping.is_empty() {
        text.push_str(&format!(
            "\nIt overlaps with {}.",
            overlap_list(overlapping)
        ));
    }
    if added {
        text.push_str("\n`/mytalks` lists your subscriptions, `/remind` sets how early.");
    }
    render::fit(ephemeral(text))
}

/// The answer to `/unsubscribe`.
pub fn unsubscribed(target: &Resolved<'_>, existed: bool) -> Reply {
    let what = match target {
        Resolved::Talk(talk) => bold_title(talk),
        Resolved::Room(room) => format!("the talks in **{}**", name(room)),
        Resolved::Track(track) => format!("the track **{}**", name(track)),
    };
    render::fit(ephemeral(if existed {
        format!("You will no longer be reminded about {what}.")
    } else {
        format!("You were not subscribed to {what}: nothing changed.")
    }))
}

/// `/remind` without a lead: the current one.
pub fn lead_shown(lead: LeadTime, own: bool) -> Reply {
    let source = if own { "your choice" } else { "the default" };
    render::fit(ephemeral(format!(
        "You are reminded {} each talk you subscribed to ({source}). \
         `/remind lead:15` changes it (0 to {} minutes).",
        lead_phrase(lead),
        LeadTime::MAX_MINUTES
    )))
}

/// `/remind lead`: the new lead time.
pub fn lead_set(lead: LeadTime) -> Reply {
    render::fit(ephemeral(format!(
        "Done: from now on you are reminded {} each talk you subscribed to.",
        lead_phrase(lead)
    )))
}

/// A "Remind me" button whose talk is no longer in the programme.
pub fn talk_gone() -> Reply {
    ephemeral("That talk is no longer in the programme.".to_owned())
}

/// Adds `lines` to `pages`; when they do not all fit in [`MAX_MESSAGES`], ends with `more`.
pub(super) fn push_lines(pages: &mut Pages, lines: &[String], more: &str) {
    for line in lines {
        if !pages.fits(line, MAX_MESSAGES, MORE_NOTE_CHARS) {
            pages.line(more);
            return;
        }
        pages.line(line);
    }
}

/// "10 minutes before", "1 minute before", or "at the start of" for a lead of 0.
pub(super) fn lead_phrase(lead: LeadTime) -> String {
    match lead.minutes() {
        0 => "at the start of".to_owned(),
        1 => "1 minute before".to_owned(),
        minutes => format!("{minutes} minutes before"),
    }
}

fn bold_title(talk: &StoredTalk) -> String {
    format!("**{}**", render::title(talk, 200))
}

/// A room or track name from the programme, escaped and short.
pub(super) fn name(text: &str) -> String {
    truncate(&escape_markdown(text), 100)
}

/// "<t:…:F>, Barn"; "not scheduled yet" for a talk without a time.
fn when_and_where(talk: &StoredTalk) -> String {
    let when = talk
        .data
        .slot
        .map_or_else(|| "not scheduled yet".to_owned(), |slot| full(slot.start));
    match &talk.data.room {
        Some(room) => format!("{when}, {}", name(room)),
        None => when,
    }
}

/// "**Other** in Room B, **Third** in Loft" (at most a few, then "and N more").
fn overlap_list(talks: &[&StoredTalk]) -> String {
    let mut shown: Vec<String> = talks
        .iter()
        .take(MAX_OVERLAPS_SHOWN)
        .map(|t| format!("{}{}", bold_title(t), in_room(t)))
        .collect();
    if talks.len() > MAX_OVERLAPS_SHOWN {
        shown.push(format!("{} more", talks.len() - MAX_OVERLAPS_SHOWN));
    }
    shown.join(", ")
}
