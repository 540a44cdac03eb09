//! Sending a command's reply: the first message as the interaction's response (or as the
//! completion of a deferred one), the rest as follow-ups, never more public than deferred.

use serenity::all::{CommandInteraction, CreateInteractionResponse};

use super::super::render;
use super::super::respond::Ctx;
use super::GENERIC_FAILURE;
use crate::domain::commands::{Message, Reply, Visibility};

/// Sends a ready reply: the first message as the response, the rest as follow-ups.
pub(super) async fn send(
    ctx: &Ctx,
    interaction: &CommandInteraction,
    reply: &Reply,
) -> anyhow::Result<()> {
    let ephemeral = reply.visibility == Visibility::Ephemeral;
    let (first, rest) = split(reply);
    let response = CreateInteractionResponse::Message(render::response(&first, ephemeral));
    ctx.respond(interaction.id, &interaction.token, response)
        .await?;
    followups(ctx, interaction, rest, ephemeral).await
}

/// Completes a deferred response with the reply. A private reply to a publicly deferred
/// command (typically an error to `/talk`) must not end up public: the placeholder is deleted
/// and the reply sent as private follow-ups instead.
pub(super) async fn complete_deferred(
    ctx: &Ctx,
    interaction: &CommandInteraction,
    reply: &Reply,
    deferred_public: bool,
) -> anyhow::Result<()> {
    let (http, budget) = (&*ctx.http, &ctx.rest);
    let reply_ephemeral = reply.visibility == Visibility::Ephemeral;
    let (first, rest) = split(reply);
    if deferred_public && reply_ephemeral {
        budget.noted(interaction.delete_response(http)).await?;
        let first = render::followup(&first, true);
        budget
            .noted(interaction.create_followup(http, first))
            .await?;
    } else {
        budget
            .noted(interaction.edit_response(http, render::edit(&first)))
            .await?;
    }
    // After a private deferral everything stays private, whatever the reply asked for.
    followups(ctx, interaction, rest, reply_ephemeral || !deferred_public).await
}

async fn followups(
    ctx: &Ctx,
    interaction: &CommandInteraction,
    messages: &[Message],
    ephemeral: bool,
) -> anyhow::Result<()> {
    for message in messages {
        let followup = interaction.create_followup(&ctx.http, render::followup(message, ephemeral));
        ctx.rest.noted(followup).await?;
    }
    Ok(())
}

/// The first message and the rest. A reply without messages would leave the user with
/// silence: it becomes the generic failure text (and a log line).
pub(in crate::discord) fn split(reply: &Reply) -> (Message, &[Message]) {
    match reply.messages.split_first() {
        Some((first, rest)) => (first.clone(), rest),
        None => {
            tracing::error!("the command logic returned a reply without messages");
            (
                Message {
                    content: GENERIC_FAILURE.to_owned(),
                    ..Message::default()
                },
                &[],
            )
        }
    }
}
