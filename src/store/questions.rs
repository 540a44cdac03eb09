//! Questions with votes (`questions`, `question_votes`): asking, voting, a chair's
//! decisions, the lists, and the card's message. Each change queues the question's card in
//! the outbox in the same transaction, so a stored change always reaches the thread and a
//! restart neither loses nor repeats it. The rules are `domain::questions`'.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, PgPool, Row};

use super::{id_from_db, id_to_db, outbox, StoreError};
use crate::domain::model::{Moderation, QuestionId, TalkId};
use crate::domain::questions::{cooldown_left, Question, QuestionState};
use crate::domain::reminders::{PlannedPost, PostBody, PostKey, PostKind, Subject, Target};

mod cards;
pub use cards::{later_change_queued, lock_card, set_card, CardState, Locked};

/// A question to store.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub conference_id: i64,
    pub talk: TalkId,
    pub guild: u64,
    /// The talk's open thread in that server, where the card goes.
    pub thread: u64,
    pub asker: u64,
    pub anonymous: bool,
    /// Accepted by `domain::questions::question_text`.
    pub text: String,
}

/// What became of a question asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    Stored(QuestionId),
    /// The asker asked the talk something less than the cooldown ago: wait this long.
    TooSoon(chrono::Duration),
}

/// Stores a question, its audit entry (who asked, even when the card is anonymous) and its
/// card's post, unless the asker asked the talk something within the cooldown. Two asks
/// of one person to one talk are serialised, so the cooldown holds across processes.
pub async fn ask(
    pool: &PgPool,
    question: &NewQuestion,
    now: DateTime<Utc>,
) -> Result<Asked, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('question:' || $1 || ':' || $2, 0))",
    )
    .bind(question.talk.0)
    .bind(id_to_db(question.asker))
    .execute(&mut *tx)
    .await?;
    let last: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT max(asked_at) FROM questions WHERE talk_id = $1 AND asker_id = $2",
    )
    .bind(question.talk.0)
    .bind(id_to_db(question.asker))
    .fetch_one(&mut *tx)
    .await?;
    if let Some(wait) = cooldown_left(last, now) {
        return Ok(Asked::TooSoon(wait));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO questions (conference_id, talk_id, guild_id, thread_id, asker_id, anonymous,
                                text, asked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(question.conference_id)
    .bind(question.talk.0)
    .bind(id_to_db(question.guild))
    .bind(id_to_db(question.thread))
    .bind(id_to_db(question.asker))
    .bind(question.anonymous)
    .bind(&question.text)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let after = json!({
        "question": id.to_string(),
        "talk": question.talk.0.to_string(),
        "anonymous": question.anonymous,
    });
    super::guilds::append(
        &mut *tx,
        question.guild,
        question.asker,
        "ask",
        None,
        Some(&after),
    )
    .await?;
    let card = Card {
        id: QuestionId(id),
        conference_id: question.conference_id,
        thread: question.thread,
    };
    queue_card(&mut tx, card, now).await?;
    tx.commit().await?;
    Ok(Asked::Stored(QuestionId(id)))
}

/// What a vote did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voted {
    /// Counted (`true`) or taken back, and the question's votes now.
    Toggled { counted: bool, votes: u32 },
    /// The question was answered or hidden: no more votes.
    Closed,
    /// No such question in this server.
    Missing,
}

