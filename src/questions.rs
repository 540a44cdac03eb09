//! One question asked, or one chair's list, from a resolved talk to the store and back to
//! the words the person sees. The Discord adapter (`/ask`, `/questions`) and the demo's
//! console both run exactly this; each finds the talk its own way (a thread or room
//! channel there, the talk on now in the demo).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::commands::{escape_markdown, Reply};
use crate::domain::model::TalkId;
use crate::domain::programme::Programme;
use crate::domain::questions::{asked, chair_list, question_text, talk_gone, too_soon};
use crate::store::questions::{Asked, NewQuestion};
use crate::store::{self, StoreError};

/// Who asks, where: the server, the conference and the asker.
#[derive(Debug, Clone, Copy)]
pub struct Asker {
    pub conference_id: i64,
    pub guild: u64,
    pub user: u64,
    /// The server's `/setup questions anonymous`.
    pub anonymous: bool,
}

/// Asks `typed` of `talk`: refused with a reason (bad text, no open thread in the server,
/// too soon after the asker's last question to it), or stored with its card queued.
/// Returns what the asker is told, and whether a card was queued.
pub async fn ask(
    pool: &PgPool,
    programme: &Programme,
    asker: Asker,
    talk: TalkId,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<(String, bool), StoreError> {
    let text = match question_text(typed) {
        Ok(text) => text,
        Err(refusal) => return Ok((refusal, false)),
    };
    let title = programme
        .talks
        .iter()
        .find(|t| t.id == talk)
        .map(|t| t.data.title.clone())
        .unwrap_or_default();
    let Some(thread) = store::questions::open_thread(pool, asker.guild, talk).await? else {
        let refusal = format!(
            "**{}** has no open Q&A thread in this server: threads open with the talk's \
             reminder and close after it (organisers: `/setup threads`).",
            escape_markdown(&title)
        );
        return Ok((refusal, false));
    };
    let question = NewQuestion {
        conference_id: asker.conference_id,
        talk,
        guild: asker.guild,
        thread,
        asker: asker.user,
        anonymous: asker.anonymous,
        text,
    };
    Ok(match store::questions::ask(pool, &question, now).await? {
        Asked::TooSoon(wait) => (too_soon(wait), false),
        Asked::Stored(id) => {
            tracing::info!(
                question = id.0,
                talk = talk.0,
                guild = asker.guild,
                "question asked"
            );
            let told = asked(&title, asker.guild, thread, asker.anonymous);
            (told, true)
        }
    })
}

/// A chair's list of the questions to `talk` asked in `guild`.
pub async fn list(
    pool: &PgPool,
    programme: &Programme,
    guild: u64,
    talk: TalkId,
) -> Result<Reply, StoreError> {
    let Some(stored) = programme.talks.iter().find(|t| t.id == talk) else {
        return Ok(talk_gone());
    };
    let asked = store::questions::of_talk(pool, guild, talk).await?;
    Ok(chair_list(stored, &asked))
}
