//! The reminder outbox: every post to make, one row per [`PostKey`]. The row is the truth
//! about what is due and what was sent, so a restart loses nothing and sends nothing twice.
//!
//! Planning writes rows with [`enqueue`] and retires stale ones with
//! [`retire_unplanned_reminders`]; neither touches a row under a live lease. Delivery:
//! 1. [`claim_due`] takes due rows with a lease, in one `FOR UPDATE SKIP LOCKED` statement:
//!    concurrent workers (threads or processes) get disjoint rows.
//! 2. The worker sends each row (with its [`OutboxEntry::nonce`] and Discord's
//!    `enforce_nonce`), then calls [`mark_sent`], [`mark_dropped`] or [`mark_failed`]. Each
//!    is refused unless the row is still claimed by that worker, so a worker whose lease ran
//!    out (and whose row another worker took) cannot overwrite the newer outcome.
//! 3. A crashed worker's rows become claimable when their lease ends; a sent-but-unmarked
//!    row is then sent again with the same nonce, which Discord answers with the first
//!    message instead of a duplicate as long as it comes within Discord's nonce window (a
//!    few minutes): keep leases well under that.
//!
//! Every instant that decides something is a parameter (`now`), never SQL's `now()`, so
//! tests and `simulate` control time.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, Row};

use crate::domain::announcements::AnnouncementId;
use crate::domain::model::{QuestionId, TalkId};
use crate::domain::reminders::{PlannedPost, PostBody, PostKey, PostKind, Subject, Target};
use crate::store::{id_from_db, id_to_db, StoreError};

mod claims;
mod reads;
mod retire;

pub use claims::{
    claim_due, claim_due_early, mark_dropped, mark_failed, mark_not_sent, mark_sent, mark_sent_as,
    next_due, postpone, release, renew, send_early,
};
pub(crate) use reads::NOT_ARCHIVED;
pub use reads::{
    entry, failures_since, of_conference, pending_count, pending_dm_reminders, posted, thread_of,
    upcoming, Posted,
};
pub use retire::{
    analyze, retire_unplanned_of_kind, retire_unplanned_reminders, retire_unplanned_reminders_in,
    ReminderScope,
};

/// Errors and reasons are kept for organisers, not as full logs: at most this many chars.
const MAX_REASON: usize = 1000;

/// Why [`retire_unplanned_reminders`] drops a row.
pub const UNPLANNED: &str = "no longer planned: the talk moved or was cancelled, the \
    subscription or channel changed, or the announcement was cancelled or rescheduled";

/// Where a row is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting for its due time, or being sent (see [`OutboxEntry::claimed_by`]).
    Pending,
    Sent,
    /// Not sent on purpose (too late, no longer planned); the reason is in `last_error`.
    Dropped,
    /// Given up after an error that a retry cannot fix.
    Failed,
}

impl OutboxStatus {
    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "pending" => Ok(Self::Pending),
            "sent" => Ok(Self::Sent),
            "dropped" => Ok(Self::Dropped),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Invalid(format!(
                "unknown outbox status {other:?}"
            ))),
        }
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub conference_id: i64,
    /// What to send, where and when, as planned.
    pub post: PlannedPost,
    pub status: OutboxStatus,
    /// Failed attempts so far.
    pub attempts: i32,
    /// Stable for the row's life: send it with every attempt.
    pub nonce: String,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The earliest instant an earlier attempt may have created the message unseen (a
    /// timed-out request, a worker that died holding the claim); `None` when every earlier
    /// attempt is known not to have.
    pub maybe_sent_since: Option<DateTime<Utc>>,
    /// The drop reason, the failure, or the error before the pending retry.
    pub last_error: Option<String>,
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enqueued {
    /// Rows added for keys the outbox did not have.
    pub added: usize,
    /// Existing rows re-planned: a pending row whose due time or text changed (a new lead
    /// time keeps the key), or a retired reminder the plan calls for again (re-subscribed).
    pub replanned: usize,
}

/// The column naming a post's subject, and the predicate of its unique key's index (the
/// conflict target of an upsert). Fixed strings, never input.
fn subject_column(subject: Subject) -> (&'static str, &'static str) {
    match subject {
        Subject::Talk(_) => ("talk_id", ""),
        Subject::Announcement(_) => ("announcement_id", " WHERE announcement_id IS NOT NULL"),
        Subject::Import(_) => ("import_id", " WHERE import_id IS NOT NULL"),
        Subject::Panel(_) => ("panel_id", " WHERE panel_id IS NOT NULL"),
        Subject::Question(_) => ("question_id", " WHERE question_id IS NOT NULL"),
    }
}

fn subject_id(subject: Subject) -> i64 {
    match subject {
        Subject::Talk(TalkId(id))
        | Subject::Announcement(AnnouncementId(id))
        | Subject::Import(id)
        | Subject::Panel(id)
        | Subject::Question(QuestionId(id)) => id,
    }
}

fn target_to_db(target: Target) -> (&'static str, i64) {
    match target {
        Target::Channel(id) => ("channel", id_to_db(id)),
        Target::Dm(id) => ("dm", id_to_db(id)),
        Target::Guild(id) => ("guild", id_to_db(id)),
    }
}

fn kind_from_db(kind: &str) -> Result<PostKind, StoreError> {
    [
        PostKind::Reminder,
        PostKind::Moved,
        PostKind::Cancelled,
        PostKind::Announcement,
        PostKind::ScheduleUpdate,
        PostKind::Board,
        PostKind::Thread,
        PostKind::ThreadClose,
        PostKind::Question,
        PostKind::Event,
    ]
    .into_iter()
    .find(|k| k.as_str() == kind)
    .ok_or_else(|| StoreError::Invalid(format!("unknown outbox kind {kind:?}")))
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_REASON).collect()
}

