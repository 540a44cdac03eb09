//! `/announce`, `/announcements`, the text modal and the Confirm / Cancel buttons, against
//! the store. Every entry point runs the shared organiser check ([`Router::authorize`])
//! first; every change is written with its audit entry in one transaction; every reply
//! comes from [`crate::domain::commands::announcements`].
//!
//! The flow: `/announce` checks its options and the channel, stores a draft (empty text) and
//! answers with a modal whose `custom_id` names the draft; the modal's submit stores the
//! text and answers with a preview; Confirm schedules the draft (the planner then puts its
//! posts into the reminder outbox). An edit keeps the new text in a second draft until its
//! Confirm, so the announcement never posts a text nobody confirmed.

use chrono::Utc;
use serde_json::{json, Value};
use serenity::all::{
    ActionRowComponent, CommandInteraction, CreateActionRow, CreateInputText,
    CreateInteractionResponse, CreateModal, InputTextStyle, ModalInteraction,
};

use crate::domain::announcements::{Announcement, AnnouncementId, Ping, MAX_TEXT};
use crate::domain::commands::announcements::{self as replies, AnnounceCommand};
use crate::domain::commands::{Reply, Visibility};
use crate::store::announcements::{self as store, NewAnnouncement, Status, StoredAnnouncement};
use crate::store::guilds;

use super::interactions::{ephemeral_text, split, Router, GENERIC_FAILURE};
use super::render;
use super::respond::Ctx;

/// The modal `custom_id`s: a new draft's text, or an edit of a scheduled announcement.
const NEW_MODAL: &str = "announce:";
const EDIT_MODAL: &str = "announce-edit:";
/// The modal's text input.
const TEXT_INPUT: &str = "text";

mod buttons;

/// Internal failures, logged with their causes; the organiser gets the generic text.
type Answer = anyhow::Result<Reply>;

impl Router {
    /// `/announce` and `/announcements edit`: the first response is the text modal (a modal
    /// cannot follow a deferral, so this runs without one: a few quick queries and, for a
    /// new announcement, the channel check), or the reason there is none.
    pub(super) async fn announce_modal(
        &self,
        ctx: &Ctx,
        interaction: &CommandInteraction,
        command: AnnounceCommand,
    ) {
        let user = interaction.user.id.get();
        let response = match self.open_modal(ctx, interaction, command).await {
            Ok(Ok(modal)) => CreateInteractionResponse::Modal(modal),
            Ok(Err(reply)) => message(&reply),
            Err(error) => {
                tracing::error!(user, "/announce failed: {error:#}");
                message(&ephemeral_text(GENERIC_FAILURE))
            }
        };
        if let Err(error) = ctx
            .respond(interaction.id, &interaction.token, response)
            .await
        {
            let error = anyhow::Error::from(error);
            tracing::error!(user, "answering /announce failed: {error:#}");
        }
    }