/// Toggles `user`'s vote for a question of `guild`, and queues its card.
pub async fn vote(
    pool: &PgPool,
    guild: u64,
    question: QuestionId,
    user: u64,
    now: DateTime<Utc>,
) -> Result<Voted, StoreError> {
    let mut tx = pool.begin().await?;
    let Some((card, state)) = card_of(&mut *tx, guild, question).await? else {
        return Ok(Voted::Missing);
    };
    if state != QuestionState::Open {
        return Ok(Voted::Closed);
    }
    let taken_back =
        sqlx::query("DELETE FROM question_votes WHERE question_id = $1 AND user_id = $2")
            .bind(question.0)
            .bind(id_to_db(user))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
    if !taken_back {
        sqlx::query(
            "INSERT INTO question_votes (question_id, user_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(question.0)
        .bind(id_to_db(user))
        .execute(&mut *tx)
        .await?;
    }
    let votes = votes_of(&mut *tx, question).await?;
    queue_card(&mut tx, card, now).await?;
    tx.commit().await?;
    Ok(Voted::Toggled {
        counted: !taken_back,
        votes,
    })
}

/// Marks a question of `guild` answered or hides it, with its audit entry, and queues its
/// card. Returns the question's talk; `None`: no such question, or already in that state.
pub async fn moderate(
    pool: &PgPool,
    guild: u64,
    question: QuestionId,
    chair: u64,
    decision: Moderation,
    now: DateTime<Utc>,
) -> Result<Option<TalkId>, StoreError> {
    let mut tx = pool.begin().await?;
    let state = decision.state();
    // An answered question may still be hidden; a hidden one stays hidden.
    let changed: Option<(i64, i64, i64)> = sqlx::query_as(
        "UPDATE questions SET state = $3
         WHERE id = $1 AND guild_id = $2 AND state <> $3 AND state <> 'hidden'
         RETURNING talk_id, conference_id, thread_id",
    )
    .bind(question.0)
    .bind(id_to_db(guild))
    .bind(state.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((talk, conference_id, thread)) = changed else {
        return Ok(None);
    };
    let after = json!({ "question": question.0.to_string(), "state": state.as_str() });
    let action = match decision {
        Moderation::Answered => "question answered",
        Moderation::Hide => "question hidden",
    };
    super::guilds::append(&mut *tx, guild, chair, action, None, Some(&after)).await?;
    let card = Card {
        id: question,
        conference_id,
        thread: id_from_db(thread),
    };
    queue_card(&mut tx, card, now).await?;
    tx.commit().await?;
    Ok(Some(TalkId(talk)))
}

/// The questions to `talk` asked in `guild`, with their votes, hidden ones included.
pub async fn of_talk(
    db: impl PgExecutor<'_>,
    guild: u64,
    talk: TalkId,
) -> Result<Vec<Question>, StoreError> {
    let rows = sqlx::query(&format!(
        "{SELECT_QUESTION} WHERE q.talk_id = $1 AND q.guild_id = $2"
    ))
    .bind(talk.0)
    .bind(id_to_db(guild))
    .fetch_all(db)
    .await?;
    rows.iter().map(question_from_row).collect()
}

/// The talk of a question of `guild`.
pub async fn talk_of_question(
    db: impl PgExecutor<'_>,
    guild: u64,
    question: QuestionId,
) -> Result<Option<TalkId>, StoreError> {
    let talk: Option<i64> =
        sqlx::query_scalar("SELECT talk_id FROM questions WHERE id = $1 AND guild_id = $2")
            .bind(question.0)
            .bind(id_to_db(guild))
            .fetch_optional(db)
            .await?;
    Ok(talk.map(TalkId))
}

/// The talk whose open thread in `guild` is `channel`, and its conference.
pub async fn talk_of_thread(
    db: impl PgExecutor<'_>,
    guild: u64,
    channel: u64,
) -> Result<Option<(i64, TalkId)>, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT t.conference_id, t.talk_id FROM outbox t
         WHERE t.message_id = $1 AND t.kind = 'thread' AND t.status = 'sent'
           AND t.body->>'guild' = $2
         ORDER BY t.sent_at DESC LIMIT 1",
    )
    .bind(id_to_db(channel))
    .bind(guild.to_string())
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(conference, talk)| (conference, TalkId(talk))))
}

