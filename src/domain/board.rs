//! The live "now / next" board (`/setup board`): what each board message says at any
//! instant, and the outbox posts that keep it so. Pure: the programme, the panels and `now`
//! in, posts out; the planner queues them and delivery edits the panel's message.
//!
//! - A board is a channel with a message per room that has talks (layout `rooms`) or one
//!   message for every room (`single`): each message is a *panel*.
//! - A panel changes only at its talk boundaries (a start or an end in its rooms). The plan
//!   holds one post per boundary from the current period up to [`HORIZON`] ahead, due at the
//!   boundary, expiring at the next one (after downtime only the current state is shown).
//! - A post's key carries a digest of its period and text (for the current period, of what
//!   the message shows now too): a schedule change that alters what a period shows is a new
//!   post (shown at once), a text already shown is not posted again, and a change undone
//!   is shown again. The planner retires pending posts the plan no longer holds.
//! - Only talks that take place count (cancelled talks, breaks and all-day entries do not);
//!   texts are escaped and within Discord's limits.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::domain::commands::{escape_markdown, limits, truncate, Pages};
use crate::domain::model::StoredTalk;
use crate::domain::programme::Programme;
use crate::domain::reminders::{PlannedPost, PostBody, PostKey, PostKind, Subject, Target};
use crate::domain::time::{discord_timestamp, TimestampStyle};

/// How far ahead a panel's boundaries are planned; the minute sweep moves the window on.
pub const HORIZON: Duration = Duration::hours(3);

/// How a board shows the rooms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BoardLayout {
    /// A message per room.
    #[default]
    Rooms,
    /// One message for every room.
    Single,
}

impl BoardLayout {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rooms => "rooms",
            Self::Single => "single",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Rooms, Self::Single]
            .into_iter()
            .find(|layout| layout.as_str() == value)
    }
}

/// A server's board: where, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    pub channel: u64,
    pub layout: BoardLayout,
}

/// One message a board needs: its channel and room (`None`: every room).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PanelSpec {
    pub channel: u64,
    pub room: Option<String>,
}

/// A stored panel: its spec, the store's id for it, and what its message shows now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    pub id: i64,
    pub spec: PanelSpec,
    pub shown: Option<Shown>,
}

/// The post a panel's message shows: its key's version and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub version: i32,
    pub content: String,
}

/// The panels `boards` need with this programme: for layout `rooms`, one per room with a
/// talk that takes place, in the programme's room order; for `single`, one.
pub fn panels(programme: &Programme, boards: &[Board]) -> Vec<PanelSpec> {
    let rooms: Vec<&String> = programme
        .rooms()
        .iter()
        .filter(|room| {
            attendable_in(programme, Some(room.as_str()))
                .next()
                .is_some()
        })
        .collect();
    let mut specs = Vec::new();
    for board in boards {
        match board.layout {
            BoardLayout::Single => specs.push(PanelSpec {
                channel: board.channel,
                room: None,
            }),
            BoardLayout::Rooms => specs.extend(rooms.iter().map(|room| PanelSpec {
                channel: board.channel,
                room: Some((*room).clone()),
            })),
        }
    }
    specs.dedup();
    specs
}

/// The posts that keep `panels` current from `now` to [`HORIZON`] ahead.
pub fn board_posts(
    programme: &Programme,
    panels: &[Panel],
    now: DateTime<Utc>,
) -> Vec<PlannedPost> {
    posts_until(programme, panels, now, now + HORIZON)
}

/// The edits of `panels` due in `window` (`confbot simulate`).
pub fn board_edits(
    programme: &Programme,
    panels: &[Panel],
    window: std::ops::Range<DateTime<Utc>>,
) -> Vec<PlannedPost> {
    let mut posts = posts_until(programme, panels, window.start, window.end);
    posts.retain(|post| window.contains(&post.due));
    posts
}

