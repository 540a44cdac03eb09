//! Schedule updates in public: what a server's updates channel (`/setup updates`) is told
//! about each applied import. Pure: the imports' diffs, the channels and `now` in, outbox
//! posts out; the planner queues them in the transaction that marks the imports planned, so
//! each import is posted once per channel.
//!
//! Rules:
//! - Only what changes where attendees have to be: a talk on the timetable cancelled, moved
//!   (its start or room), added, or back after a cancellation. Changes of abstracts, titles,
//!   speakers or end times alone are not posted (`/talk` and reminders show the current
//!   facts).
//! - A conference's first timetable publishes the programme: it is not an update, and
//!   nothing is posted for it.
//! - Nothing about talks that are over by `now`.
//! - A cancelled talk is posted once and then stays out of every later post until the
//!   source restores it ("Back on the schedule"): a talk cancelled before and after an
//!   import is not posted whatever else of it changed.
//! - One update per import and channel, within Discord's limits: at most [`MAX_PARTS`]
//!   messages, and what does not fit is counted on the last line.

use chrono::{DateTime, Duration, Utc};

use crate::domain::commands::Pages;
use crate::domain::diff::{DiffEntry, Field, ImportDiff, Placement};
use crate::domain::model::TalkStatus;
use crate::domain::reminders::{
    added, back_on, cancelled, moved, PlannedPost, PostBody, PostKey, PostKind, Subject, Target,
};

/// The most messages one import's update takes in one channel.
pub const MAX_PARTS: usize = 5;

/// Parts of an update, and the updates of imports planned together, fall due this far apart:
/// delivery sends due posts concurrently, and a reader must see them in order.
pub const PART_SPACING: Duration = Duration::seconds(2);

const HEADER: &str = "📅 **Schedule update**";

/// What happened to a talk, in the order an update lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    Cancelled,
    Moved,
    Back,
    New,
}

/// One line of an update, with what orders it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Line {
    change: Change,
    at: Option<DateTime<Utc>>,
    text: String,
}

/// The update posts of imports applied one after the other (oldest first), to every channel
/// in `channels`, the first due at `now`.
pub fn schedule_updates(
    imports: &[(i64, &ImportDiff)],
    channels: &[u64],
    now: DateTime<Utc>,
) -> Vec<PlannedPost> {
    let mut posts = Vec::new();
    if channels.is_empty() {
        return posts;
    }
    let mut due = now;
    for (import, diff) in imports {
        for (part, content) in messages(diff, now).into_iter().enumerate() {
            let Ok(version) = i32::try_from(part) else {
                break;
            };
            for channel in channels {
                posts.push(PlannedPost {
                    key: PostKey {
                        target: Target::Channel(*channel),
                        subject: Subject::Import(*import),
                        kind: PostKind::ScheduleUpdate,
                        schedule_version: version,
                    },
                    due,
                    // Late is still true: a later import's update is due later, so readers
                    // see the latest state last.
                    expires: None,
                    body: PostBody::Notice {
                        content: content.clone(),
                    },
                });
            }
            due += PART_SPACING;
        }
    }
    posts
}

/// The messages of one import's update: none when nothing attendees care about changed.
pub fn messages(diff: &ImportDiff, now: DateTime<Utc>) -> Vec<String> {
    if diff.scheduled_before == 0 {
        return Vec::new();
    }
    let mut lines: Vec<Line> = diff
        .added
        .iter()
        .chain(&diff.changed)
        .chain(&diff.cancelled)
        .filter_map(|entry| line(entry, now))
        .collect();
    if lines.is_empty() {
        return Vec::new();
    }
    lines.sort();
    let mut pages = Pages::default();
    pages.line(HEADER);
    let total = lines.len();
    for (i, line) in lines.iter().enumerate() {
        // Room for the count of the lines after this one, should the next not fit.
        let left_after = total - i - 1;
        let reserve = match left_after {
            0 => 0,
            n => more(n).chars().count(),
        };
        if !pages.fits(&line.text, MAX_PARTS, reserve) {
            pages.line(&more(total - i));
            break;
        }
        pages.line(&line.text);
    }
    pages.texts()
}

/// The last line when `n` changes do not fit.
fn more(n: usize) -> String {
    format!("…and {n} more: `/schedule` shows the current programme.")
}

/// The line one talk's entry calls for, if attendees care.
fn line(entry: &DiffEntry, now: DateTime<Utc>) -> Option<Line> {
    let on = |p: &Placement| p.status == TalkStatus::Confirmed && p.start.is_some();
    let after = &entry.after;
    let before = entry.before.as_deref();
    let was_on = before.is_some_and(on);
    let was_cancelled = before.is_some_and(|b| b.status == TalkStatus::Cancelled);
    let (change, shown) = match (was_on, on(after)) {
        (true, false) => (Change::Cancelled, before?),
        (false, true) if was_cancelled => (Change::Back, after),
        (false, true) => (Change::New, after),
        (true, true)
            if entry.fields.contains(&Field::Start) || entry.fields.contains(&Field::Room) =>
        {
            (Change::Moved, after)
        }
        _ => return None,
    };
    if shown.end.or(shown.start).is_some_and(|over| over < now) {
        return None;
    }
    let title = entry.title.as_str();
    let text = match change {
        Change::Cancelled => cancelled(title, before),
        Change::Moved => moved(title, before?, after),
        Change::Back => back_on(title, after),
        Change::New => added(title, after),
    };
    Some(Line {
        change,
        at: shown.start,
        text,
    })
}

#[cfg(test)]
mod tests;
