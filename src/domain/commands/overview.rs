//! `/status overview` and `/sync`, pure: the organisers' one-screen view of the bot in
//! their server (conference, schedule source and its last sync, the next reminders and
//! announcements, delivery failures of the last hour), and the answer to a sync.

use chrono::{DateTime, Utc};

use super::render::{ephemeral, fit};
use super::{escape_markdown, truncate, Button, ButtonAction, Reply};
use crate::domain::import::Fingerprint;
use crate::domain::reminders::{PostBody, Target};
use crate::domain::time::{discord_timestamp, TimestampStyle};

/// How many upcoming reminders and announcements the overview lists.
pub const UPCOMING: u32 = 5;
/// Failures are listed from this far back.
pub const FAILURES_SINCE: chrono::Duration = chrono::Duration::hours(1);

/// A schedule source's last sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncView {
    pub url: String,
    pub last_attempt_at: DateTime<Utc>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_result: Option<String>,
    pub last_error: Option<String>,
}

/// A post that is due, or one that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostView {
    pub at: DateTime<Utc>,
    pub target: Target,
    pub body: PostBody,
    /// Why it failed (failures only).
    pub error: Option<String>,
}

/// Everything the overview shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// The conference's name and slug; `None`: the server follows none (yet).
    pub conference: Option<(String, String)>,
    /// The server's source URL and refresh interval in minutes (`/setup source`).
    pub source: Option<(String, u32)>,
    pub syncs: Vec<SyncView>,
    pub reminders: Vec<PostView>,
    pub announcements: Vec<PostView>,
    pub failures: Vec<PostView>,
    /// Discord Events, when the server has them on.
    pub events: Option<EventsView>,
}

/// The state of a server's Discord Events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventsView {
    /// confbot's events scheduled or under way.
    pub live: i64,
    /// Whether the bot has Manage Events; `None`: Discord did not say.
    pub can_manage: Option<bool>,
}

/// The overview as one private reply.
pub fn overview(view: &Overview) -> Reply {
    let Some((name, slug)) = &view.conference else {
        return ephemeral(
            "This server follows no conference yet: `/setup conference` picks one.".to_owned(),
        );
    };
    let mut lines = vec![format!(
        "**{}** (`{}`)",
        truncate(&escape_markdown(name), 150),
        escape_markdown(slug)
    )];
    match &view.source {
        None => lines.push(
            "**Schedule source:** none (imported by hand; `/setup source` syncs it live)"
                .to_owned(),
        ),
        Some((url, minutes)) => lines.push(format!(
            "**Schedule source:** <{}> every {minutes} min",
            truncate(&crate::domain::source_url::shown(url), 300)
        )),
    }
    for sync in &view.syncs {
        lines.push(sync_line(sync));
    }
    section(
        &mut lines,
        "Next reminders",
        &view.reminders,
        "none planned",
    );
    section(
        &mut lines,
        "Next announcements",
        &view.announcements,
        "none scheduled",
    );
    if let Some(events) = view.events {
        lines.push(events_line(events));
    }
    section(
        &mut lines,
        "Delivery failures in the last hour",
        &view.failures,
        "none",
    );
    fit(ephemeral(lines.join("\n")))
}

fn events_line(events: EventsView) -> String {
    let count = match events.live {
        1 => "1 event".to_owned(),
        n => format!("{n} events"),
    };
    match events.can_manage {
        Some(false) => format!(
            "⚠️ **Discord Events:** on, {count} in Discord, but confbot lacks the Manage Events \
             permission: no event is made or changed until it has it (Server Settings → Roles)."
        ),
        _ => format!("**Discord Events:** on, {count} scheduled or under way"),
    }
}

fn sync_line(sync: &SyncView) -> String {
    let tried = discord_timestamp(sync.last_attempt_at, TimestampStyle::Relative);
    match (&sync.last_error, &sync.last_success_at) {
        (Some(error), last_good) => format!(
            "⚠️ Last sync {tried} failed: {}{}",
            truncate(&escape_markdown(error), 300),
            last_good.map_or_else(String::new, |at| format!(
                " (last good {})",
                discord_timestamp(at, TimestampStyle::Relative)
            ))
        ),
        (None, _) => format!(
            "Last sync {tried}: {}",
            escape_markdown(sync.last_result.as_deref().unwrap_or("not finished"))
        ),
    }
}

fn section(lines: &mut Vec<String>, title: &str, posts: &[PostView], empty: &str) {
    if posts.is_empty() {
        lines.push(format!("**{title}:** {empty}"));
        return;
    }
    lines.push(format!("**{title}:**"));
    for post in posts {
        let mut line = format!(
            "• {} {}: {}",
            discord_timestamp(post.at, TimestampStyle::Relative),
            place(post.target),
            what(&post.body)
        );
        if let Some(error) = &post.error {
            line.push_str(&format!(" — {}", truncate(&escape_markdown(error), 200)));
        }
        lines.push(line);
    }
}

fn place(target: Target) -> String {
    match target {
        Target::Channel(id) => format!("<#{id}>"),
        Target::Dm(user) => format!("DM <@{user}>"),
        Target::Guild(_) => "this server's events".to_owned(),
    }
}

/// A short description of what a post says; the texts were escaped when planned.
fn what(body: &PostBody) -> String {
    match body {
        PostBody::Reminder(reminder) => {
            format!("⏰ {}", truncate(&escape_markdown(&reminder.title), 100))
        }
        PostBody::Notice { content }
        | PostBody::Announcement { content, .. }
        | PostBody::Board { content, .. }
        | PostBody::ThreadOpen { card: content, .. } => {
            let first = content.lines().next().unwrap_or_default();
            truncate(first, 100)
        }
        PostBody::ThreadClose { .. } => "(the talk's thread is archived)".to_owned(),
        PostBody::QuestionCard => "(a question's card)".to_owned(),
        PostBody::Event {
            spec: Some(spec), ..
        } => {
            format!("📅 {}", truncate(&escape_markdown(&spec.name), 100))
        }
        PostBody::Event { spec: None, .. } => "(a talk's event is cancelled)".to_owned(),
    }
}

