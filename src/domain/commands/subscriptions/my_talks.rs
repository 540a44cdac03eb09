//! `/mytalks`: the talks, rooms and tracks a user follows, paged within Discord's limits,
//! with the talks as an `.ics` attachment.

use chrono::{DateTime, Utc};

use super::super::render::{self, ephemeral, headline, Pages};
use super::super::{escape_markdown, limits, truncate, Attachment, Reply, Visibility};
use super::{lead_phrase, name, overlap_list, overlaps, push_lines, when_and_where};
use crate::domain::export::ics::to_ics;
use crate::domain::model::StoredTalk;
use crate::domain::programme::Programme;
use crate::domain::reminders::{LeadTime, SubscriptionTarget};

/// A person's live calendar feed, as `/mytalks` shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct CalendarLink {
    /// `https://…/cal/<token>.ics` and the same as `webcal://…`, which phones open in their
    /// calendar app; `None` when the web surface has no public address to give.
    pub urls: Option<(String, String)>,
    /// The link was just made anew (`reset-link`): the old one no longer works.
    pub reset: bool,
}

impl std::fmt::Debug for CalendarLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URLs hold the token: a working link to the person's calendar.
        f.debug_struct("CalendarLink")
            .field("urls", &self.urls.as_ref().map(|_| "…"))
            .field("reset", &self.reset)
            .finish()
    }
}

/// The line giving the link. The URL sits in angle brackets so Discord shows no preview
/// of it; the webcal twin in code, as Discord links only http(s).
fn link_line(link: &CalendarLink) -> String {
    let Some((https, webcal)) = &link.urls else {
        return "Your old calendar link no longer works.".to_owned();
    };
    let lead = if link.reset {
        "Your old calendar link no longer works. Your new live calendar"
    } else {
        "Your live calendar, which follows every change"
    };
    format!(
        "{lead}: <{https}> (or `{webcal}` to open it in a calendar app). Anyone with the link \
         sees your talks: `/mytalks reset-link:True` replaces it."
    )
}

/// The file name of the calendar `/mytalks` attaches.
pub const MYTALKS_FILENAME: &str = "mytalks.ics";

/// `/mytalks`: the user's talks (in programme order, with time, room and overlaps), then
/// rooms and tracks, paged within Discord's limits; the talks also as an `.ics` file
/// attached to the first message.
///
/// `now` stamps the calendar file (DTSTAMP: when the file was made). `link` is the
/// person's live calendar feed, when the web surface has a public address.
pub fn my_talks(
    programme: &Programme,
    subscriptions: &[SubscriptionTarget],
    lead: LeadTime,
    now: DateTime<Utc>,
    link: Option<&CalendarLink>,
) -> Reply {
    let mut ids = Vec::new();
    let mut rooms = Vec::new();
    let mut tracks = Vec::new();
    for target in subscriptions {
        match target {
            SubscriptionTarget::Talk(id) => ids.push(*id),
            SubscriptionTarget::Room(room) => rooms.push(name(room)),
            SubscriptionTarget::Track(track) => tracks.push(name(track)),
        }
    }
    if subscriptions.is_empty() {
        let mut text = "You have no subscriptions yet: use `/subscribe`, or **Remind me** on a \
                        `/talk` card."
            .to_owned();
        if let Some(link) = link.filter(|link| link.reset) {
            text.push('\n');
            text.push_str(&link_line(link));
        }
        return render::fit(ephemeral(text));
    }
    let indexes: Vec<usize> = (0..programme.talks.len())
        .filter(|&i| programme.talks.get(i).is_some_and(|t| ids.contains(&t.id)))
        .collect();
    let talks: Vec<&StoredTalk> = indexes
        .iter()
        .filter_map(|&i| programme.talks.get(i))
        .collect();
    let gone = ids.len().saturating_sub(talks.len());
    // The calendar carries the stable UIDs and descriptions the snapshot keeps apart.
    let owned: Vec<StoredTalk> = indexes
        .iter()
        .filter_map(|&i| programme.full_talk(i))
        .collect();
    let calendar = owned
        .iter()
        .any(|t| t.data.slot.is_some())
        .then(|| to_ics(&programme.conference, &owned, now).into_bytes());

    let mut pages = Pages::default();
    pages.line(&format!(
        "**Your reminders for {}** come {} each talk (`/remind` changes that).",
        truncate(&escape_markdown(&programme.conference.name), 200),
        lead_phrase(lead)
    ));
    let calendar = match calendar {
        Some(bytes) if bytes.len() <= limits::ATTACHMENT_BYTES => {
            pages.line(&format!(
                "Your talks are attached as `{MYTALKS_FILENAME}` for your calendar (times in UTC)."
            ));
            Some(bytes)
        }
        Some(_) => {
            pages.line("Your talks are too many for a calendar file.");
            None
        }
        None => None,
    };
    if let Some(link) = link {
        pages.line(&link_line(link));
    }
    let mut lines = Vec::new();
    if !talks.is_empty() {
        lines.push("**Talks**".to_owned());
    }
    for talk in &talks {
        let mut line = format!("• {} · {}", headline(talk), when_and_where(talk));
        let overlapping = overlaps(programme, talk, &ids);
        if !overlapping.is_empty() {
            line.push_str(&format!(" · overlaps with {}", overlap_list(&overlapping)));
        }
        lines.push(line);
    }
    if gone > 0 {
        lines.push(format!(
            "{gone} of your talks are no longer in the programme."
        ));
    }
    if !rooms.is_empty() {
        lines.push(format!("**Every talk in:** {}", rooms.join(", ")));
    }
    if !tracks.is_empty() {
        lines.push(format!(
            "**Every talk of the tracks:** {}",
            tracks.join(", ")
        ));
    }
    push_lines(
        &mut pages,
        &lines,
        "… and more: `/unsubscribe` what you no longer need.",
    );
    let mut messages = pages.finish();
    if let (Some(bytes), Some(first)) = (calendar, messages.first_mut()) {
        first.attachments.push(Attachment {
            filename: MYTALKS_FILENAME.to_owned(),
            bytes,
        });
    }
    render::fit(Reply {
        visibility: Visibility::Ephemeral,
        messages,
    })
}
