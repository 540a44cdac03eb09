//! The reminder commands (`/subscribe`, `/unsubscribe`, `/mytalks`, `/remind`; `/channel`
//! is routed on to `super::channels`) and the "Remind me" button: store reads and writes
//! around the pure logic of [`crate::domain::commands::subscriptions`], which builds every
//! reply.
//!
//! A subscription added or removed, or a lead time set, replans the user's DMs in the
//! transaction of the change (`jobs::planner::UserPlanning`: one user's talks, not the
//! conference), then notifies [`Router::plan_changed`] so the delivery loop looks at what
//! it queued. A store failure is logged with its causes; the user gets the generic text.

use serenity::all::{
    CommandInteraction, ComponentInteraction, CreateInteractionResponse,
    CreateInteractionResponseMessage, GuildId,
};

use crate::domain::commands::subscriptions::{
    self, CalendarLink, ReminderCommand, Resolved, TargetQuery,
};
use crate::domain::commands::Reply;
use crate::domain::feeds::{personal_urls, FeedToken};
use crate::domain::model::TalkId;
use crate::domain::programme::Programme;
use crate::domain::reminders::{LeadTime, SubscriptionTarget};
use crate::store::subscriptions::{self as store, SubscriptionRef};
use crate::store::StoreError;
use crate::store::{conferences, feeds};

use super::interactions::{ephemeral_text, split, Router, GENERIC_FAILURE};
use super::render;
use super::respond::Ctx;

/// Who is asking, and where.
#[derive(Debug, Clone, Copy)]
struct Asker {
    /// `None` in a direct message.
    guild: Option<GuildId>,
    user: u64,
}

impl Router {
    /// The reply to a reminder command.
    pub(super) async fn reminders(
        &self,
        ctx: &Ctx,
        interaction: &CommandInteraction,
        command: ReminderCommand,
    ) -> Reply {
        let asker = Asker {
            guild: interaction.guild_id,
            user: interaction.user.id.get(),
        };
        if let ReminderCommand::Channel { channel, room } = command {
            return self.channel(ctx, interaction, channel, room).await;
        }
        let programme = match self.programme(asker.guild).await {
            Ok(programme) => programme,
            Err(failure) => return failure.into_reply(),
        };
        let answer = match command {
            ReminderCommand::Subscribe(query) => {
                match subscriptions::resolve(&programme, &query, &[]) {
                    Ok(target) => self.subscribe(&programme, asker, target).await,
                    Err(reply) => Ok(reply),
                }
            }
            ReminderCommand::Unsubscribe(query) => {
                self.unsubscribe(&programme, asker, &query).await
            }
            ReminderCommand::MyTalks { reset_link } => {
                self.my_talks(&programme, asker, reset_link).await
            }
            ReminderCommand::Remind { lead } => self.remind(&programme, asker, lead).await,
            // Answered above, after the organiser check.
            ReminderCommand::Channel { .. } => Ok(ephemeral_text(GENERIC_FAILURE)),
        };
        answer.unwrap_or_else(|error| {
            let error = anyhow::Error::from(error);
            tracing::error!(user = asker.user, "a reminder command failed: {error:#}");
            ephemeral_text(GENERIC_FAILURE)
        })
    }

    /// A "Remind me" click: subscribes the clicker to the talk and confirms privately. Like
    /// a command, the answer is deferred when the store is slow.
    pub(super) async fn remind_me(
        &self,
        ctx: &Ctx,
        interaction: &ComponentInteraction,
        talk: TalkId,
    ) {
        let work = self.remind_me_reply(interaction, talk);
        tokio::pin!(work);
        let sent = match tokio::time::timeout_at(ctx.defer_at(self.defer_after), &mut work).await {
            Ok(reply) => {
                let (first, _) = split(&reply);
                let response = CreateInteractionResponse::Message(render::response(&first, true));
                ctx.respond(interaction.id, &interaction.token, response)
                    .await
            }
            Err(_elapsed) => {
                tracing::info!(after = ?self.defer_after, "button answer not ready: deferring");
                let deferred = CreateInteractionResponse::Defer(
                    CreateInteractionResponseMessage::new().ephemeral(true),
                );
                match ctx
                    .respond(interaction.id, &interaction.token, deferred)
                    .await
                {
                    Ok(()) => {
                        let reply = work.await;
                        let (first, _) = split(&reply);
                        let edit = interaction.edit_response(&ctx.http, render::edit(&first));
                        ctx.rest.noted(edit).await.map(drop)
                    }
                    Err(error) => Err(error),
                }
            }
        };
        if let Err(error) = sent {
            let error = anyhow::Error::from(error);
            tracing::error!("answering the button failed: {error:#}");
        }
    }

