//! A [`Reply`]'s messages as serenity builders: the interaction response, follow-ups and the
//! edit that completes a deferred response.
//!
//! Every builder carries an empty `allowed_mentions`: text built from an imported schedule
//! may contain `@everyone` or `<@&role>`, and it must ping nobody. Discord applies the
//! setting per message, so follow-ups and edits need it as much as the first response.

use serenity::all::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton,
    CreateEmbed, CreateEmbedFooter, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, EditMessage, Nonce,
    RoleId,
};

use crate::domain::announcements::Ping;
use crate::domain::commands::{Button, ButtonAction, Embed, Message};
use crate::domain::model::Moderation;

/// Discord's limits on message components.
const BUTTONS_PER_ROW: usize = 5;
const ROWS_PER_MESSAGE: usize = 5;

mod custom_id;
pub use custom_id::{custom_id, parse_custom_id};

/// Mentions allowed in confbot's messages: none.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

/// What a delivered message may ping: nobody, unless an organiser chose a role or everyone
/// for an announcement (then exactly that, and still no users).
fn mentions_for(ping: Ping) -> CreateAllowedMentions {
    match ping {
        Ping::None => no_mentions(),
        Ping::Role(role) => match std::num::NonZeroU64::new(role) {
            Some(role) => no_mentions().roles([RoleId::from(role)]),
            None => no_mentions(),
        },
        Ping::Everyone => no_mentions().everyone(true),
    }
}

/// The first message as the interaction response.
pub fn response(message: &Message, ephemeral: bool) -> CreateInteractionResponseMessage {
    let parts = Parts::of(message);
    let mut builder = CreateInteractionResponseMessage::new()
        .embeds(parts.embeds)
        .components(parts.rows)
        .ephemeral(ephemeral)
        .allowed_mentions(no_mentions())
        .add_files(parts.files);
    if let Some(content) = parts.content {
        builder = builder.content(content);
    }
    builder
}

/// A further message, sent after the response.
pub fn followup(message: &Message, ephemeral: bool) -> CreateInteractionResponseFollowup {
    let parts = Parts::of(message);
    let mut builder = CreateInteractionResponseFollowup::new()
        .embeds(parts.embeds)
        .components(parts.rows)
        .ephemeral(ephemeral)
        .allowed_mentions(no_mentions())
        .add_files(parts.files);
    if let Some(content) = parts.content {
        builder = builder.content(content);
    }
    builder
}

/// The first message as the edit of a deferred response. The content is always set (to ""
/// when there is none) so the "thinking..." placeholder does not linger.
pub fn edit(message: &Message) -> EditInteractionResponse {
    let parts = Parts::of(message);
    let builder = EditInteractionResponse::new()
        .content(parts.content.unwrap_or_default())
        .embeds(parts.embeds)
        .components(parts.rows)
        .allowed_mentions(no_mentions());
    parts
        .files
        .into_iter()
        .fold(builder, EditInteractionResponse::new_attachment)
}

/// The new text of a message the delivery loop keeps up to date (a board's panel): content
/// and buttons replaced, nobody pinged.
pub fn edited_message(message: &Message) -> EditMessage {
    let parts = Parts::of(message);
    EditMessage::new()
        .content(parts.content.unwrap_or_default())
        .embeds(parts.embeds)
        .components(parts.rows)
        .allowed_mentions(no_mentions())
}

/// A message posted to a channel or DM by the delivery loop, with its outbox nonce and
/// `enforce_nonce`: Discord answers a repeat within a few minutes with the first message
/// instead of posting it twice.
pub fn channel_message(message: &Message, nonce: &str) -> CreateMessage {
    let parts = Parts::of(message);
    let mut builder = CreateMessage::new()
        .embeds(parts.embeds)
        .components(parts.rows)
        .allowed_mentions(mentions_for(message.ping))
        .nonce(Nonce::String(nonce.to_owned()))
        .enforce_nonce(true);
    if let Some(content) = parts.content {
        builder = builder.content(content);
    }
    builder
}

