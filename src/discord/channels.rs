//! `/channel`: the organisers' room → reminder channel map, against the store. Checked by
//! the shared organiser check ([`Router::authorize`]); the channel must be one of this
//! server's where the bot can post (the same check as `/setup channel`); the change and
//! its audit entry are stored in one transaction.
//!
//! The map belongs to the conference, and several servers may follow one conference: the
//! first server to set it manages it (`store::guilds::claim_channel_plan`), so another
//! server cannot redirect its reminders.

use serde_json::{json, Value};
use serenity::all::CommandInteraction;

use crate::domain::commands::channels;
use crate::domain::commands::Reply;
use crate::domain::programme::Programme;
use crate::domain::reminders::ChannelPlan;
use crate::store::guilds;
use crate::store::subscriptions as store;

use super::interactions::{ephemeral_text, Router, GENERIC_FAILURE};
use super::respond::Ctx;

impl Router {
    /// The reply to `/channel channel [room]`.
    pub(super) async fn channel(
        &self,
        ctx: &Ctx,
        interaction: &CommandInteraction,
        channel: u64,
        room: Option<String>,
    ) -> Reply {
        let user = interaction.user.id.get();
        let member = interaction.member.as_deref();
        let guild = match self
            .authorize(interaction.guild_id, member, user, "/channel")
            .await
        {
            Ok(guild) => guild,
            Err(refusal) => return refusal,
        };
        let programme = match self.programme(interaction.guild_id).await {
            Ok(programme) => programme,
            Err(failure) => return failure.into_reply(),
        };
        // Discord sends the channel's name in the `resolved` block.
        let name = interaction
            .data
            .resolved
            .channels
            .iter()
            .find(|(id, _)| id.get() == channel)
            .and_then(|(_, resolved)| resolved.name.clone());
        let answer = match self.usable_channel(ctx, interaction, guild, channel).await {
            Ok(Ok(())) => {
                self.set_channel(
                    &programme,
                    guild,
                    user,
                    channel,
                    room.as_deref(),
                    name.as_deref(),
                )
                .await
            }
            Ok(Err(reply)) => Ok(reply),
            Err(error) => Err(error),
        };
        answer.unwrap_or_else(|error| {
            tracing::error!(user, guild, "/channel failed: {error:#}");
            ephemeral_text(GENERIC_FAILURE)
        })
    }

    /// Sets a room's (or the default) reminder channel, starting from the stored plan, else
    /// the configured one, else an empty plan with the configured channel lead.
    async fn set_channel(
        &self,
        programme: &Programme,
        guild: u64,
        user: u64,
        channel: u64,
        room: Option<&str>,
        channel_name: Option<&str>,
    ) -> anyhow::Result<Reply> {
        let conference = self.conference_id(programme).await?;
        let mut tx = self.pool.begin().await?;
        if guilds::claim_channel_plan(&mut tx, conference, guild)
            .await?
            .is_some()
        {
            tracing::warn!(
                user,
                guild,
                conference,
                "refused /channel: another server manages it"
            );
            return Ok(channels::managed_by_another_server());
        }
        let stored = store::channel_plan(&mut *tx, conference).await?;
        let base = match &stored {
            Some(plan) => plan.clone(),
            None => self.reminders.plan_or_empty(&programme.conference.slug),
        };
        let before = audit_fields(stored.as_ref());
        let plan = match channels::with_channel(programme, base, room, channel, channel_name) {
            Ok(plan) => plan,
            Err(reply) => return Ok(reply),
        };
        // Rooms of the stored or configured plan the store does not know (a typo in the
        // configuration) stop the change rather than dropping their reminders silently.
        let unknown = store::set_channel_plan(&mut tx, conference, &plan).await?;
        if !unknown.is_empty() {
            return Ok(channels::unknown_rooms(programme, &unknown));
        }
        let after = audit_fields(Some(&plan));
        guilds::append(
            &mut *tx,
            guild,
            user,
            "channel",
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user, guild, channel, room, "reminder channel set");
        self.plan_changed.notify_one();
        Ok(channels::channel_plan(programme, &plan))
    }
}

/// The map as the audit log keeps it: room → channel id, and the default channel.
fn audit_fields(plan: Option<&ChannelPlan>) -> Value {
    let rooms: serde_json::Map<String, Value> = plan
        .map(|plan| {
            plan.by_room
                .iter()
                .map(|(room, channel)| (room.clone(), json!(channel.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let default = plan
        .and_then(|plan| plan.default)
        .map(|channel| channel.to_string());
    json!({"room_channels": rooms, "default_channel": default})
}
