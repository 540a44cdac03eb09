//! `/status`: organisers' views of what confbot did in their server, against the store.
//! Each view is a subcommand (`/status audit` now; an overview joins it as another arm of
//! [`StatusCommand`], its reply in `domain::commands::status`). Every view goes through
//! [`Router::authorize`] first and reads only the server's own rows.

use serenity::all::CommandInteraction;

use crate::domain::commands::status::{self, StatusCommand, AUDIT_ENTRIES};
use crate::domain::commands::Reply;
use crate::store::{guilds, StoreError};

use super::interactions::{ephemeral_text, Router, GENERIC_FAILURE};

impl Router {
    /// The reply to `/status`.
    pub(super) async fn status(
        &self,
        interaction: &CommandInteraction,
        command: StatusCommand,
    ) -> Reply {
        let user = interaction.user.id.get();
        let guild = match self.authorize_command(interaction, command.name()).await {
            Ok(guild) => guild,
            Err(refusal) => return refusal,
        };
        let answer: Result<Reply, StoreError> = match command {
            StatusCommand::Audit => guilds::recent_audit(&self.pool, guild, AUDIT_ENTRIES)
                .await
                .map(|entries| status::audit(&entries)),
            StatusCommand::Overview => {
                let bot = interaction.app_permissions.map(|p| p.bits());
                self.overview(guild, bot).await
            }
        };
        answer.unwrap_or_else(|error| {
            let error = anyhow::Error::from(error);
            tracing::error!(user, guild, "/status failed: {error:#}");
            ephemeral_text(GENERIC_FAILURE)
        })
    }
}