/// A message's pieces as serenity values.
struct Parts {
    /// `None` when empty: Discord rejects an empty `content` next to embeds in some routes.
    content: Option<String>,
    embeds: Vec<CreateEmbed>,
    rows: Vec<CreateActionRow>,
    /// Sent as `multipart/form-data` beside the JSON (`payload_json`).
    files: Vec<CreateAttachment>,
}

impl Parts {
    fn of(message: &Message) -> Self {
        Self {
            content: Some(message.content.clone()).filter(|content| !content.is_empty()),
            embeds: message.embeds.iter().map(embed).collect(),
            rows: rows(&message.buttons),
            files: message
                .attachments
                .iter()
                .map(|file| CreateAttachment::bytes(file.bytes.clone(), file.filename.clone()))
                .collect(),
        }
    }
}

fn embed(embed: &Embed) -> CreateEmbed {
    let mut builder = CreateEmbed::new().title(&embed.title);
    if let Some(url) = &embed.url {
        builder = builder.url(url);
    }
    if !embed.description.is_empty() {
        builder = builder.description(&embed.description);
    }
    builder = builder.fields(
        embed
            .fields
            .iter()
            .map(|field| (field.name.clone(), field.value.clone(), field.inline)),
    );
    if let Some(footer) = &embed.footer {
        builder = builder.footer(CreateEmbedFooter::new(footer));
    }
    builder
}

/// Buttons in rows of five, a new row also where a chair's list goes from one kind of
/// decision to the other (Answered 1-5, Hide 1-5); more than Discord allows are dropped
/// rather than failing the whole message.
fn rows(buttons: &[Button]) -> Vec<CreateActionRow> {
    let mut groups: Vec<&[Button]> = Vec::new();
    let mut start = 0;
    for (i, pair) in buttons.windows(2).enumerate() {
        if row_group(pair[0].action) != row_group(pair[1].action) {
            groups.push(&buttons[start..=i]);
            start = i + 1;
        }
    }
    groups.push(&buttons[start..]);
    groups
        .into_iter()
        .flat_map(|group| group.chunks(BUTTONS_PER_ROW))
        .filter(|chunk| !chunk.is_empty())
        .take(ROWS_PER_MESSAGE)
        .map(|chunk| {
            CreateActionRow::Buttons(
                chunk
                    .iter()
                    .map(|button| {
                        CreateButton::new(custom_id(button.action))
                            .label(&button.label)
                            .style(style(button.action))
                    })
                    .collect(),
            )
        })
        .collect()
}

/// Buttons that share a row only with their own kind (`None`: any row).
fn row_group(action: ButtonAction) -> Option<Moderation> {
    match action {
        ButtonAction::Moderate(_, decision) => Some(decision),
        _ => None,
    }
}