    async fn open_modal(
        &self,
        ctx: &Ctx,
        interaction: &CommandInteraction,
        command: AnnounceCommand,
    ) -> anyhow::Result<Result<CreateModal, Reply>> {
        let user = interaction.user.id.get();
        let member = interaction.member.as_deref();
        let guild = match self
            .authorize(interaction.guild_id, member, user, command.name())
            .await
        {
            Ok(guild) => guild,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let options = match command {
            AnnounceCommand::New(options) => options,
            AnnounceCommand::Edit(id) => {
                let Some(stored) = store::get(&self.pool, guild, id).await? else {
                    return Ok(Err(replies::not_found(id)));
                };
                if stored.status != Status::Scheduled
                    || !replies::has_future(&stored.announcement, Utc::now())
                {
                    return Ok(Err(replies::not_editable(id)));
                }
                let custom_id = format!("{EDIT_MODAL}{}", id.0);
                let text = &stored.announcement.text;
                return Ok(Ok(modal(custom_id, replies::modal_title(Some(id)), text)));
            }
            // Answered with messages, never routed here.
            AnnounceCommand::List | AnnounceCommand::Cancel(_) => {
                return Ok(Err(ephemeral_text(GENERIC_FAILURE)))
            }
        };
        let programme = match self.programme(interaction.guild_id).await {
            Ok(programme) => programme,
            Err(failure) => return Ok(Err(failure.into_reply())),
        };
        let settings = self.settings(guild).await?.settings;
        let zone = settings.time_zone.unwrap_or(programme.conference.time_zone);
        let planned = match replies::plan(
            &options,
            guild,
            settings.announcement_channel,
            zone,
            Utc::now(),
        ) {
            Ok(planned) => planned,
            Err(reply) => return Ok(Err(reply)),
        };
        if let Err(reply) = self
            .usable_channel(ctx, interaction, guild, planned.channel)
            .await?
        {
            return Ok(Err(reply));
        }
        let conference_id = self.conference_id(&programme).await?;
        let mut tx = self.pool.begin().await?;
        let new = NewAnnouncement {
            conference_id,
            guild_id: guild,
            created_by: user,
            channel: planned.channel,
            text: "",
            first: planned.first,
            repeat: planned.repeat.as_ref(),
            zone,
            ping: planned.ping,
        };
        let id = store::create_draft(&mut *tx, &new).await?;
        let after = audit_fields(&replies::announcement(id, &planned, "", zone), "draft");
        guilds::append(&mut *tx, guild, user, "announce create", None, Some(&after)).await?;
        tx.commit().await?;
        tracing::info!(
            user,
            guild,
            announcement = id.0,
            "announcement draft stored"
        );
        Ok(Ok(modal(
            format!("{NEW_MODAL}{}", id.0),
            replies::modal_title(None),
            "",
        )))
    }

    /// `/announcements list` and `/announcements cancel`: ordinary replies.
    pub(super) async fn announcements(
        &self,
        interaction: &CommandInteraction,
        command: AnnounceCommand,
    ) -> Reply {
        let user = interaction.user.id.get();
        let member = interaction.member.as_deref();
        let guild = match self
            .authorize(interaction.guild_id, member, user, command.name())
            .await
        {
            Ok(guild) => guild,
            Err(refusal) => return refusal,
        };
        let answer = match command {
            AnnounceCommand::List => store::scheduled_in_guild(&self.pool, guild)
                .await
                .map(|stored| {
                    let all: Vec<Announcement> =
                        stored.into_iter().map(|s| s.announcement).collect();
                    replies::list(&all, Utc::now())
                })
                .map_err(anyhow::Error::from),
            AnnounceCommand::Cancel(id) => self.cancel(guild, user, id).await,
            // Opened as modals, never routed here.
            AnnounceCommand::New(_) | AnnounceCommand::Edit(_) => {
                Ok(ephemeral_text(GENERIC_FAILURE))
            }
        };
        answer.unwrap_or_else(|error| {
            tracing::error!(user, guild, "/announcements failed: {error:#}");
            ephemeral_text(GENERIC_FAILURE)
        })
    }

    /// A submitted text modal: stores the text of a new draft (then the preview), or keeps
    /// an edit's text in a draft of its own (then the preview of the edit).
    #[tracing::instrument(skip_all, fields(custom_id = %interaction.data.custom_id))]
    pub async fn modal(&self, ctx: &Ctx, interaction: &ModalInteraction) {
        let user = interaction.user.id.get();
        let reply = match self.submitted(interaction).await {
            Ok(reply) => reply,
            Err(error) => {
                tracing::error!(user, "an announcement modal failed: {error:#}");
                ephemeral_text(GENERIC_FAILURE)
            }
        };
        if let Err(error) = ctx
            .respond(interaction.id, &interaction.token, message(&reply))
            .await
        {
            let error = anyhow::Error::from(error);
            tracing::error!(user, "answering an announcement modal failed: {error:#}");
        }
    }

    async fn submitted(&self, interaction: &ModalInteraction) -> Answer {
        let user = interaction.user.id.get();
        let custom_id = interaction.data.custom_id.as_str();
        let (editing, id) = match parse_modal_id(custom_id) {
            Some(found) => found,
            None => return Ok(ephemeral_text(STALE)),
        };
        let name = if editing {
            "/announcements edit"
        } else {
            "/announce"
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
        let text = match replies::check_text(&modal_text(interaction)) {
            Ok(text) => text,
            Err(reply) => return Ok(reply),
        };
        let Some(stored) = store::get(&self.pool, guild, id).await? else {
            return Ok(replies::not_found(id));
        };
        let now = Utc::now();
        if editing {
            if stored.status != Status::Scheduled {
                return Ok(replies::not_editable(id));
            }
            let draft = self.edit_draft(&stored, user, &text).await?;
            let mut edited = stored.announcement;
            edited.text = text;
            return Ok(replies::edit_preview(&edited, draft, now));
        }
        match stored.status {
            Status::Draft => {}
            Status::Scheduled => return Ok(replies::already_scheduled(id)),
            Status::Cancelled => return Ok(replies::already_cancelled(id)),
        }
        if !store::set_text(&self.pool, guild, id, &text).await? {
            return Ok(replies::not_found(id));
        }
        let mut announcement = stored.announcement;
        announcement.text = text;
        Ok(replies::preview(&announcement, now))
    }

    /// Stores an edit's text as a draft copy of the announcement (never planned: only
    /// scheduled announcements are), which the edit's Confirm applies.
    async fn edit_draft(
        &self,
        stored: &StoredAnnouncement,
        user: u64,
        text: &str,
    ) -> anyhow::Result<AnnouncementId> {
        let a = &stored.announcement;
        let new = NewAnnouncement {
            conference_id: stored.conference_id,
            guild_id: stored.guild_id,
            created_by: user,
            channel: a.channel,
            text,
            first: a.first,
            repeat: a.repeat.as_ref(),
            zone: a.zone,
            ping: a.ping,
        };
        Ok(store::create_draft(&self.pool, &new).await?)
    }
}

/// Shown for a modal or button confbot does not know (any more).
const STALE: &str = "This form no longer works: start again with `/announce`.";

/// The text modal: one paragraph input, up to [`MAX_TEXT`] characters, pre-filled when
/// editing.
fn modal(custom_id: String, title: String, text: &str) -> CreateModal {
    let max = u16::try_from(MAX_TEXT).unwrap_or(u16::MAX);
    let mut input = CreateInputText::new(InputTextStyle::Paragraph, "Text", TEXT_INPUT)
        .max_length(max)
        .required(true);
    if !text.is_empty() {
        input = input.value(text);
    }
    CreateModal::new(custom_id, title).components(vec![CreateActionRow::InputText(input)])
}

/// `(editing, id)` from a modal's `custom_id`.
fn parse_modal_id(custom_id: &str) -> Option<(bool, AnnouncementId)> {
    if let Some(id) = custom_id.strip_prefix(EDIT_MODAL) {
        return Some((true, AnnouncementId(id.parse().ok()?)));
    }
    let id = custom_id.strip_prefix(NEW_MODAL)?;
    Some((false, AnnouncementId(id.parse().ok()?)))
}

/// The submitted text (empty when the input is missing).
fn modal_text(interaction: &ModalInteraction) -> String {
    interaction
        .data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .find_map(|component| match component {
            ActionRowComponent::InputText(input) if input.custom_id == TEXT_INPUT => {
                input.value.clone()
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// A reply as a message response (its first message; these replies have one).
fn message(reply: &Reply) -> CreateInteractionResponse {
    let (first, _) = split(reply);
    let ephemeral = reply.visibility == Visibility::Ephemeral;
    CreateInteractionResponse::Message(render::response(&first, ephemeral))
}

/// An announcement as the audit log keeps it.
fn audit_fields(a: &Announcement, status: &str) -> Value {
    let ping = match a.ping {
        Ping::None => json!("none"),
        Ping::Role(role) => json!({"role": role.to_string()}),
        Ping::Everyone => json!("everyone"),
    };
    json!({
        "id": a.id.0,
        "status": status,
        "channel": a.channel.to_string(),
        "first": a.first.to_rfc3339(),
        "repeat": a.repeat.as_ref().map(|r| r.expression().to_owned()),
        "zone": a.zone.name(),
        "ping": ping,
        "text": a.text,
    })
}