const COLUMNS: &str =
    "id, conference_id, target_kind, target_id, talk_id, announcement_id, import_id, panel_id, question_id, kind,
    schedule_version, due_at, expires_at, body, status, attempts, nonce, claimed_by,
    claimed_until, sent_at, last_error, maybe_sent_since";

fn row_to_entry(row: &PgRow) -> Result<OutboxEntry, StoreError> {
    let target_kind: String = row.try_get("target_kind")?;
    let target_id = id_from_db(row.try_get("target_id")?);
    let target = match target_kind.as_str() {
        "channel" => Target::Channel(target_id),
        "dm" => Target::Dm(target_id),
        "guild" => Target::Guild(target_id),
        other => {
            return Err(StoreError::Invalid(format!(
                "unknown outbox target kind {other:?}"
            )))
        }
    };
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let body: serde_json::Value = row.try_get("body")?;
    let body: PostBody = serde_json::from_value(body)
        .map_err(|e| StoreError::Invalid(format!("stored outbox body: {e}")))?;
    Ok(OutboxEntry {
        id: row.try_get("id")?,
        conference_id: row.try_get("conference_id")?,
        post: PlannedPost {
            key: PostKey {
                target,
                subject: match (
                    row.try_get("talk_id")?,
                    row.try_get("announcement_id")?,
                    row.try_get("import_id")?,
                    row.try_get("panel_id")?,
                    row.try_get("question_id")?,
                ) {
                    (Some(talk), None, None, None, None) => Subject::Talk(TalkId(talk)),
                    (None, Some(announcement), None, None, None) => {
                        Subject::Announcement(AnnouncementId(announcement))
                    }
                    (None, None, Some(import), None, None) => Subject::Import(import),
                    (None, None, None, Some(panel), None) => Subject::Panel(panel),
                    (None, None, None, None, Some(question)) => {
                        Subject::Question(QuestionId(question))
                    }
                    _ => {
                        return Err(StoreError::Invalid(
                            "an outbox row must have exactly one subject".to_owned(),
                        ))
                    }
                },
                kind: kind_from_db(&kind)?,
                schedule_version: row.try_get("schedule_version")?,
            },
            due: row.try_get("due_at")?,
            expires: row.try_get("expires_at")?,
            body,
        },
        status: OutboxStatus::parse(&status)?,
        attempts: row.try_get("attempts")?,
        nonce: row.try_get("nonce")?,
        claimed_by: row.try_get("claimed_by")?,
        claimed_until: row.try_get("claimed_until")?,
        maybe_sent_since: row.try_get("maybe_sent_since")?,
        sent_at: row.try_get("sent_at")?,
        last_error: row.try_get("last_error")?,
    })
}

/// The due time a re-planned pending row gets. A row waiting for a retry (a backoff or a
/// rate limit's `retry_after` moved its due time and left `last_error`) keeps the later of
/// its retry time and the plan's, so a replan never cuts a backoff short.
const RETRY_AWARE_DUE: &str =
    "CASE WHEN outbox.status = 'pending' AND outbox.last_error IS NOT NULL
         THEN GREATEST(outbox.due_at, EXCLUDED.due_at) ELSE EXCLUDED.due_at END";

