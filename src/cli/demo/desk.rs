//! The demo's `/ask` and `/questions`: typed by the demo attendee, answered by the same
//! code as on Discord (`crate::questions`), for the talk named or else the one on now (or
//! starting within 30 minutes) whose thread is open. The card then appears in the thread
//! through the scheduler, like every post.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;

use super::{ATTENDEE, GUILD};
use crate::cli::console::Desk;
use crate::console::{render, render_text};
use crate::domain::model::TalkId;
use crate::domain::programme::Programme;
use crate::domain::questions::{live_talks, talk_named, QuestionsCommand};
use crate::questions::{self, Asker};
use crate::store::{self, StoreError};

pub(super) struct DemoDesk<'a> {
    pub(super) pool: &'a PgPool,
    pub(super) programme: &'a Programme,
    pub(super) conference_id: i64,
    pub(super) zone: Tz,
}

impl DemoDesk<'_> {
    /// The talk named, else the first live talk whose thread is open.
    async fn talk(
        &self,
        typed: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<TalkId>, StoreError> {
        if let Some(typed) = typed {
            return Ok(talk_named(self.programme, typed, now));
        }
        for talk in live_talks(self.programme, now) {
            if store::questions::open_thread(self.pool, GUILD, talk.id)
                .await?
                .is_some()
            {
                return Ok(Some(talk.id));
            }
        }
        Ok(None)
    }

    async fn answered(
        &self,
        command: QuestionsCommand,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let typed = match &command {
            QuestionsCommand::Ask { talk, .. } | QuestionsCommand::List { talk } => talk.clone(),
        };
        let Some(talk) = self.talk(typed.as_deref(), now).await? else {
            return Ok(match typed {
                Some(typed) => format!("No talk is called {typed:?}: try /talk to find it.\n"),
                None => "No talk takes questions now: a talk's Q&A thread opens with its \
                         reminder (or name one with talk:...).\n"
                    .to_owned(),
            });
        };
        Ok(match command {
            QuestionsCommand::Ask { question, .. } => {
                let asker = Asker {
                    conference_id: self.conference_id,
                    guild: GUILD,
                    user: ATTENDEE,
                    anonymous: false,
                };
                let (told, _) =
                    questions::ask(self.pool, self.programme, asker, talk, &question, now).await?;
                format!("{}\n", render_text(&told, self.zone, now))
            }
            QuestionsCommand::List { .. } => {
                let reply = questions::list(self.pool, self.programme, GUILD, talk).await?;
                render(&reply, self.zone, now)
            }
        })
    }
}

impl Desk for DemoDesk<'_> {
    async fn answer(&self, command: QuestionsCommand, now: DateTime<Utc>) -> String {
        self.answered(command, now).await.unwrap_or_else(|error| {
            tracing::error!("a demo question failed: {error:#}");
            "Sorry, that failed: the details are in the log.\n".to_owned()
        })
    }
}
