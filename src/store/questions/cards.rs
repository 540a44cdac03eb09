//! A question's card as delivery sees it: locked while it is brought up to date, and the
//! message that shows it recorded.

use sqlx::{PgConnection, PgExecutor, Row};

use super::{question_from_row, SELECT_QUESTION};
use crate::domain::model::QuestionId;
use crate::domain::questions::Question;
use crate::store::{id_from_db, id_to_db, StoreError};

/// A card's state at send time: the question, the message showing it and what it shows.
#[derive(Debug, Clone)]
pub struct CardState {
    pub question: Question,
    pub message: Option<u64>,
    pub shown: Option<String>,
}

/// A card as delivery finds it.
#[derive(Debug, Clone)]
pub enum Locked {
    /// Locked for this worker, with what it should show.
    Card(CardState),
    /// Another worker is bringing it up to date right now.
    Busy,
    /// The question is gone.
    Gone,
}

/// Locks a question's card (the question row: votes are another table, so they do not wait
/// for it) and reads what it should show.
///
/// `FOR NO KEY UPDATE`, not `FOR UPDATE`: a vote's row (and a card's outbox row) references
/// the question, and the foreign key's check takes `FOR KEY SHARE` on it, which `FOR
/// UPDATE` would block for the whole edit, bucket waits included. `SKIP LOCKED`: a worker
/// does not wait (holding a pooled connection) for another's edit of the same card; it
/// tries again later and then reads the newer state. Under a burst of votes, waiting
/// workers held every connection and votes were answered after 5 s, past Discord's 3 s
/// (BENCHMARKS.md, "Votes on a keynote's question").
pub async fn lock_card(
    conn: &mut PgConnection,
    question: QuestionId,
) -> Result<Locked, StoreError> {
    let row = sqlx::query(&format!(
        "{SELECT_QUESTION} WHERE q.id = $1 FOR NO KEY UPDATE OF q SKIP LOCKED"
    ))
    .bind(question.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM questions WHERE id = $1")
            .bind(question.0)
            .fetch_optional(&mut *conn)
            .await?;
        return Ok(if exists.is_some() {
            Locked::Busy
        } else {
            Locked::Gone
        });
    };
    Ok(Locked::Card(CardState {
        question: question_from_row(&row)?,
        message: row.try_get::<Option<i64>, _>("message_id")?.map(id_from_db),
        shown: row.try_get("shown_content")?,
    }))
}

/// Whether a change of the card queued after outbox row `row` waits, unclaimed: it will be
/// sent later, reading the question then, so it shows `row`'s change too. (A claimed one
/// may have read the question before `row`'s change was committed.)
pub async fn later_change_queued(
    db: impl PgExecutor<'_>,
    question: QuestionId,
    row: i64,
) -> Result<bool, StoreError> {
    let later: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM outbox
         WHERE question_id = $1 AND id > $2 AND status = 'pending' AND claimed_by IS NULL
         LIMIT 1",
    )
    .bind(question.0)
    .bind(row)
    .fetch_optional(db)
    .await?;
    Ok(later.is_some())
}

/// Records the message that shows the card and its text (`None`, `None`: removed).
pub async fn set_card(
    db: impl PgExecutor<'_>,
    question: QuestionId,
    message: Option<u64>,
    shown: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE questions SET message_id = $2, shown_content = $3 WHERE id = $1")
        .bind(question.0)
        .bind(message.map(id_to_db))
        .bind(shown)
        .execute(db)
        .await?;
    Ok(())
}
