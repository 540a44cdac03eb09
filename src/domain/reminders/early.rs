//! Sending a fan-out early enough to be on time.
//!
//! Discord lets a bot make about 50 requests a second, so 2,000 DMs due at one instant need
//! 40 s: sent from the due instant on, the last would be 40 s late. Instead, pending posts are
//! taken in due order, each costing `per_request` of the shared rate, and a post may go out
//! as soon as the posts up to it could no longer all leave by their due times if sending
//! started any later. With `k` the post's place in due order (1 for the first pending post),
//! its latest start is `due_k - k * per_request`; once that instant has come, it and every
//! post before it may be sent. So a lone reminder goes at its due instant (less one request's
//! time), a big fan-out starts its own length ahead of its due instant and ends by it, and no
//! post goes out earlier than the posts queued up to it need. Only DMs are moved forward:
//! a channel post stays at its due instant, but counts, since it takes its share of the rate.
//! The text of each post is still rendered when it is sent ("starting in 11 minutes"), and
//! a talk moved or cancelled meanwhile retires the posts not yet sent as before.
//!
//! The store computes the same rule in SQL over the outbox (`store::outbox::send_early`);
//! this is its reference.

use chrono::{DateTime, Duration, Utc};

/// When pending DMs may go out, at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EarlyStart {
    /// DMs due up to this instant may be sent now (`None`: only what is due).
    pub send_until: Option<DateTime<Utc>>,
    /// The next instant a post not yet sendable becomes so, for the loop to wake then.
    pub next: Option<DateTime<Utc>>,
}

/// The rule over the due instants of the pending posts, in due order, at `now`.
pub fn early_start(
    dues: &[DateTime<Utc>],
    now: DateTime<Utc>,
    per_request: Duration,
) -> EarlyStart {
    let latest_start = |k: usize, due: DateTime<Utc>| {
        let place = i32::try_from(k + 1).unwrap_or(i32::MAX);
        due - per_request * place
    };
    let critical = dues
        .iter()
        .enumerate()
        .filter(|(k, due)| latest_start(*k, **due) <= now)
        .map(|(_, due)| *due)
        .max();
    let next = dues
        .iter()
        .enumerate()
        .filter(|(_, due)| critical.map_or(true, |until| **due > until))
        .map(|(k, due)| latest_start(k, *due))
        .min();
    EarlyStart {
        send_until: critical,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_fan_out_starts_its_own_length_ahead_and_ends_by_its_due_instant() {
        let due = at("2026-06-01T09:00:00Z");
        let dues = vec![due; 2000];
        let per = Duration::milliseconds(20);

        // 2,000 at 20 ms each need 40 s.
        let waiting = early_start(&dues, due - Duration::seconds(41), per);
        let started = early_start(&dues, due - Duration::seconds(40), per);

        assert_eq!(waiting.send_until, None);
        assert_eq!(waiting.next, Some(due - Duration::seconds(40)));
        assert_eq!(started.send_until, Some(due));
        assert_eq!(started.next, None);
    }

    #[test]
    fn a_lone_post_waits_until_one_request_before_its_due_instant() {
        let due = at("2026-06-01T09:00:00Z");
        let per = Duration::milliseconds(20);

        let before = early_start(&[due], due - Duration::seconds(1), per);

        assert_eq!(before.send_until, None);
        assert_eq!(before.next, Some(due - per));
    }

    #[test]
    fn a_later_talk_waits_for_its_own_start_while_an_earlier_fan_out_goes() {
        let first = at("2026-06-01T09:00:00Z");
        let second = first + Duration::minutes(5);
        let mut dues = vec![first; 1000];
        dues.extend(vec![second; 100]);
        let per = Duration::milliseconds(20);

        let now = first - Duration::seconds(20);
        let start = early_start(&dues, now, per);

        assert_eq!(start.send_until, Some(first), "the second talk's DMs wait");
        // The second talk's 100 posts, behind 1,000: its last latest start is 22 s early.
        assert_eq!(start.next, Some(second - per * 1100));
    }

    #[test]
    fn posts_already_due_count_as_queued_before_the_next_ones() {
        let now = at("2026-06-01T09:00:00Z");
        let mut dues = vec![now - Duration::seconds(5); 500];
        dues.push(now + Duration::seconds(5));
        let per = Duration::milliseconds(20);

        // 500 waiting posts take 10 s: the next post, due in 5 s, must go behind them now.
        let start = early_start(&dues, now, per);

        assert_eq!(start.send_until, Some(now + Duration::seconds(5)));
    }
}
