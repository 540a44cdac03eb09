//! How long before a talk a reminder goes out: a typed value, parsed once at the edge.

use std::fmt;
use std::str::FromStr;

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// A reminder lead time: whole minutes from 0 (at the start) to [`LeadTime::MAX_MINUTES`].
///
/// Only [`LeadTime::from_minutes`] and [`FromStr`] make one, so a value in hand is always in
/// range (a two-hour cap keeps reminders meaningful and bounds how far ahead the outbox plans).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct LeadTime(u8);

/// Why a lead time was refused. The message is safe to show to the user who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeadTimeError {
    #[error("a reminder lead time is 0 to 120 minutes, not {0}")]
    OutOfRange(i64),
    #[error("a reminder lead time is a whole number of minutes from 0 to 120, not {0:?}")]
    NotANumber(String),
}

impl LeadTime {
    /// The longest lead time, in minutes.
    pub const MAX_MINUTES: u8 = 120;

    /// A lead time of `minutes`, refused outside 0..=120.
    pub fn from_minutes(minutes: i64) -> Result<Self, LeadTimeError> {
        u8::try_from(minutes)
            .ok()
            .filter(|m| *m <= Self::MAX_MINUTES)
            .map(Self)
            .ok_or(LeadTimeError::OutOfRange(minutes))
    }

    /// The lead time in minutes.
    pub fn minutes(self) -> u8 {
        self.0
    }

    /// The lead time as a duration, to subtract from a talk's start.
    pub fn duration(self) -> Duration {
        Duration::minutes(i64::from(self.0))
    }
}

impl FromStr for LeadTime {
    type Err = LeadTimeError;

    /// Parses "10" or "10 min"/"10 minutes" (surrounding space ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let digits = trimmed
            .strip_suffix("minutes")
            .or_else(|| trimmed.strip_suffix("min"))
            .unwrap_or(trimmed)
            .trim();
        match digits.parse::<i64>() {
            Ok(minutes) => Self::from_minutes(minutes),
            Err(_) => Err(LeadTimeError::NotANumber(
                trimmed.chars().take(40).collect(),
            )),
        }
    }
}

impl TryFrom<i64> for LeadTime {
    type Error = LeadTimeError;
    fn try_from(minutes: i64) -> Result<Self, Self::Error> {
        Self::from_minutes(minutes)
    }
}

impl From<LeadTime> for i64 {
    fn from(lead: LeadTime) -> Self {
        i64::from(lead.0)
    }
}

impl fmt::Display for LeadTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} min", self.0)
    }
}
