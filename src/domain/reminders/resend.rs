//! Sending a post again when an earlier attempt may have created it.
//!
//! Discord keeps a message's nonce (`enforce_nonce`) for "a few minutes": a repeat inside
//! that time returns the first message instead of a second one. Nothing after it does; the
//! nonce is not even stored with the message. So a post whose earlier attempt may have
//! gone through (its request timed out, or the worker holding it died) is resent blindly
//! only within a window safely shorter than Discord's memory; after the window confbot
//! first looks for the message among the channel's messages and records it as sent if it
//! is there. A message cannot be matched by nonce then, only by its text; the text of a
//! reminder depends on the moment it was sent ("starting in 7 minutes"), so it is matched
//! against every text the post could have been sent with since the earlier attempt.

use chrono::{DateTime, Duration, Utc};

use super::delivery::{decide, Decision};
use super::PlannedPost;

/// How to send a post that may already exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// No earlier attempt can have created it, or Discord still remembers the nonce.
    Send,
    /// Look for the message first; send only if it is not there.
    CheckFirst,
}

/// The rule for a post whose earlier attempts may have created its message from
/// `maybe_sent_since` on, at `now`, trusting Discord's nonce memory for `window`.
pub fn resend(
    maybe_sent_since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    window: Duration,
) -> Resend {
    match maybe_sent_since {
        Some(since) if now - since >= window => Resend::CheckFirst,
        _ => Resend::Send,
    }
}

/// Every content `post` could have been sent with between `since` and `now`: the texts
/// rendered at instants 15 s apart (a reminder's text changes at most once a minute), and
/// at both ends. Instants after the post's expiry render nothing (it is dropped then).
pub fn possible_contents(
    post: &PlannedPost,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<String> {
    const STEP: i64 = 15;
    // A reminder is due at most a few hours before its talk; beyond that the texts repeat.
    const MAX_STEPS: i64 = 4 * 60 * 4;
    let to = post.expires.map_or(now, |expires| expires.min(now));
    let mut contents: Vec<String> = Vec::new();
    let mut push = |at: DateTime<Utc>| {
        if let Decision::Send(message) = decide(post, at) {
            if !contents.contains(&message.content) {
                contents.push(message.content);
            }
        }
    };
    // From `since`, not from `post.due`: that is the outbox's due time, which every
    // backoff and postponement moves on, so it can lie long after the attempt that made
    // the message.
    let mut at = since;
    let mut steps = 0;
    while at < to && steps < MAX_STEPS {
        push(at);
        at += Duration::seconds(STEP);
        steps += 1;
    }
    push(to);
    contents
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::TalkId;
    use crate::domain::reminders::{PostBody, PostKey, PostKind, ReminderBody, Subject, Target};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn reminder() -> PlannedPost {
        let start = at("2026-06-01T09:10:00Z");
        PlannedPost {
            key: PostKey {
                target: Target::Dm(1),
                subject: Subject::Talk(TalkId(7)),
                kind: PostKind::Reminder,
                schedule_version: 1,
            },
            due: at("2026-06-01T09:00:00Z"),
            expires: Some(start),
            body: PostBody::Reminder(ReminderBody {
                title: "Glue".to_owned(),
                speakers: vec!["Ada".to_owned()],
                start,
                room: Some("Barn".to_owned()),
                url: None,
            }),
        }
    }

    #[test]
    fn inside_the_window_the_nonce_answers_for_it_after_it_confbot_looks_first() {
        let since = at("2026-06-01T09:00:00Z");
        let window = Duration::seconds(60);

        assert_eq!(
            resend(None, since + Duration::hours(1), window),
            Resend::Send
        );
        assert_eq!(
            resend(Some(since), since + Duration::seconds(59), window),
            Resend::Send
        );
        assert_eq!(
            resend(Some(since), since + Duration::seconds(60), window),
            Resend::CheckFirst
        );
    }

    #[test]
    fn every_text_the_reminder_could_have_had_since_the_earlier_attempt_is_matched() {
        let post = reminder();
        let since = at("2026-06-01T09:00:20Z");

        let contents = possible_contents(&post, since, at("2026-06-01T09:03:00Z"));

        let minutes: Vec<&str> = contents
            .iter()
            .map(|c| {
                let start = c.find("starting in ").expect("a reminder") + "starting in ".len();
                &c[start..start + c[start..].find(' ').unwrap()]
            })
            .collect();
        assert_eq!(minutes, ["10", "9", "8", "7"], "{contents:?}");
        for content in &contents {
            assert!(
                content.starts_with("⏰ **Glue** — Ada — starting in "),
                "{content}"
            );
        }
        // The texts of each instant in between are among them.
        for second in (20..180).step_by(7) {
            let Decision::Send(message) = decide(
                &post,
                since - Duration::seconds(20) + Duration::seconds(second),
            ) else {
                panic!("sent")
            };
            assert!(contents.contains(&message.content), "{}", message.content);
        }
    }

    #[test]
    fn a_retry_that_pushed_the_due_time_on_does_not_hide_the_text_of_the_earlier_attempt() {
        // The outbox's due time moves on with each backoff and postponement; the earlier
        // attempt's text is the one of `since`, however far the row was pushed since.
        let since = at("2026-06-01T09:00:25Z");
        let mut post = reminder();
        post.due = since + Duration::seconds(70);
        let Decision::Send(earlier) = decide(&post, since) else {
            panic!("sent")
        };

        let contents = possible_contents(&post, since, post.due + Duration::seconds(5));

        assert!(contents.contains(&earlier.content), "{contents:?}");
    }

    #[test]
    fn a_post_that_expired_meanwhile_has_only_the_texts_before_its_expiry() {
        let post = reminder();

        let contents = possible_contents(
            &post,
            at("2026-06-01T09:09:10Z"),
            at("2026-06-01T11:00:00Z"),
        );

        assert!(!contents.is_empty() && contents.len() <= 2, "{contents:?}");
        assert!(contents.iter().all(|c| c.contains("Glue")));
    }
}
