//! `/forget` and its Forget me / Keep my data buttons: the store counts and deletes, the
//! pure replies come from `domain::commands::privacy`. Anyone may forget themselves; the
//! clicker of a button is always the person whose data goes (the preview is private, and a
//! click by anyone else would only ever delete the clicker's own data).

use serenity::all::{CommandInteraction, ComponentInteraction, CreateInteractionResponse, GuildId};

use crate::domain::commands::privacy as replies;
use crate::domain::commands::{ButtonAction, Reply};
use crate::domain::privacy::ForgetScope;
use crate::store::{conferences, privacy as store};

use super::interactions::{ephemeral_text, split, Router, GENERIC_FAILURE};
use super::render;
use super::respond::Ctx;

impl Router {
    /// `/forget`: what would be deleted, and the buttons to confirm.
    pub(super) async fn forget(&self, interaction: &CommandInteraction) -> Reply {
        let user = interaction.user.id.get();
        let answer = async {
            let scope = self.forget_scope(interaction.guild_id).await?;
            let held = store::holdings(&self.pool, user, scope, chrono::Utc::now()).await?;
            anyhow::Ok(replies::preview(scope, &held))
        };
        answer.await.unwrap_or_else(|error| {
            tracing::error!(user, "counting a user's data for /forget failed: {error:#}");
            ephemeral_text(GENERIC_FAILURE)
        })
    }

    /// Forget me / Keep my data under the preview.
    pub(super) async fn forget_button(
        &self,
        ctx: &Ctx,
        interaction: &ComponentInteraction,
        action: ButtonAction,
    ) {
        let user = interaction.user.id.get();
        let reply = match action {
            ButtonAction::ForgetMe => {
                let forgotten = async {
                    let scope = self.forget_scope(interaction.guild_id).await?;
                    let deleted =
                        store::forget(&self.pool, user, scope, chrono::Utc::now()).await?;
                    // Never the user id: the point is to forget it.
                    tracing::info!(
                        guild = interaction.guild_id.map(GuildId::get),
                        subscriptions = deleted.subscriptions,
                        lead_times = deleted.lead_times,
                        direct_messages = deleted.direct_messages,
                        organiser_records = deleted.organiser_records,
                        calendar_links = deleted.calendar_links,
                        "a user's data was deleted at their request"
                    );
                    anyhow::Ok(replies::forgotten(scope, &deleted))
                };
                let reply = forgotten.await.unwrap_or_else(|error| {
                    tracing::error!("deleting a user's data failed: {error:#}");
                    ephemeral_text(GENERIC_FAILURE)
                });
                // Their reminders are gone from the plan: the planner retires them now.
                self.plan_changed.notify_one();
                reply
            }
            _ => replies::kept(),
        };
        let (first, _) = split(&reply);
        let response = CreateInteractionResponse::Message(render::response(&first, true));
        if let Err(error) = ctx
            .respond(interaction.id, &interaction.token, response)
            .await
        {
            let error = anyhow::Error::from(error);
            tracing::error!("answering a /forget button failed: {error:#}");
        }
    }

    /// In a server: that server and the conference it follows; in a DM: everywhere.
    async fn forget_scope(&self, guild: Option<GuildId>) -> anyhow::Result<ForgetScope> {
        let Some(guild) = guild else {
            return Ok(ForgetScope::Everywhere);
        };
        let slug = self.settings(guild.get()).await?.settings.conference;
        let conference = match slug {
            Some(slug) => conferences::find(&mut *self.pool.acquire().await?, &slug)
                .await?
                .map(|row| row.id),
            None => None,
        };
        Ok(ForgetScope::Server {
            guild: guild.get(),
            conference,
        })
    }
}