/// The open (not yet archived) thread of `talk` in `guild`, at the talk's latest opening.
pub async fn open_thread(
    db: impl PgExecutor<'_>,
    guild: u64,
    talk: TalkId,
) -> Result<Option<u64>, StoreError> {
    let thread: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT t.message_id FROM outbox t
         WHERE t.talk_id = $1 AND t.kind = 'thread' AND t.status = 'sent'
           AND t.body->>'guild' = $2 AND t.message_id IS NOT NULL AND {}
         ORDER BY t.sent_at DESC LIMIT 1",
        outbox::NOT_ARCHIVED
    ))
    .bind(talk.0)
    .bind(guild.to_string())
    .fetch_optional(db)
    .await?;
    Ok(thread.map(id_from_db))
}

pub(super) const SELECT_QUESTION: &str =
    "SELECT q.id, q.talk_id, q.asker_id, q.anonymous, q.text, q.state,
        q.asked_at, q.message_id, q.shown_content,
        (SELECT count(*) FROM question_votes v WHERE v.question_id = q.id) AS votes
     FROM questions q";

pub(super) fn question_from_row(row: &PgRow) -> Result<Question, StoreError> {
    let state: String = row.try_get("state")?;
    let votes: i64 = row.try_get("votes")?;
    Ok(Question {
        id: QuestionId(row.try_get("id")?),
        talk: TalkId(row.try_get("talk_id")?),
        asker: id_from_db(row.try_get("asker_id")?),
        anonymous: row.try_get("anonymous")?,
        text: row.try_get("text")?,
        state: QuestionState::parse(&state)
            .ok_or_else(|| StoreError::Invalid(format!("stored question state {state:?}")))?,
        votes: u32::try_from(votes).unwrap_or(u32::MAX),
        asked_at: row.try_get("asked_at")?,
    })
}

/// Where a question's card is.
#[derive(Debug, Clone, Copy)]
pub(super) struct Card {
    pub(super) id: QuestionId,
    pub(super) conference_id: i64,
    pub(super) thread: u64,
}

async fn card_of(
    db: impl PgExecutor<'_>,
    guild: u64,
    question: QuestionId,
) -> Result<Option<(Card, QuestionState)>, StoreError> {
    let row: Option<(i64, i64, String)> = sqlx::query_as(
        "SELECT conference_id, thread_id, state FROM questions WHERE id = $1 AND guild_id = $2",
    )
    .bind(question.0)
    .bind(id_to_db(guild))
    .fetch_optional(db)
    .await?;
    let Some((conference_id, thread, state)) = row else {
        return Ok(None);
    };
    let state = QuestionState::parse(&state)
        .ok_or_else(|| StoreError::Invalid(format!("stored question state {state:?}")))?;
    let card = Card {
        id: question,
        conference_id,
        thread: id_from_db(thread),
    };
    Ok(Some((card, state)))
}

async fn votes_of(db: impl PgExecutor<'_>, question: QuestionId) -> Result<u32, StoreError> {
    let votes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM question_votes WHERE question_id = $1")
            .bind(question.0)
            .fetch_one(db)
            .await?;
    Ok(u32::try_from(votes).unwrap_or(u32::MAX))
}

/// Queues a post of the card: a row per change, due now. What it shows is read when it is
/// sent, so of a burst of votes the rows sent later find the card up to date and cost no
/// request.
pub(super) async fn queue_card(
    conn: &mut PgConnection,
    card: Card,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let change: i32 = sqlx::query_scalar("SELECT nextval('question_card_changes')::integer")
        .fetch_one(&mut *conn)
        .await?;
    let post = PlannedPost {
        key: PostKey {
            target: Target::Channel(card.thread),
            subject: Subject::Question(card.id),
            kind: PostKind::Question,
            schedule_version: change,
        },
        due: now,
        expires: None,
        body: PostBody::QuestionCard,
    };
    outbox::enqueue(conn, card.conference_id, &[post], now).await?;
    // Every process's delivery loop wakes once this commits (see `jobs::plan_loop`).
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(crate::jobs::PLAN_CHANNEL)
        .bind(format!("{}:queued", card.conference_id))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