    async fn remind_me_reply(&self, interaction: &ComponentInteraction, talk: TalkId) -> Reply {
        let asker = Asker {
            guild: interaction.guild_id,
            user: interaction.user.id.get(),
        };
        let programme = match self.programme(asker.guild).await {
            Ok(programme) => programme,
            Err(failure) => return failure.into_reply(),
        };
        // A card from before a re-import (or from another conference) may name a talk this
        // programme does not have.
        let Some(talk) = programme.talks.iter().find(|t| t.id == talk) else {
            return subscriptions::talk_gone();
        };
        self.subscribe(&programme, asker, Resolved::Talk(talk))
            .await
            .unwrap_or_else(|error| {
                let error = anyhow::Error::from(error);
                tracing::error!(
                    user = asker.user,
                    "subscribing from a button failed: {error:#}"
                );
                ephemeral_text(GENERIC_FAILURE)
            })
    }

    async fn subscribe(
        &self,
        programme: &Programme,
        asker: Asker,
        target: Resolved<'_>,
    ) -> Result<Reply, StoreError> {
        let now = chrono::Utc::now();
        // Nothing can come of a talk that is over: refused before anything is stored.
        if let Some(reply) = subscriptions::over(&target, now) {
            return Ok(reply);
        }
        let conference = self.conference_id(programme).await?;
        let Some(reference) = self.reference(conference, &target).await? else {
            return Ok(gone(&target));
        };
        let guild = asker.guild.map(GuildId::get);
        let slug = &programme.conference.slug;
        let mut change = self.planning.begin(conference, slug, asker.user).await?;
        let added =
            store::subscribe(change.conn(), conference, guild, asker.user, reference).await?;
        let planned = if added { change.plan(now).await? } else { None };
        change.commit().await?;
        if added {
            self.plan_changed.notify_one();
        }
        // The answer's lead time and overlaps: as planned in the transaction, else read.
        let (lead, mine) = match planned {
            Some(planned) => {
                let mine = planned.subscriptions.into_iter().map(|s| s.target);
                (planned.lead, talk_ids(mine))
            }
            None => {
                let mine = store::of_user(&self.pool, conference, asker.user).await?;
                let lead = self.lead_of(conference, asker.user).await?.0;
                (lead, talk_ids(mine.into_iter().map(|s| s.target)))
            }
        };
        let overlapping = match target {
            Resolved::Talk(talk) => subscriptions::overlaps(programme, talk, &mine),
            Resolved::Room(_) | Resolved::Track(_) => Vec::new(),
        };
        Ok(subscriptions::subscribed(
            &target,
            lead,
            added,
            &overlapping,
            now,
        ))
    }

    async fn unsubscribe(
        &self,
        programme: &Programme,
        asker: Asker,
        query: &TargetQuery,
    ) -> Result<Reply, StoreError> {
        let conference = self.conference_id(programme).await?;
        let mine = store::of_user(&self.pool, conference, asker.user).await?;
        let mine = talk_ids(mine.into_iter().map(|s| s.target));
        let target = match subscriptions::resolve(programme, query, &mine) {
            Ok(target) => target,
            Err(reply) => return Ok(reply),
        };
        let existed = match self.reference(conference, &target).await? {
            Some(reference) => {
                self.unsubscribe_planned(programme, conference, asker.user, reference)
                    .await?
            }
            None => false,
        };
        if existed {
            self.plan_changed.notify_one();
        }
        Ok(subscriptions::unsubscribed(&target, existed))
    }

    async fn my_talks(
        &self,
        programme: &Programme,
        asker: Asker,
        reset_link: bool,
    ) -> Result<Reply, StoreError> {
        let conference = self.conference_id(programme).await?;
        let mine = store::of_user(&self.pool, conference, asker.user).await?;
        let targets: Vec<SubscriptionTarget> = mine.into_iter().map(|s| s.target).collect();
        let lead = self.lead_of(conference, asker.user).await?.0;
        let now = chrono::Utc::now();
        let guild = asker.guild.map(GuildId::get);
        // A reset revokes the link even where none is shown: `/cal/` may be served anyway.
        let token = if reset_link {
            let fresh = fresh_token()?;
            Some(feeds::reset(&self.pool, conference, asker.user, guild, &fresh, now).await?)
        } else if self.public_url.is_some() && !targets.is_empty() {
            let fresh = fresh_token()?;
            Some(feeds::token_of(&self.pool, conference, asker.user, guild, &fresh, now).await?)
        } else {
            None
        };
        let link = token.map(|token| CalendarLink {
            urls: self
                .public_url
                .as_ref()
                .map(|base| personal_urls(base.as_str(), &token)),
            reset: reset_link,
        });
        Ok(subscriptions::my_talks(
            programme,
            &targets,
            lead,
            now,
            link.as_ref(),
        ))
    }

