//! Retiring what the plan no longer calls for: pending rows whose key left the plan (a
//! moved or cancelled talk's old reminders, an ended subscription's, a cancelled
//! announcement's occurrences) are dropped with reason [`UNPLANNED`], and come back if the
//! plan calls for their key again. A plan computed for part of a conference (one user's
//! DMs, some talks) retires within that part only: [`ReminderScope`].

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::domain::model::TalkId;
use crate::domain::reminders::{PostKey, PostKind};
use crate::store::{id_to_db, StoreError};

use super::{subject_id, target_to_db, UNPLANNED};

/// Which of a conference's reminders a partial plan covers.
#[derive(Debug, Clone, Copy)]
pub enum ReminderScope<'a> {
    /// All of them: the plan is the whole conference's.
    Conference,
    /// The DMs to these users.
    Users(&'a [u64]),
    /// The posts about these talks, to channels and DMs.
    Talks(&'a [TalkId]),
    /// The posts to channels.
    Channels,
    /// The DMs to users who have no subscription left in the conference (the plan is
    /// empty for them).
    Unsubscribed,
}

impl ReminderScope<'_> {
    /// The scope as a condition on outbox row `o` (fixed SQL, never input; ids go in `$9`). `= ANY($9)` is planned as an index lookup per id when the
    /// outbox's statistics are current (the planner keeps them so after filling it:
    /// `outbox::analyze`); a join with `unnest($9)` was measured slower with stale
    /// statistics.
    fn condition(self) -> &'static str {
        match self {
            Self::Conference => "",
            Self::Users(_) => "AND o.target_kind = 'dm' AND o.target_id = ANY($9)",
            Self::Talks(_) => "AND o.talk_id = ANY($9)",
            Self::Channels => "AND o.target_kind = 'channel'",
            Self::Unsubscribed => {
                "AND o.target_kind = 'dm' AND o.target_id NOT IN (
                     SELECT s.user_id FROM subscriptions s WHERE s.conference_id = $1)"
            }
        }
    }

    fn ids(self) -> Vec<i64> {
        match self {
            Self::Users(users) => users.iter().map(|user| id_to_db(*user)).collect(),
            Self::Talks(talks) => talks.iter().map(|TalkId(id)| *id).collect(),
            Self::Conference | Self::Channels | Self::Unsubscribed => Vec::new(),
        }
    }
}

/// Drops the conference's pending reminders whose key is not in `planned` (the current
/// plan): a moved talk's reminders for its old schedule version, a cancelled talk's, an
/// ended subscription's. Reason [`UNPLANNED`]. Rows being sent under a live lease are left
/// alone: the send is already under way and its outcome will be recorded. Change notices
/// (moved/cancelled) are never retired. Returns how many rows were dropped.
pub async fn retire_unplanned_reminders(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    planned: &[PostKey],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    retire_unplanned_reminders_in(db, conference_id, ReminderScope::Conference, planned, now).await
}

/// Like [`retire_unplanned_reminders`] for a plan of part of the conference: only rows in
/// `scope` are considered.
pub async fn retire_unplanned_reminders_in(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    scope: ReminderScope<'_>,
    planned: &[PostKey],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    retire_unplanned(db, conference_id, PostKind::Reminder, scope, planned, now).await
}

/// Like [`retire_unplanned_reminders`] for the conference's pending posts of another
/// `kind` the plan keeps whole: announcements (a cancelled one's occurrences, or those an
/// edit of its schedule no longer calls for) and boards (periods a schedule change rewrote,
/// the posts of a panel that is gone).
pub async fn retire_unplanned_of_kind(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    kind: PostKind,
    planned: &[PostKey],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let scope = ReminderScope::Conference;
    retire_unplanned(db, conference_id, kind, scope, planned, now).await
}

async fn retire_unplanned(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    kind: PostKind,
    scope: ReminderScope<'_>,
    planned: &[PostKey],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let keys: Vec<&PostKey> = planned.iter().filter(|k| k.kind == kind).collect();
    let column = match kind {
        PostKind::Announcement => "announcement_id",
        PostKind::ScheduleUpdate => "import_id",
        PostKind::Board => "panel_id",
        PostKind::Question => "question_id",
        PostKind::Reminder
        | PostKind::Moved
        | PostKind::Cancelled
        | PostKind::Thread
        | PostKind::ThreadClose
        | PostKind::Event => "talk_id",
    };
    let targets: Vec<(&str, i64)> = keys.iter().map(|k| target_to_db(k.target)).collect();
    // `NOT IN (subquery)` rather than `NOT EXISTS`: PostgreSQL estimates an UNNEST of a
    // parameter at a few rows and planned the anti-join as a nested loop, 10,000 x 10,000
    // comparisons (12 s on a 10,000-DM fan-out, measured by benches/reminders.rs); the
    // subquery becomes one hash table, built once. Every key column is NOT NULL for the
    // rows of this kind, so NOT IN means "not planned" here.
    let condition = scope.condition();
    let done = sqlx::query(&format!(
        "UPDATE outbox o SET status = 'dropped', retired_at = $2, last_error = $3,
                             claimed_by = NULL, claimed_until = NULL
         WHERE o.conference_id = $1 AND o.kind = $8 AND o.status = 'pending'
           AND (o.claimed_until IS NULL OR o.claimed_until <= $2) {condition}
           AND (o.target_kind, o.target_id, o.{column}, o.schedule_version) NOT IN (
               SELECT k.target_kind, k.target_id, k.subject_id, k.schedule_version
               FROM UNNEST($4::text[], $5::bigint[], $6::bigint[], $7::integer[])
                   AS k(target_kind, target_id, subject_id, schedule_version))"
    ))
    .bind(conference_id)
    .bind(now)
    .bind(UNPLANNED)
    .bind(targets.iter().map(|(kind, _)| *kind).collect::<Vec<_>>())
    .bind(targets.iter().map(|(_, id)| *id).collect::<Vec<_>>())
    .bind(
        keys.iter()
            .map(|k| subject_id(k.subject))
            .collect::<Vec<_>>(),
    )
    .bind(keys.iter().map(|k| k.schedule_version).collect::<Vec<_>>())
    .bind(kind.as_str())
    .bind(scope.ids())
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Refreshes PostgreSQL's statistics of the outbox. After a plan added thousands of rows
/// the statistics still describe the emptier table, and PostgreSQL then planned the scoped
/// retirement above as a filter over every pending DM (40-90 ms per user and 0.35 s per page
/// of 1,000 users with 100,000 rows, measured by the ops benchmark, against about 7 ms per
/// page with current statistics). Needs the table's owner (who ran the migrations); a
/// refusal is only logged.
pub async fn analyze(db: impl PgExecutor<'_>) {
    if let Err(error) = sqlx::query("ANALYZE outbox").execute(db).await {
        tracing::warn!("refreshing the outbox's statistics failed: {error}");
    }
}
