//! The announcement views: the preview under the modal (and of an edit) and the
//! `/announcements` list, each within Discord's limits.

use chrono::{DateTime, Duration, Utc};

use super::super::render::{ephemeral, field, fit, full, relative, Pages, MAX_MESSAGES};
use super::super::{
    escape_markdown, truncate, Button, ButtonAction, Embed, Message, Reply, Visibility,
};
use super::REPEAT_LOOKAHEAD;
use crate::domain::announcements::{
    content, Announcement, AnnouncementId, Ping, Repeat, STALE_AFTER,
};

/// How many coming occurrences a preview of a repeating announcement shows.
const PREVIEW_OCCURRENCES: usize = 3;

/// Whether `announcement` still has an occurrence worth posting at `now`: one in the
/// future, or one due within the last [`STALE_AFTER`] (the delivery loop still sends it).
pub fn has_future(announcement: &Announcement, now: DateTime<Utc>) -> bool {
    announcement
        .next_after(now - STALE_AFTER + Duration::seconds(1))
        .is_some()
}

/// The next occurrence as shown: "at or after now", and a one-off due a moment ago (it is
/// sent at once) shows its own time.
pub(super) fn next(announcement: &Announcement, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    announcement
        .next_after(now)
        .or_else(|| has_future(announcement, now).then_some(announcement.first))
}

fn ping_label(ping: Ping) -> String {
    match ping {
        Ping::None => "nobody".to_owned(),
        Ping::Role(role) => format!("<@&{role}>"),
        Ping::Everyone => "@everyone".to_owned(),
    }
}

fn repeat_label(repeat: Option<&Repeat>) -> String {
    match repeat {
        None => "once".to_owned(),
        Some(repeat) => format!(
            "`{}` (cron, in the conference's zone)",
            repeat.expression().replace('`', "'")
        ),
    }
}

fn when_label(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "never (its time has passed)".to_owned(),
        |at| format!("{} ({})", full(at), relative(at)),
    )
}

/// The preview after the modal: the text exactly as it will be posted (the message
/// content; previews ping nobody), then where, when and whom, with Confirm / Cancel.
pub fn preview(announcement: &Announcement, now: DateTime<Utc>) -> Reply {
    let id = announcement.id;
    preview_with(
        announcement,
        now,
        format!("Preview of announcement #{}", id.0),
        "Above: the text exactly as it will be posted. Nothing is posted until you confirm.",
        vec![
            button("Confirm", ButtonAction::ConfirmAnnouncement(id)),
            button("Cancel", ButtonAction::CancelAnnouncement(id)),
        ],
    )
}

/// The preview of an edit: the new text of `announcement` (kept in the draft `draft`
/// until confirmed), with Confirm (the new text replaces the old at once) / Cancel.
pub fn edit_preview(
    announcement: &Announcement,
    draft: AnnouncementId,
    now: DateTime<Utc>,
) -> Reply {
    let id = announcement.id;
    preview_with(
        announcement,
        now,
        format!("New text for announcement #{}", id.0),
        "Above: the new text exactly as it will be posted. The announcement keeps its old text \
         until you confirm; then every post still to come uses the new one.",
        vec![
            button(
                "Confirm",
                ButtonAction::ConfirmEdit {
                    announcement: id,
                    draft,
                },
            ),
            button(
                "Cancel",
                ButtonAction::DiscardEdit {
                    announcement: id,
                    draft,
                },
            ),
        ],
    )
}

fn preview_with(
    announcement: &Announcement,
    now: DateTime<Utc>,
    title: String,
    description: &str,
    buttons: Vec<Button>,
) -> Reply {
    let mut fields = vec![
        field("Channel", &format!("<#{}>", announcement.channel), true),
        field("Pings", &ping_label(announcement.ping), true),
        field("First post", &when_label(next(announcement, now)), false),
        field(
            "Repeats",
            &repeat_label(announcement.repeat.as_ref()),
            false,
        ),
    ];
    if announcement.repeat.is_some() {
        let coming: Vec<String> = announcement
            .occurrences(now, now + REPEAT_LOOKAHEAD)
            .into_iter()
            .take(PREVIEW_OCCURRENCES)
            .map(|(_, at)| full(at))
            .collect();
        fields.push(field("Next posts", &coming.join("\n"), false));
    }
    fit(Reply {
        visibility: Visibility::Ephemeral,
        messages: vec![Message {
            content: content(&announcement.text, announcement.ping),
            embeds: vec![Embed {
                title,
                description: description.to_owned(),
                fields,
                ..Embed::default()
            }],
            buttons,
            ..Message::default()
        }],
    })
}

fn button(label: &str, action: ButtonAction) -> Button {
    Button {
        label: label.to_owned(),
        action,
    }
}

/// `/announcements`: the server's scheduled announcements with something still to post,
/// soonest first, paged within Discord's limits.
pub fn list(announcements: &[Announcement], now: DateTime<Utc>) -> Reply {
    let mut coming: Vec<(DateTime<Utc>, &Announcement)> = announcements
        .iter()
        .filter_map(|a| next(a, now).map(|at| (at, a)))
        .collect();
    coming.sort_by_key(|(at, a)| (*at, a.id));
    if coming.is_empty() {
        return ephemeral(
            "No announcements are scheduled in this server. Make one with `/announce`.".to_owned(),
        );
    }
    let mut pages = Pages::default();
    pages.line(&format!("**Scheduled announcements** ({})", coming.len()));
    for (shown, (at, a)) in coming.iter().enumerate() {
        let first_line = a.text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let line = format!(
            "**#{}** in <#{}> · next {} ({}) · repeats {} · pings {}\n> {}",
            a.id.0,
            a.channel,
            full(*at),
            relative(*at),
            a.repeat
                .as_ref()
                .map_or_else(|| "never".to_owned(), |r| format!("`{}`", r.expression())),
            ping_label(a.ping),
            truncate(&escape_markdown(first_line.trim()), 80),
        );
        let rest = coming.len() - shown;
        if !pages.fits(&line, MAX_MESSAGES, 40) {
            pages.line(&format!("…and {rest} more."));
            break;
        }
        pages.line(&line);
    }
    fit(Reply {
        visibility: Visibility::Ephemeral,
        messages: pages.finish(),
    })
}