    async fn remind(
        &self,
        programme: &Programme,
        asker: Asker,
        lead: Option<LeadTime>,
    ) -> Result<Reply, StoreError> {
        let conference = self.conference_id(programme).await?;
        match lead {
            Some(lead) => {
                let slug = &programme.conference.slug;
                let mut change = self.planning.begin(conference, slug, asker.user).await?;
                store::set_lead(change.conn(), conference, asker.user, lead).await?;
                change.plan(chrono::Utc::now()).await?;
                change.commit().await?;
                self.plan_changed.notify_one();
                Ok(subscriptions::lead_set(lead))
            }
            None => {
                let (lead, own) = self.lead_of(conference, asker.user).await?;
                Ok(subscriptions::lead_shown(lead, own))
            }
        }
    }

    /// The store id of the snapshot's conference: the command cache's, which loaded it, else
    /// the store's. The snapshot was loaded from a stored conference and conferences are
    /// never deleted, so a missing one is an internal error.
    pub(super) async fn conference_id(&self, programme: &Programme) -> Result<i64, StoreError> {
        let slug = &programme.conference.slug;
        if let Some(id) = self.cache.conference_id(slug) {
            return Ok(id);
        }
        let mut conn = self.pool.acquire().await?;
        conferences::find(&mut conn, slug)
            .await?
            .map(|row| row.id)
            .ok_or_else(|| StoreError::Invalid(format!("conference {slug} is not stored")))
    }

    /// Removes a subscription and replans the user's DMs, in one transaction. Returns
    /// whether there was one.
    async fn unsubscribe_planned(
        &self,
        programme: &Programme,
        conference: i64,
        user: u64,
        reference: SubscriptionRef,
    ) -> Result<bool, StoreError> {
        let slug = &programme.conference.slug;
        let mut change = self.planning.begin(conference, slug, user).await?;
        let existed = store::unsubscribe(change.conn(), conference, user, reference).await?;
        if existed {
            change.plan(chrono::Utc::now()).await?;
        }
        change.commit().await?;
        Ok(existed)
    }

    /// The store id of a target; `None` when a re-import removed its room or track since
    /// the snapshot was taken.
    async fn reference(
        &self,
        conference: i64,
        target: &Resolved<'_>,
    ) -> Result<Option<SubscriptionRef>, StoreError> {
        Ok(match target {
            Resolved::Talk(talk) => Some(SubscriptionRef::Talk(talk.id)),
            Resolved::Room(room) => store::room_id(&self.pool, conference, room)
                .await?
                .map(SubscriptionRef::Room),
            Resolved::Track(track) => store::track_id(&self.pool, conference, track)
                .await?
                .map(SubscriptionRef::Track),
        })
    }

    /// The user's lead time and whether they chose it (else the conference's `/setup lead`,
    /// else `defaults.lead_minutes`: the planner's rule).
    async fn lead_of(&self, conference: i64, user: u64) -> Result<(LeadTime, bool), StoreError> {
        Ok(
            match store::lead_and_default(&self.pool, conference, user).await? {
                (Some(lead), _) => (lead, true),
                (None, set) => (set.unwrap_or(self.default_lead), false),
            },
        )
    }
}

/// A new calendar token from the operating system's random source.
fn fresh_token() -> Result<FeedToken, StoreError> {
    let mut bytes = [0; FeedToken::BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|error| StoreError::Invalid(format!("no randomness for a token: {error}")))?;
    Ok(FeedToken::from_random(bytes))
}

fn talk_ids(mine: impl IntoIterator<Item = SubscriptionTarget>) -> Vec<TalkId> {
    mine.into_iter()
        .filter_map(|target| match target {
            SubscriptionTarget::Talk(id) => Some(id),
            SubscriptionTarget::Room(_) | SubscriptionTarget::Track(_) => None,
        })
        .collect()
}

/// A room or track that vanished between the snapshot and the store.
fn gone(target: &Resolved<'_>) -> Reply {
    let what = match target {
        Resolved::Talk(_) => "That talk",
        Resolved::Room(_) => "That room",
        Resolved::Track(_) => "That track",
    };
    ephemeral_text(format!(
        "{what} is no longer in the programme: try again in a moment."
    ))
}