/// Puts planned posts in the outbox, [`ENQUEUE_CHUNK`] rows per statement. A key already
/// there is not added again (`ON CONFLICT` on the unique key, so concurrent planners cannot
/// duplicate it); its row is re-planned only if still pending and not being sent, or if it
/// was retired. Posts already expired at `now` are left out: they could only be dropped.
pub async fn enqueue(
    conn: &mut PgConnection,
    conference_id: i64,
    posts: &[PlannedPost],
    now: DateTime<Utc>,
) -> Result<Enqueued, StoreError> {
    // One statement may not update a row twice: keep the first post of each key.
    let mut seen = HashSet::new();
    let posts: Vec<&PlannedPost> = posts
        .iter()
        .filter(|p| !p.expires.is_some_and(|at| now > at))
        .filter(|p| seen.insert(p.key))
        .collect();
    // One upsert per kind of subject: each has its own key column and unique index.
    let mut groups: [Vec<&PlannedPost>; 5] = Default::default();
    for post in posts {
        let group = match post.key.subject {
            Subject::Talk(_) => 0,
            Subject::Announcement(_) => 1,
            Subject::Import(_) => 2,
            Subject::Panel(_) => 3,
            Subject::Question(_) => 4,
        };
        groups[group].push(post);
    }
    let mut done = Enqueued::default();
    for group in groups {
        let Some(first) = group.first() else {
            continue;
        };
        let (column, arbiter) = subject_column(first.key.subject);
        for chunk in group.chunks(ENQUEUE_CHUNK) {
            let chunk_done =
                enqueue_group(&mut *conn, conference_id, chunk, column, arbiter, now).await?;
            done.added += chunk_done.added;
            done.replanned += chunk_done.replanned;
        }
    }
    Ok(done)
}

/// Rows per upsert of [`enqueue`]. One statement for a 100,000-post plan held every body as
/// a JSON tree at once and sent a 30 MB bind message, whose buffer the pooled connection
/// then keeps; chunks bound both (BENCHMARKS.md, "RSS with 10,000 talks and 100,000
/// subscriptions"). Keys are unique across chunks, so the caller's transaction sees the
/// same result.
const ENQUEUE_CHUNK: usize = 5_000;

/// One upsert for posts that all have the same kind of subject (its key column and the
/// predicate of its unique index).
async fn enqueue_group(
    db: impl PgExecutor<'_>,
    conference_id: i64,
    posts: &[&PlannedPost],
    column: &str,
    arbiter: &str,
    now: DateTime<Utc>,
) -> Result<Enqueued, StoreError> {
    let targets: Vec<(&str, i64)> = posts.iter().map(|p| target_to_db(p.key.target)).collect();
    let bodies = posts
        .iter()
        .map(|p| serde_json::to_value(&p.body))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Invalid(format!("outbox body: {e}")))?;
    // `xmax = 0` tells a freshly inserted row from one updated by ON CONFLICT.
    let inserted: Vec<bool> = sqlx::query_scalar(&format!(
        "INSERT INTO outbox (conference_id, target_kind, target_id, {column}, kind,
                             schedule_version, due_at, expires_at, body)
         SELECT $1, p.* FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::text[],
                                    $6::integer[], $7::timestamptz[], $8::timestamptz[],
                                    $9::jsonb[])
             AS p(target_kind, target_id, subject_id, kind, schedule_version, due_at,
                  expires_at, body)
         ON CONFLICT (target_kind, target_id, {column}, kind, schedule_version){arbiter}
         DO UPDATE SET
             due_at = {RETRY_AWARE_DUE},
             expires_at = EXCLUDED.expires_at,
             body = EXCLUDED.body,
             status = 'pending',
             retired_at = NULL,
             last_error = CASE WHEN outbox.status = 'pending' THEN outbox.last_error END
         WHERE (outbox.claimed_until IS NULL OR outbox.claimed_until <= $10)
           AND ((outbox.status = 'pending'
                 AND (outbox.due_at, outbox.expires_at, outbox.body)
                     IS DISTINCT FROM ({RETRY_AWARE_DUE}, EXCLUDED.expires_at, EXCLUDED.body))
                OR (outbox.status = 'dropped' AND outbox.retired_at IS NOT NULL))
         RETURNING (xmax = 0)"
    ))
    .bind(conference_id)
    .bind(targets.iter().map(|(kind, _)| *kind).collect::<Vec<_>>())
    .bind(targets.iter().map(|(_, id)| *id).collect::<Vec<_>>())
    .bind(
        posts
            .iter()
            .map(|p| subject_id(p.key.subject))
            .collect::<Vec<_>>(),
    )
    .bind(
        posts
            .iter()
            .map(|p| p.key.kind.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        posts
            .iter()
            .map(|p| p.key.schedule_version)
            .collect::<Vec<_>>(),
    )
    .bind(posts.iter().map(|p| p.due).collect::<Vec<_>>())
    .bind(posts.iter().map(|p| p.expires).collect::<Vec<_>>())
    .bind(bodies)
    .bind(now)
    .fetch_all(db)
    .await?;
    let added = inserted.iter().filter(|new| **new).count();
    Ok(Enqueued {
        added,
        replanned: inserted.len() - added,
    })
}