/// The posts of the period `now` is in and of every boundary after it up to `horizon`.
fn posts_until(
    programme: &Programme,
    panels: &[Panel],
    now: DateTime<Utc>,
    horizon: DateTime<Utc>,
) -> Vec<PlannedPost> {
    let mut posts = Vec::new();
    for panel in panels {
        let room = panel.spec.room.as_deref();
        let boundaries = boundaries(programme, room);
        // The period `now` is in starts at the last boundary not after it (before the first
        // one, at the epoch: a stable start, so the key does not move with `now`).
        let current = boundaries
            .iter()
            .rev()
            .find(|b| **b <= now)
            .copied()
            .unwrap_or(DateTime::UNIX_EPOCH);
        let mut periods: Vec<(DateTime<Utc>, String)> = Vec::new();
        for start in std::iter::once(current).chain(
            boundaries
                .iter()
                .copied()
                .filter(|b| *b > now && *b <= horizon),
        ) {
            let text = render(programme, room, start);
            // The same text as the period before needs no edit.
            if periods.last().map(|(_, last)| last) != Some(&text) {
                periods.push((start, text));
            }
        }
        for (i, (start, text)) in periods.iter().enumerate() {
            // The current period's key names what the message shows now: the same text is
            // that post (nothing to do), another one a new post even if it was shown before
            // (a change undone within one period is shown again).
            let version = match (&panel.shown, i) {
                (Some(shown), 0) if shown.content == *text => shown.version,
                (Some(shown), 0) => digest(*start, &format!("{}\n{text}", shown.version)),
                _ => digest(*start, text),
            };
            // Valid until the next change of text: the next kept period, else the next
            // boundary beyond the window (the next sweep plans it).
            let expires = periods.get(i + 1).map(|(next, _)| *next).or_else(|| {
                boundaries
                    .iter()
                    .copied()
                    .find(|b| *b > horizon && *b > *start)
            });
            posts.push(PlannedPost {
                key: PostKey {
                    target: Target::Channel(panel.spec.channel),
                    subject: Subject::Panel(panel.id),
                    kind: PostKind::Board,
                    schedule_version: version,
                },
                due: *start,
                expires,
                body: PostBody::Board {
                    panel: panel.id,
                    content: text.clone(),
                },
            });
        }
    }
    posts
}

/// What the panel of `room` (`None`: every room) says from `at` until its next boundary.
pub fn render(programme: &Programme, room: Option<&str>, at: DateTime<Utc>) -> String {
    match room {
        Some(room) => {
            let (now, next) = now_and_next(programme, Some(room), at);
            let text = format!(
                "📍 **{}**\nNow: {}\nNext: {}",
                clip(room, 100),
                now.map_or_else(|| "nothing on".to_owned(), |t| on_now(t, 200, true)),
                next.map_or_else(
                    || "nothing more scheduled".to_owned(),
                    |t| coming(t, 200, true)
                ),
            );
            truncate(&text, limits::CONTENT)
        }
        None => render_all(programme, at),
    }
}

/// One message for every room: a line per room with something on or ahead.
fn render_all(programme: &Programme, at: DateTime<Utc>) -> String {
    let lines: Vec<String> = programme
        .rooms()
        .iter()
        .filter_map(|room| {
            let (now, next) = now_and_next(programme, Some(room), at);
            if now.is_none() && next.is_none() {
                return None;
            }
            let now = now.map_or_else(|| "nothing on".to_owned(), |t| on_now(t, 80, false));
            let next = next.map_or_else(|| "nothing more".to_owned(), |t| coming(t, 80, false));
            Some(format!(
                "**{}** · Now: {now} · Next: {next}",
                clip(room, 60)
            ))
        })
        .collect();
    let mut pages = Pages::default();
    pages.line("📺 **Now and next**");
    if lines.is_empty() {
        pages.line("Nothing more is scheduled.");
    }
    for (i, line) in lines.iter().enumerate() {
        let left_after = lines.len() - i - 1;
        let reserve = match left_after {
            0 => 0,
            n => more_rooms(n).chars().count(),
        };
        if !pages.fits(line, 1, reserve) {
            pages.line(&more_rooms(lines.len() - i));
            break;
        }
        pages.line(line);
    }
    pages.texts().into_iter().next().unwrap_or_default()
}

