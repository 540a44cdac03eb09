//! What a replan must write, given what the outbox already holds for its scope: a replan of
//! one user after each of their clicks finds almost everything planned as it would plan it,
//! and rewriting those rows (an upsert locks each conflicting row, a write of its own) was
//! most of what a subscription cost the database.

use std::collections::HashSet;

use super::{PlannedPost, PostKey};

/// The posts to write and whether anything stored is no longer planned.
#[derive(Debug, PartialEq, Eq)]
pub struct PlanDelta<'a> {
    /// Planned posts not stored exactly as planned (new, changed, or stored but no longer
    /// pending, which only the store can tell apart).
    pub write: Vec<&'a PlannedPost>,
    /// A stored pending post's key is not in the plan: the scope needs its retire.
    pub retire: bool,
}

/// Compares `planned` with the scope's `pending` posts as stored.
pub fn plan_delta<'a>(planned: &'a [PlannedPost], pending: &[PlannedPost]) -> PlanDelta<'a> {
    let stored: HashSet<&PlannedPost> = pending.iter().collect();
    let keys: HashSet<&PostKey> = planned.iter().map(|post| &post.key).collect();
    PlanDelta {
        write: planned
            .iter()
            .filter(|post| !stored.contains(post))
            .collect(),
        retire: pending.iter().any(|post| !keys.contains(&post.key)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::domain::model::TalkId;
    use crate::domain::reminders::{PostBody, PostKind, Subject, Target};

    fn post(user: u64, talk: i64, due: &str) -> PlannedPost {
        let due: DateTime<Utc> = due.parse().unwrap();
        PlannedPost {
            key: PostKey {
                target: Target::Dm(user),
                subject: Subject::Talk(TalkId(talk)),
                kind: PostKind::Reminder,
                schedule_version: 1,
            },
            due,
            expires: Some(due + Duration::minutes(10)),
            body: PostBody::Notice {
                content: format!("talk {talk}"),
            },
        }
    }

    #[test]
    fn a_new_subscription_writes_its_own_post_only_and_retires_nothing() {
        let stored = vec![
            post(1, 10, "2026-06-01T09:00:00Z"),
            post(1, 11, "2026-06-01T10:00:00Z"),
        ];
        let mut planned = stored.clone();
        planned.push(post(1, 12, "2026-06-01T11:00:00Z"));
        let delta = plan_delta(&planned, &stored);
        assert_eq!(delta.write, vec![&planned[2]]);
        assert!(!delta.retire);
    }

    #[test]
    fn a_changed_due_time_or_text_is_written_again() {
        let stored = vec![
            post(1, 10, "2026-06-01T09:00:00Z"),
            post(1, 11, "2026-06-01T10:00:00Z"),
        ];
        let mut planned = stored.clone();
        planned[0].due -= Duration::minutes(5);
        planned[1].body = PostBody::Notice {
            content: "moved".to_owned(),
        };
        let delta = plan_delta(&planned, &stored);
        assert_eq!(delta.write, vec![&planned[0], &planned[1]]);
        assert!(!delta.retire);
    }

    #[test]
    fn a_stored_post_the_plan_no_longer_has_asks_for_the_retire() {
        let stored = vec![
            post(1, 10, "2026-06-01T09:00:00Z"),
            post(1, 11, "2026-06-01T10:00:00Z"),
        ];
        let planned = vec![stored[0].clone()];
        let delta = plan_delta(&planned, &stored);
        assert!(delta.write.is_empty());
        assert!(delta.retire);
    }

    #[test]
    fn nothing_stored_writes_every_planned_post() {
        let planned = vec![
            post(1, 10, "2026-06-01T09:00:00Z"),
            post(2, 10, "2026-06-01T09:00:00Z"),
        ];
        let delta = plan_delta(&planned, &[]);
        assert_eq!(delta.write.len(), 2);
        assert!(!delta.retire);
    }
}