/// The answer to `/sync`: what the sync did, or why it could not run.
pub fn synced(result: Result<&str, &str>) -> Reply {
    ephemeral(match result {
        Ok("unchanged") => "Synced: the schedule source has not changed.".to_owned(),
        Ok(summary) => format!(
            "Synced: {}. The organiser log has the details; subscribers hear of moves and \
             cancellations.",
            escape_markdown(summary)
        ),
        Err(error) => format!(
            "The sync failed: {}. The last good schedule stays in use.",
            truncate(&escape_markdown(error), 1500)
        ),
    })
}

/// `/sync` refused the source as a mass change: what it would do, and the buttons to apply
/// exactly this source or keep the programme. Nothing is notified unless it is applied.
pub fn mass_change_preview(error: &str, source: Fingerprint) -> Reply {
    let mut reply = ephemeral(format!(
        "The sync was not applied: {}.\n\nIf this really is the schedule of this conference \
         (a new export, a renamed event), apply it: subscribers then hear of every \
         cancellation and move. Otherwise keep the programme as it is and check the source \
         with `/setup source`.",
        truncate(&escape_markdown(error), 1500)
    ));
    if let Some(message) = reply.messages.first_mut() {
        message.buttons = vec![
            Button {
                label: "Apply this schedule".to_owned(),
                action: ButtonAction::ApplySchedule(source),
            },
            Button {
                label: "Keep the programme".to_owned(),
                action: ButtonAction::KeepProgramme,
            },
        ];
    }
    reply
}

/// The answer to Apply under a mass-change preview.
pub fn applied(result: Result<&str, &str>) -> Reply {
    match result {
        Ok("unchanged") => ephemeral("This schedule is already the one in use.".to_owned()),
        Ok(summary) => ephemeral(format!(
            "Applied: {}. The organiser log has the details; subscribers hear of moves and \
             cancellations.",
            escape_markdown(summary)
        )),
        Err(error) => ephemeral(format!(
            "Not applied: {}. The last good schedule stays in use.",
            truncate(&escape_markdown(error), 1500)
        )),
    }
}

/// The answer to Keep under a mass-change preview.
pub fn kept() -> Reply {
    ephemeral("Nothing was changed: the programme stays as it is.".to_owned())
}

/// `/sync` in a server without a source.
pub fn no_source() -> Reply {
    ephemeral(
        "This server has no schedule source to sync: set one with `/setup source url: refresh:`."
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reminders::ReminderBody;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_overview_shows_the_source_the_last_sync_what_is_next_and_what_failed() {
        let reminder = PostBody::Reminder(ReminderBody {
            title: "Keynote @everyone".to_owned(),
            speakers: vec![],
            room: Some("Barn".to_owned()),
            start: at("2026-06-01T09:00:00Z"),
            url: None,
        });
        let view = Overview {
            conference: Some(("Py Conf".to_owned(), "pyconf".to_owned())),
            source: Some(("https://example.org/s.ics".to_owned(), 15)),
            syncs: vec![SyncView {
                url: "https://example.org/s.ics".to_owned(),
                last_attempt_at: at("2026-06-01T08:40:00Z"),
                last_success_at: Some(at("2026-06-01T08:25:00Z")),
                last_result: Some("1 moved".to_owned()),
                last_error: Some("HTTP 502".to_owned()),
            }],
            reminders: vec![PostView {
                at: at("2026-06-01T08:50:00Z"),
                target: Target::Channel(5),
                body: reminder.clone(),
                error: None,
            }],
            announcements: vec![],
            failures: vec![PostView {
                at: at("2026-06-01T08:30:00Z"),
                target: Target::Dm(9),
                body: reminder,
                error: Some("the user does not accept direct messages (50007)".to_owned()),
            }],
            events: Some(EventsView {
                live: 3,
                can_manage: Some(false),
            }),
        };

        let text = &overview(&view).messages[0].content;

        assert_eq!(
            text,
            "**Py Conf** (`pyconf`)\n\
             **Schedule source:** <https://example.org/s.ics> every 15 min\n\
             ⚠️ Last sync <t:1780303200:R> failed: HTTP 502 (last good <t:1780302300:R>)\n\
             **Next reminders:**\n\
             • <t:1780303800:R> <#5>: ⏰ Keynote @\u{200b}everyone\n\
             **Next announcements:** none scheduled\n\
             ⚠️ **Discord Events:** on, 3 events in Discord, but confbot lacks the Manage Events \
             permission: no event is made or changed until it has it (Server Settings → Roles).\n\
             **Delivery failures in the last hour:**\n\
             • <t:1780302600:R> DM <@9>: ⏰ Keynote @\u{200b}everyone — the user does not accept direct messages \\(50007\\)"
        );
    }

    #[test]
    fn a_server_without_a_conference_is_told_how_to_pick_one() {
        let view = Overview {
            conference: None,
            source: None,
            syncs: vec![],
            reminders: vec![],
            announcements: vec![],
            failures: vec![],
            events: None,
        };

        assert!(overview(&view).messages[0]
            .content
            .contains("/setup conference"));
        assert_eq!(
            synced(Ok("unchanged")).messages[0].content,
            "Synced: the schedule source has not changed."
        );
        assert!(synced(Err("HTTP 404")).messages[0]
            .content
            .contains("The last good schedule stays in use"));
    }
}
