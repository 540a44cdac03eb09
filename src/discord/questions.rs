//! `/ask`, `/questions` and their buttons: the question stored with its card queued for the
//! talk's thread (`store::questions`), a vote toggled, a chair's decision recorded. What
//! is allowed and what the messages say is `domain::questions`'; who chairs is checked
//! here, on the server side, before anything is read or changed.

use chrono::Utc;
use serenity::all::{CommandInteraction, ComponentInteraction, CreateInteractionResponse};

use super::interactions::{ephemeral_text, split, Router, GENERIC_FAILURE};
use super::registry::QuestionsCommand;
use super::render;
use super::respond::Ctx;
use crate::domain::commands::{Reply, Visibility};
use crate::domain::model::{Moderation, QuestionId, TalkId};
use crate::domain::programme::Programme;
use crate::domain::questions::{self, voted};
use crate::questions::Asker;
use crate::store;
use crate::store::questions::Voted;

/// Where to look for a question's talk when none is named.
const NO_TALK: &str = "Which talk is it for? Type `/ask` in the talk's Q&A thread or its \
     room's channel, or name it with `talk:` (the suggestions are the talks running now or \
     starting within 30 minutes).";

impl Router {
    /// `/ask` or `/questions`.
    pub(super) async fn questions(
        &self,
        interaction: &CommandInteraction,
        command: QuestionsCommand,
    ) -> Reply {
        let user = interaction.user.id.get();
        let Some(guild) = interaction.guild_id.map(|g| g.get()) else {
            return ephemeral_text("Questions are asked in a conference's server, not here.");
        };
        let answer = match command {
            QuestionsCommand::Ask { question, talk } => {
                self.ask(interaction, guild, &question, talk.as_deref())
                    .await
            }
            QuestionsCommand::List { talk } => {
                if let Err(refusal) = self.authorize_chair(interaction, guild).await {
                    return refusal;
                }
                self.chair_list(interaction, guild, talk.as_deref()).await
            }
        };
        answer.unwrap_or_else(|error| {
            tracing::error!(user, guild, "a question command failed: {error:#}");
            ephemeral_text(GENERIC_FAILURE)
        })
    }

    async fn ask(
        &self,
        interaction: &CommandInteraction,
        guild: u64,
        typed: &str,
        talk: Option<&str>,
    ) -> anyhow::Result<Reply> {
        let programme = match self.programme(interaction.guild_id).await {
            Ok(programme) => programme,
            Err(failure) => return Ok(failure.into_reply()),
        };
        let now = Utc::now();
        let channel = interaction.channel_id.get();
        let Some(talk) = self.talk_of(&programme, guild, channel, talk, now).await? else {
            return Ok(ephemeral_text(NO_TALK));
        };
        let asker = Asker {
            conference_id: self.conference_id(&programme).await?,
            guild,
            user: interaction.user.id.get(),
            anonymous: self.settings(guild).await?.settings.questions.anonymous,
        };
        let (told, queued) =
            crate::questions::ask(&self.pool, &programme, asker, talk, typed, now).await?;
        if queued {
            self.plan_changed.notify_one();
        }
        Ok(ephemeral_text(told))
    }

    /// The talk a question or list is for: the one named, else the one whose thread this
    /// is, else the one running (or next) in the room whose reminder channel this is.
    async fn talk_of(
        &self,
        programme: &Programme,
        guild: u64,
        channel: u64,
        typed: Option<&str>,
        now: chrono::DateTime<Utc>,
    ) -> anyhow::Result<Option<TalkId>> {
        if let Some(typed) = typed {
            return Ok(questions::talk_named(programme, typed, now));
        }
        let conference = self.conference_id(programme).await?;
        if let Some((of, talk)) =
            store::questions::talk_of_thread(&self.pool, guild, channel).await?
        {
            if of == conference {
                return Ok(Some(talk));
            }
        }
        let plan = match store::subscriptions::channel_plan(&self.pool, conference).await? {
            Some(stored) => stored,
            None => self.reminders.plan_or_empty(&programme.conference.slug),
        };
        Ok(questions::talk_in_channel(programme, &plan, channel, now))
    }

    async fn chair_list(
        &self,
        interaction: &CommandInteraction,
        guild: u64,
        talk: Option<&str>,
    ) -> anyhow::Result<Reply> {
        let programme = match self.programme(interaction.guild_id).await {
            Ok(programme) => programme,
            Err(failure) => return Ok(failure.into_reply()),
        };
        let channel = interaction.channel_id.get();
        let Some(talk) = self
            .talk_of(&programme, guild, channel, talk, Utc::now())
            .await?
        else {
            return Ok(ephemeral_text(NO_TALK.replace("/ask", "/questions")));
        };
        Ok(crate::questions::list(&self.pool, &programme, guild, talk).await?)
    }

