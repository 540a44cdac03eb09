//! Confirm and Cancel under a preview (of a new announcement or of an edit), and
//! `/announcements cancel`: each change checked against the stored status, written with
//! its audit entry in one transaction, and the planner woken.

use chrono::Utc;
use serde_json::json;
use serenity::all::ComponentInteraction;

use crate::domain::announcements::AnnouncementId;
use crate::domain::commands::announcements as replies;
use crate::domain::commands::ButtonAction;
use crate::store::announcements::{self as store, Status};
use crate::store::guilds;

use super::super::interactions::{ephemeral_text, Router, GENERIC_FAILURE};
use super::super::respond::Ctx;
use super::{audit_fields, message, Answer, STALE};

impl Router {
    /// Confirm / Cancel under a preview.
    pub(in crate::discord) async fn announcement_button(
        &self,
        ctx: &Ctx,
        interaction: &ComponentInteraction,
        action: ButtonAction,
    ) {
        let user = interaction.user.id.get();
        let reply = match self.clicked(interaction, action).await {
            Ok(reply) => reply,
            Err(error) => {
                tracing::error!(user, "an announcement button failed: {error:#}");
                ephemeral_text(GENERIC_FAILURE)
            }
        };
        if let Err(error) = ctx
            .respond(interaction.id, &interaction.token, message(&reply))
            .await
        {
            let error = anyhow::Error::from(error);
            tracing::error!(user, "answering an announcement button failed: {error:#}");
        }
    }

    async fn clicked(&self, interaction: &ComponentInteraction, action: ButtonAction) -> Answer {
        let user = interaction.user.id.get();
        // As the audit of a refusal names it.
        let name = match action {
            ButtonAction::ConfirmAnnouncement(_) | ButtonAction::ConfirmEdit { .. } => {
                "/announce Confirm"
            }
            _ => "/announce Cancel",
        };
        let guild = match self
            .authorize(
                interaction.guild_id,
                interaction.member.as_ref(),
                user,
                name,
            )
            .await
        {
            Ok(guild) => guild,
            Err(refusal) => return Ok(refusal),
        };
        match action {
            ButtonAction::ConfirmAnnouncement(id) => self.confirm(guild, user, id).await,
            ButtonAction::CancelAnnouncement(id) => self.cancel(guild, user, id).await,
            ButtonAction::ConfirmEdit {
                announcement,
                draft,
            } => self.confirm_edit(guild, user, announcement, draft).await,
            ButtonAction::DiscardEdit {
                announcement,
                draft,
            } => {
                let discarded = store::cancel(&self.pool, guild, draft).await?;
                Ok(if discarded {
                    replies::edit_discarded(announcement)
                } else {
                    replies::edit_already_done(announcement)
                })
            }
            ButtonAction::RemindMe(_)
            | ButtonAction::Upvote(_)
            | ButtonAction::Moderate(..)
            | ButtonAction::ForgetMe
            | ButtonAction::KeepMyData
            | ButtonAction::ApplySchedule(_)
            | ButtonAction::KeepProgramme => Ok(ephemeral_text(STALE)),
        }
    }

    /// Schedules a draft. `schedule` only moves a draft, so of two clicks (or processes)
    /// exactly one confirms; the other is told it is already scheduled.
    async fn confirm(&self, guild: u64, user: u64, id: AnnouncementId) -> Answer {
        let mut tx = self.pool.begin().await?;
        let Some(stored) = store::get(&mut *tx, guild, id).await? else {
            return Ok(replies::not_found(id));
        };
        let now = Utc::now();
        match stored.status {
            Status::Draft => {}
            Status::Scheduled => return Ok(replies::already_scheduled(id)),
            Status::Cancelled => return Ok(replies::already_cancelled(id)),
        }
        if stored.announcement.text.is_empty() {
            return Ok(replies::not_found(id));
        }
        if !replies::has_future(&stored.announcement, now) {
            return Ok(replies::time_passed(id));
        }
        if !store::schedule(&mut *tx, guild, id).await? {
            return Ok(replies::already_scheduled(id));
        }
        let before = json!({"id": id.0, "status": "draft"});
        let after = audit_fields(&stored.announcement, "scheduled");
        guilds::append(
            &mut *tx,
            guild,
            user,
            "announce confirm",
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user, guild, announcement = id.0, "announcement scheduled");
        // The table's trigger notifies every planner too; this one need not wait for it.
        self.plan_changed.notify_one();
        Ok(replies::scheduled(&stored.announcement, now))
    }

    /// Cancels a draft or a scheduled announcement; its pending posts are retired by the
    /// replan this wakes.
    pub(super) async fn cancel(&self, guild: u64, user: u64, id: AnnouncementId) -> Answer {
        let mut tx = self.pool.begin().await?;
        let Some(stored) = store::get(&mut *tx, guild, id).await? else {
            return Ok(replies::not_found(id));
        };
        let status = match stored.status {
            Status::Cancelled => return Ok(replies::already_cancelled_nothing_changed(id)),
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
        };
        if !store::cancel(&mut *tx, guild, id).await? {
            return Ok(replies::already_cancelled_nothing_changed(id));
        }
        let before = json!({"id": id.0, "status": status});
        let after = json!({"id": id.0, "status": "cancelled"});
        guilds::append(
            &mut *tx,
            guild,
            user,
            "announce cancel",
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user, guild, announcement = id.0, "announcement cancelled");
        self.plan_changed.notify_one();
        Ok(replies::cancelled(id, status == "scheduled"))
    }

    /// Applies an edit: the draft's text becomes the announcement's (pending posts take it
    /// at the replan), and the draft is retired, in one transaction.
    async fn confirm_edit(
        &self,
        guild: u64,
        user: u64,
        id: AnnouncementId,
        draft: AnnouncementId,
    ) -> Answer {
        let mut tx = self.pool.begin().await?;
        let (Some(stored), Some(edit)) = (
            store::get(&mut *tx, guild, id).await?,
            store::get(&mut *tx, guild, draft).await?,
        ) else {
            return Ok(replies::not_found(id));
        };
        if stored.status != Status::Scheduled {
            return Ok(replies::not_editable(id));
        }
        // `cancel` takes the draft's row lock: of two clicks one applies the edit.
        if edit.status != Status::Draft || !store::cancel(&mut *tx, guild, draft).await? {
            return Ok(replies::edit_already_done(id));
        }
        let text = &edit.announcement.text;
        if !store::set_text(&mut *tx, guild, id, text).await? {
            return Ok(replies::not_editable(id));
        }
        let before = json!({"id": id.0, "text": stored.announcement.text});
        let after = json!({"id": id.0, "text": text});
        guilds::append(
            &mut *tx,
            guild,
            user,
            "announce edit",
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user, guild, announcement = id.0, "announcement text edited");
        self.plan_changed.notify_one();
        let mut announcement = stored.announcement;
        announcement.text.clone_from(text);
        Ok(replies::edited(&announcement, Utc::now()))
    }
}
