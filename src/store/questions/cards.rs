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

/// Locks a question's card (the question row: votes are another table, so they do not wait
/// for it) and reads what it should show. `None`: the question is gone.
///
/// `FOR NO KEY UPDATE`, not `FOR UPDATE`: a vote's row (and a card's outbox row) references
/// the question, and the foreign key's check takes `FOR KEY SHARE` on it, which `FOR
/// UPDATE` would block for the whole edit, bucket waits included (a burst of 100 votes a
/// second waited 5 s, past Discord's 3 s for an answer; BENCHMARKS.md, "Votes").
pub async fn lock_card(
    conn: &mut PgConnection,
    question: QuestionId,
) -> Result<Option<CardState>, StoreError> {
    let row = sqlx::query(&format!(
        "{SELECT_QUESTION} WHERE q.id = $1 FOR NO KEY UPDATE OF q"
    ))
    .bind(question.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        Ok(CardState {
            question: question_from_row(&row)?,
            message: row.try_get::<Option<i64>, _>("message_id")?.map(id_from_db),
            shown: row.try_get("shown_content")?,
        })
    })
    .transpose()
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