    /// Organisers, or members with the server's chair role (`/setup questions`).
    async fn authorize_chair(
        &self,
        interaction: &CommandInteraction,
        guild: u64,
    ) -> Result<(), Reply> {
        let member = interaction.member.as_deref();
        self.authorize_chair_member(guild, member, interaction.user.id.get(), "/questions")
            .await
    }

    async fn authorize_chair_member(
        &self,
        guild: u64,
        member: Option<&serenity::all::Member>,
        user: u64,
        command: &str,
    ) -> Result<(), Reply> {
        let chair_role = match self.settings(guild).await {
            Ok(effective) => effective.settings.questions.chair_role,
            Err(error) => {
                let error = anyhow::Error::from(error);
                tracing::error!(user, guild, "reading the chair role failed: {error:#}");
                return Err(ephemeral_text(GENERIC_FAILURE));
            }
        };
        let chair = chair_role
            .is_some_and(|role| member.is_some_and(|m| m.roles.iter().any(|r| r.get() == role)));
        if chair {
            return Ok(());
        }
        let guild_id = Some(serenity::all::GuildId::new(guild));
        self.authorize(guild_id, member, user, command)
            .await
            .map(drop)
            .map_err(|_| {
                ephemeral_text(format!(
                    "Only this server's organisers and session chairs can use `{command}`."
                ))
            })
    }

    /// An Upvote click on a card: the vote toggled, answered privately.
    pub(super) async fn upvote(
        &self,
        ctx: &Ctx,
        interaction: &ComponentInteraction,
        id: QuestionId,
    ) {
        let user = interaction.user.id.get();
        let reply = match interaction.guild_id.map(|g| g.get()) {
            None => ephemeral_text("This button works in a server only."),
            Some(guild) => match store::questions::vote(&self.pool, guild, id, user, Utc::now())
                .await
            {
                Ok(Voted::Toggled { counted, votes }) => {
                    self.plan_changed.notify_one();
                    ephemeral_text(voted(counted, votes))
                }
                Ok(Voted::Closed) => ephemeral_text("This question was answered: no more votes."),
                Ok(Voted::Missing) => ephemeral_text("This question is no longer here."),
                Err(error) => {
                    let error = anyhow::Error::from(error);
                    tracing::error!(user, question = id.0, "a vote failed: {error:#}");
                    ephemeral_text(GENERIC_FAILURE)
                }
            },
        };
        answer_click(ctx, interaction, &reply, false).await;
    }

    /// Answered / Hide under a chair's list: recorded, and the list shown again.
    pub(super) async fn moderate(
        &self,
        ctx: &Ctx,
        interaction: &ComponentInteraction,
        id: QuestionId,
        decision: Moderation,
    ) {
        let user = interaction.user.id.get();
        let Some(guild) = interaction.guild_id.map(|g| g.get()) else {
            return answer_click(ctx, interaction, &ephemeral_text("Server only."), false).await;
        };
        let name = match decision {
            Moderation::Answered => "/questions Answered",
            Moderation::Hide => "/questions Hide",
        };
        if let Err(refusal) = self
            .authorize_chair_member(guild, interaction.member.as_ref(), user, name)
            .await
        {
            return answer_click(ctx, interaction, &refusal, false).await;
        }
        let done = async {
            let now = Utc::now();
            let talk =
                store::questions::moderate(&self.pool, guild, id, user, decision, now).await?;
            self.plan_changed.notify_one();
            let talk = match talk {
                Some(talk) => talk,
                None => match store::questions::talk_of_question(&self.pool, guild, id).await? {
                    Some(talk) => talk,
                    None => return Ok(ephemeral_text("This question is no longer here.")),
                },
            };
            let programme = match self.programme(interaction.guild_id).await {
                Ok(programme) => programme,
                Err(failure) => return Ok(failure.into_reply()),
            };
            Ok(crate::questions::list(&self.pool, &programme, guild, talk).await?)
        };
        let reply = done.await.unwrap_or_else(|error: anyhow::Error| {
            tracing::error!(
                user,
                question = id.0,
                "a chair's decision failed: {error:#}"
            );
            ephemeral_text(GENERIC_FAILURE)
        });
        answer_click(ctx, interaction, &reply, true).await;
    }
}

/// Answers a click: a private message, or (`update`) the clicked message replaced.
async fn answer_click(ctx: &Ctx, interaction: &ComponentInteraction, reply: &Reply, update: bool) {
    let (first, _) = split(reply);
    let private = reply.visibility == Visibility::Ephemeral;
    let response = if update {
        CreateInteractionResponse::UpdateMessage(render::response(&first, private))
    } else {
        CreateInteractionResponse::Message(render::response(&first, true))
    };
    if let Err(error) = ctx
        .respond(interaction.id, &interaction.token, response)
        .await
    {
        let error = anyhow::Error::from(error);
        tracing::error!("answering a question's button failed: {error:#}");
    }
}