/// Cancelling is the quiet choice; everything else is the primary one.
fn style(action: ButtonAction) -> ButtonStyle {
    match action {
        ButtonAction::CancelAnnouncement(_)
        | ButtonAction::DiscardEdit { .. }
        | ButtonAction::KeepMyData
        | ButtonAction::KeepProgramme => ButtonStyle::Secondary,
        ButtonAction::ForgetMe | ButtonAction::ApplySchedule(_) => ButtonStyle::Danger,
        ButtonAction::Moderate(_, Moderation::Answered) => ButtonStyle::Success,
        ButtonAction::Moderate(_, Moderation::Hide) => ButtonStyle::Secondary,
        ButtonAction::RemindMe(_)
        | ButtonAction::Upvote(_)
        | ButtonAction::ConfirmAnnouncement(_)
        | ButtonAction::ConfirmEdit { .. } => ButtonStyle::Primary,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::commands::EmbedField;
    use crate::domain::model::TalkId;

    fn talk_message() -> Message {
        Message {
            content: "@everyone look".to_owned(),
            embeds: vec![Embed {
                title: "Python as Orchestrator".to_owned(),
                url: Some("https://example.org/t/1".to_owned()),
                description: String::new(),
                fields: vec![EmbedField {
                    name: "Room".to_owned(),
                    value: "Barn".to_owned(),
                    inline: true,
                }],
                footer: None,
            }],
            buttons: vec![Button {
                label: "Remind me".to_owned(),
                action: ButtonAction::RemindMe(TalkId(42)),
            }],
            ..Message::default()
        }
    }

    #[test]
    fn a_response_carries_embeds_a_remind_button_and_pings_nobody() {
        let body = serde_json::to_value(response(&talk_message(), true)).expect("json");

        assert_eq!(
            body["allowed_mentions"],
            json!({"parse": [], "users": [], "roles": []})
        );
        assert_eq!(body["embeds"][0]["title"], "Python as Orchestrator");
        assert_eq!(body["embeds"][0]["fields"][0]["value"], "Barn");
        assert_eq!(
            body["components"][0]["components"][0]["custom_id"],
            "remind:42"
        );
        assert_eq!(body["flags"], 64);
    }

    #[test]
    fn follow_ups_and_edits_ping_nobody_either() {
        let followup = serde_json::to_value(followup(&talk_message(), false)).expect("json");
        let edit = serde_json::to_value(edit(&talk_message())).expect("json");

        assert_eq!(followup["allowed_mentions"]["parse"], json!([]));
        assert_eq!(edit["allowed_mentions"]["parse"], json!([]));
        assert_eq!(edit["content"], "@everyone look");
    }

    #[test]
    fn a_delivered_message_carries_its_nonce_enforced_and_pings_nobody() {
        let body = serde_json::to_value(channel_message(&talk_message(), "abc123")).expect("json");

        assert_eq!(body["nonce"], "abc123");
        assert_eq!(body["enforce_nonce"], true);
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        assert_eq!(body["content"], "@everyone look");
        assert_eq!(
            body["components"][0]["components"][0]["custom_id"],
            "remind:42"
        );
    }

    #[test]
    fn an_announcement_pings_exactly_the_chosen_role_or_everyone_and_nobody_else() {
        let with = |ping| Message {
            content: "Doors open".to_owned(),
            ping,
            ..Message::default()
        };

        let none = serde_json::to_value(channel_message(&with(Ping::None), "n")).expect("json");
        let role = serde_json::to_value(channel_message(&with(Ping::Role(77)), "n")).expect("json");
        let all = serde_json::to_value(channel_message(&with(Ping::Everyone), "n")).expect("json");

        assert_eq!(
            none["allowed_mentions"],
            json!({"parse": [], "users": [], "roles": []})
        );
        assert_eq!(
            role["allowed_mentions"],
            json!({"parse": [], "users": [], "roles": ["77"]})
        );
        assert_eq!(all["allowed_mentions"]["parse"], json!(["everyone"]));
        assert_eq!(all["allowed_mentions"]["roles"], json!([]));
    }

    #[test]
    fn attachments_are_listed_in_the_json_of_responses_follow_ups_and_edits() {
        let message = Message {
            content: "Your talks".to_owned(),
            attachments: vec![crate::domain::commands::Attachment {
                filename: "mytalks.ics".to_owned(),
                bytes: b"BEGIN:VCALENDAR".to_vec(),
            }],
            ..Message::default()
        };

        let bodies = [
            serde_json::to_value(response(&message, true)).expect("json"),
            serde_json::to_value(followup(&message, true)).expect("json"),
            serde_json::to_value(edit(&message)).expect("json"),
        ];

        for body in &bodies {
            assert_eq!(body["attachments"][0]["filename"], "mytalks.ics", "{body}");
            assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        }
    }

    #[test]
    fn more_buttons_than_discord_allows_are_dropped() {
        let buttons = vec![
            Button {
                label: "Remind me".to_owned(),
                action: ButtonAction::RemindMe(TalkId(1)),
            };
            30
        ];

        let rows = serde_json::to_value(rows(&buttons)).expect("json");

        assert_eq!(rows.as_array().map(Vec::len), Some(5));
    }
}
