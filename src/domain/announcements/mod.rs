//! Organiser announcements, pure: when they go out (a one-off instant, or a cron schedule
//! evaluated in the conference's zone, correct across DST), whom they may ping, and the
//! outbox posts they call for. The store keeps them; the planner puts their posts in the
//! same outbox as reminders, so they are delivered exactly once and survive restarts.

mod when;

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde::{Deserialize, Serialize};

use crate::domain::commands::limits;
use crate::domain::reminders::{PlannedPost, PostBody, PostKey, PostKind, Subject, Target};

pub use when::{parse_when, WhenError};

/// An announcement's id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AnnouncementId(pub i64);

/// Whom an announcement may ping. Nothing is pinged unless chosen explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(tag = "ping", content = "role", rename_all = "snake_case")]
pub enum Ping {
    #[default]
    None,
    /// This role only.
    Role(u64),
    /// `@everyone`.
    Everyone,
}

/// A repeat schedule: a cron expression (5 fields, minute first; or 6 with seconds),
/// evaluated in the conference's zone. `daily 09:00` is read as `0 9 * * *`.
#[derive(Debug, Clone)]
pub struct Repeat {
    expression: String,
    cron: Cron,
}

impl PartialEq for Repeat {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression
    }
}

impl Eq for Repeat {}

/// Why a repeat schedule was refused; safe to show to the organiser who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RepeatError(String);

impl Repeat {
    /// The stored form (a cron expression).
    pub fn expression(&self) -> &str {
        &self.expression
    }
}

impl FromStr for Repeat {
    type Err = RepeatError;

    /// `daily HH:MM` (also `daily at HH:MM`) or a cron expression such as `30 8 * * 1-5`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let shown: String = text.chars().take(60).collect();
        let lower = text.to_ascii_lowercase();
        let expression = match lower.strip_prefix("daily") {
            Some(rest) => {
                let time = rest.trim().trim_start_matches("at").trim();
                let (hour, minute) = when::parse_clock(time).ok_or_else(|| {
                    RepeatError(format!(
                        "{shown:?} is not a daily time: write e.g. \"daily 09:00\""
                    ))
                })?;
                format!("{minute} {hour} * * *")
            }
            None => text.to_owned(),
        };
        let fields = expression.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(RepeatError(format!(
                "{shown:?} is neither \"daily HH:MM\" nor a cron expression of 5 fields \
                 (minute hour day-of-month month day-of-week)"
            )));
        }
        let cron = Cron::from_str(&expression)
            .map_err(|e| RepeatError(format!("{shown:?} is not a valid cron expression: {e}")))?;
        Ok(Self { expression, cron })
    }
}

/// An announcement as planning needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub id: AnnouncementId,
    pub channel: u64,
    /// The organiser's text (their markdown is kept).
    pub text: String,
    pub ping: Ping,
    /// The first (or only) time it goes out.
    pub first: DateTime<Utc>,
    /// Later occurrences: every match of the cron at or after `first`, in `zone`.
    pub repeat: Option<Repeat>,
    pub zone: Tz,
}

/// How late an announcement may still go out after downtime; later it is dropped.
pub const STALE_AFTER: Duration = Duration::hours(1);
/// At most this many occurrences of one announcement are planned at a time.
pub const MAX_PLANNED: usize = 20;
/// Occurrences are planned this far ahead; the planner's sweep keeps the window filled.
pub const HORIZON: Duration = Duration::days(2);
/// A safety bound on the cron iteration from `first` (an every-minute schedule running
/// for two months is under 100,000 steps).
const MAX_STEPS: usize = 200_000;

impl Announcement {
    /// The occurrences due in `[from, until)`, each with its index counted from `first`
    /// (the index is part of the outbox key, so each occurrence is sent once), at most
    /// [`MAX_PLANNED`].
    pub fn occurrences(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<(i32, DateTime<Utc>)> {
        let Some(repeat) = &self.repeat else {
            return if self.first >= from && self.first < until {
                vec![(0, self.first)]
            } else {
                Vec::new()
            };
        };
        let mut found = Vec::new();
        let mut at = self.first.with_timezone(&self.zone);
        let mut inclusive = true;
        for index in 0..MAX_STEPS {
            let Ok(next) = repeat.cron.find_next_occurrence(&at, inclusive) else {
                break;
            };
            let utc = next.with_timezone(&Utc);
            if utc >= until {
                break;
            }
            if utc >= from {
                let Ok(index) = i32::try_from(index) else {
                    break;
                };
                found.push((index, utc));
                if found.len() == MAX_PLANNED {
                    break;
                }
            }
            at = next;
            inclusive = false;
        }
        found
    }

    /// The next occurrence at or after `now`, if any (for listings and previews).
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let until = now.checked_add_signed(Duration::days(400))?;
        self.occurrences(now, until).first().map(|(_, at)| *at)
    }

    /// The posts of the occurrences planned at `now`: those due from [`STALE_AFTER`] ago
    /// (still worth sending after a short downtime) to [`HORIZON`] ahead.
    pub fn posts(&self, now: DateTime<Utc>) -> Vec<PlannedPost> {
        let from = now - STALE_AFTER;
        let until = now + HORIZON;
        self.occurrences(from, until)
            .into_iter()
            .map(|(index, due)| PlannedPost {
                key: PostKey {
                    target: Target::Channel(self.channel),
                    subject: Subject::Announcement(self.id),
                    kind: PostKind::Announcement,
                    schedule_version: index,
                },
                due,
                expires: Some(due + STALE_AFTER),
                body: PostBody::Announcement {
                    content: content(&self.text, self.ping),
                    ping: self.ping,
                },
            })
            .collect()
    }
}

/// The message text: the ping first (when one was chosen), then the organiser's text, within
/// Discord's limit.
pub fn content(text: &str, ping: Ping) -> String {
    let prefix = match ping {
        Ping::None => String::new(),
        Ping::Role(role) => format!("<@&{role}> "),
        Ping::Everyone => "@everyone ".to_owned(),
    };
    crate::domain::commands::truncate(&format!("{prefix}{text}"), limits::CONTENT)
}

/// The longest announcement text: the message limit less room for a ping.
pub const MAX_TEXT: usize = limits::CONTENT - 30;

#[cfg(test)]
mod tests;