fn more_rooms(n: usize) -> String {
    format!("…and {n} more rooms: `/now` and `/next` show them.")
}

/// The talk on in `room` at `at` (the latest started, should two overlap) and the next one
/// to start after `at`.
fn now_and_next<'a>(
    programme: &'a Programme,
    room: Option<&str>,
    at: DateTime<Utc>,
) -> (Option<&'a StoredTalk>, Option<&'a StoredTalk>) {
    let mut now: Option<&StoredTalk> = None;
    let mut next: Option<&StoredTalk> = None;
    for talk in attendable_in(programme, room) {
        let Some(slot) = talk.data.slot else {
            continue;
        };
        if slot.start <= at && at < slot.end {
            if now.map_or(true, |n| n.data.slot.is_some_and(|s| s.start <= slot.start)) {
                now = Some(talk);
            }
        } else if slot.start > at && next.is_none() {
            // Talks are in programme order (by start): the first after `at` is next.
            next = Some(talk);
        }
    }
    (now, next)
}

fn attendable_in<'a: 'r, 'r>(
    programme: &'a Programme,
    room: Option<&'r str>,
) -> impl Iterator<Item = &'a StoredTalk> + 'r {
    programme
        .attendable()
        .filter_map(|i| programme.talks.get(i))
        .filter(move |talk| room.map_or(true, |room| talk.data.room.as_deref() == Some(room)))
}

/// Every instant a panel of `room` changes: the starts and ends of its talks, sorted.
fn boundaries(programme: &Programme, room: Option<&str>) -> Vec<DateTime<Utc>> {
    let mut instants: Vec<DateTime<Utc>> = attendable_in(programme, room)
        .filter_map(|talk| talk.data.slot)
        .flat_map(|slot| [slot.start, slot.end])
        .collect();
    instants.sort_unstable();
    instants.dedup();
    instants
}

/// "**Title** — Ann, Bob — ends <t:END:R>" (speakers only when `speakers`).
fn on_now(talk: &StoredTalk, max_title: usize, speakers: bool) -> String {
    let end = talk.data.slot.map(|s| s.end);
    let mut text = headline(talk, max_title, speakers);
    if let Some(end) = end {
        text.push_str(&format!(
            " — ends {}",
            discord_timestamp(end, TimestampStyle::Relative)
        ));
    }
    text
}

/// "**Title** — Carol — <t:START:t> (<t:START:R>)", the time only on a room's panel.
fn coming(talk: &StoredTalk, max_title: usize, full: bool) -> String {
    let mut text = headline(talk, max_title, full);
    if let Some(start) = talk.data.slot.map(|s| s.start) {
        let relative = discord_timestamp(start, TimestampStyle::Relative);
        if full {
            let time = discord_timestamp(start, TimestampStyle::ShortTime);
            text.push_str(&format!(" — {time} ({relative})"));
        } else {
            text.push_str(&format!(" {relative}"));
        }
    }
    text
}

fn headline(talk: &StoredTalk, max_title: usize, speakers: bool) -> String {
    let mut text = format!("**{}**", clip(&talk.data.title, max_title));
    let names: Vec<&str> = talk
        .data
        .speakers
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| !name.trim().is_empty())
        .collect();
    if speakers && !names.is_empty() {
        text.push_str(&format!(" — {}", clip(&names.join(", "), 150)));
    }
    text
}

fn clip(text: &str, max: usize) -> String {
    truncate(&escape_markdown(text), max)
}

/// A stable digest of a period and its text (the outbox key's version): the same on every
/// process and release, unlike `std`'s hasher.
fn digest(start: DateTime<Utc>, text: &str) -> i32 {
    let mut hasher = Sha256::new();
    hasher.update(start.timestamp().to_be_bytes());
    hasher.update(text.as_bytes());
    let bytes = hasher.finalize();
    i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests;
