//! People's data: what `/forget` removes and when a finished conference's personal data is
//! deleted. Pure: the store counts and deletes, this decides what and when.
//!
//! Personal data here means what is tied to a Discord user id: subscriptions, a chosen lead
//! time, the direct messages confbot sent or will send (the outbox rows addressed to a
//! user), and an organiser's id on audit entries and announcements. The programme itself
//! (talks, speakers' names and biographies) is public material published by the conference.

use std::ops::RangeInclusive;

use chrono::{DateTime, Duration, Utc};

/// Days after a conference's last talk ends until its personal data is deleted, unless a
/// server following it chose otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// The retention an organiser may choose: long enough to answer late questions about a
/// reminder, never longer than a year.
pub const RETENTION_DAYS: RangeInclusive<u32> = RETENTION_MIN..=RETENTION_MAX;
pub const RETENTION_MIN: u32 = 1;
pub const RETENTION_MAX: u32 = 365;

/// A retention period chosen with `/setup retention`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetentionDays(u32);

impl RetentionDays {
    pub fn new(days: u32) -> Option<RetentionDays> {
        RETENTION_DAYS
            .contains(&days)
            .then_some(RetentionDays(days))
    }

    pub fn days(self) -> u32 {
        self.0
    }
}

impl Default for RetentionDays {
    fn default() -> Self {
        RetentionDays(DEFAULT_RETENTION_DAYS)
    }
}

/// Whose data `/forget` removes, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgetScope {
    /// Asked in a server: what the user did there (subscriptions made there, their lead
    /// time for the server's conference, their id on the server's audit entries).
    Server {
        guild: u64,
        /// The conference the server follows, if any.
        conference: Option<i64>,
    },
    /// Asked in a direct message: everything, in every server and conference.
    Everywhere,
}

/// What confbot holds about one person within a scope, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holdings {
    pub subscriptions: u64,
    pub lead_times: u64,
    /// Reminders and notices sent to them, or still to send, by direct message.
    pub direct_messages: u64,
    /// Audit entries and announcements that name them as the organiser who acted.
    pub organiser_records: u64,
    /// Questions they asked (taken out of the threads) and votes they gave.
    pub questions: u64,
    /// Private calendar links (`/mytalks`): the link stops working.
    pub calendar_links: u64,
}

impl Holdings {
    pub fn is_empty(&self) -> bool {
        *self == Holdings::default()
    }
}

/// The finished conference whose personal data is due for deletion at `now`: its last talk
/// ended at `last_end`, and the shortest retention among the servers following it (or the
/// default) has passed since.
pub fn retention_expired(
    last_end: DateTime<Utc>,
    retention: Option<RetentionDays>,
    now: DateTime<Utc>,
) -> bool {
    let days = retention.unwrap_or_default().days();
    last_end
        .checked_add_signed(Duration::days(i64::from(days)))
        .is_some_and(|deadline| deadline <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn personal_data_is_kept_until_the_retention_after_the_last_talk_has_passed() {
        let last_end = Utc.with_ymd_and_hms(2026, 4, 26, 18, 0, 0).unwrap();
        let day_29 = last_end + Duration::days(29);
        let day_30 = last_end + Duration::days(30);

        assert!(!retention_expired(last_end, None, day_29));
        assert!(retention_expired(last_end, None, day_30));
        assert!(!retention_expired(last_end, RetentionDays::new(60), day_30));
        assert!(retention_expired(last_end, RetentionDays::new(7), day_29));
    }

    #[test]
    fn a_retention_outside_a_day_to_a_year_is_refused() {
        assert_eq!(RetentionDays::new(0), None);
        assert_eq!(RetentionDays::new(366), None);
        assert_eq!(RetentionDays::new(1).map(RetentionDays::days), Some(1));
        assert_eq!(RetentionDays::default().days(), 30);
    }

    #[test]
    fn a_year_far_in_the_future_never_overflows() {
        let last_end = DateTime::<Utc>::MAX_UTC;

        assert!(!retention_expired(last_end, None, last_end));
    }
}
