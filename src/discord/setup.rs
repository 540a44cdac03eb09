//! `/setup`: a server's settings, against the store. Each invocation goes
//! through [`Router::authorize`] first; each change is validated (the store knows the
//! conference, the zone is real, the channel is usable, the URL is http(s)), stored with
//! its audit entry in one transaction and echoed back. Replies come from
//! [`crate::domain::commands::setup`].

use crate::fetch::guard::{check_source, AddressRule, SystemLookup};
use serenity::all::{ChannelType, CommandInteraction};

use crate::domain::commands::setup::{self, SetupCommand};
use crate::domain::commands::Reply;
use crate::domain::guild_settings::{self, SetupChange};
use crate::domain::organisers;
use crate::store::{conferences, guilds};

use super::interactions::{ephemeral_text, Router, GENERIC_FAILURE};
use super::organisers::{Effective, Unusable};
use super::respond::Ctx;

/// How long `/setup source` waits for the source's name to resolve: well inside the time an
/// answer may take before it is deferred. A slower name is checked by the fetch instead.
const SOURCE_LOOKUP: std::time::Duration = std::time::Duration::from_secs(1);

impl Router {
    /// The reply to `/setup`.
    pub(super) async fn setup(
        &self,
        ctx: &Ctx,
        interaction: &CommandInteraction,
        command: SetupCommand,
    ) -> Reply {
        let user = interaction.user.id.get();
        let guild = match self.authorize_command(interaction, command.name()).await {
            Ok(guild) => guild,
            Err(refusal) => return refusal,
        };
        let answer = match self.validate(ctx, interaction, guild, command).await {
            Ok(Ok(Some(change))) => self.store_change(guild, user, &change).await,
            Ok(Ok(None)) => self
                .settings(guild)
                .await
                .map(|effective| setup::show(&effective.settings, effective.stored))
                .map_err(anyhow::Error::from),
            Ok(Err(reply)) => Ok(reply),
            Err(error) => Err(error),
        };
        answer.unwrap_or_else(|error| {
            tracing::error!(user, guild, "/setup failed: {error:#}");
            ephemeral_text(GENERIC_FAILURE)
        })
    }

    /// The change a `/setup` invocation asks for (`None`: show the settings), or the reply
    /// saying why it cannot be made.
    async fn validate(
        &self,
        ctx: &Ctx,
        interaction: &CommandInteraction,
        guild: u64,
        command: SetupCommand,
    ) -> anyhow::Result<Result<Option<SetupChange>, Reply>> {
        let invalid =
            |error: guild_settings::SetupError| Ok(Err(setup::invalid(&error.to_string())));
        Ok(Ok(Some(match command {
            SetupCommand::Show => return Ok(Ok(None)),
            SetupCommand::Conference(typed) => {
                let slug = match guild_settings::parse_conference(&typed) {
                    Ok(slug) => slug,
                    Err(error) => return invalid(error),
                };
                let mut conn = self.pool.acquire().await?;
                // Any stored conference may be followed; a server's own settings, audit and
                // channels stay its own whatever it follows.
                if conferences::find(&mut conn, &slug).await?.is_none() {
                    let known: Vec<String> = conferences::all(&mut conn)
                        .await?
                        .into_iter()
                        .map(|row| row.conference.slug.to_string())
                        .collect();
                    return Ok(Err(setup::unknown_conference(&typed, &known)));
                }
                SetupChange::Conference(slug)
            }
            SetupCommand::TimeZone(typed) => match guild_settings::parse_zone(&typed) {
                Ok(zone) => SetupChange::TimeZone(zone),
                Err(error) => return invalid(error),
            },
            SetupCommand::Source {
                url,
                refresh_minutes,
            } => match guild_settings::parse_source(&url, refresh_minutes) {
                Ok(change) => {
                    // An internal address is refused now, with a reason; each fetch checks
                    // every address it connects to again (the guard that really counts).
                    let rule = AddressRule::new(self.import.allow_private_addresses);
                    let internal = match reqwest::Url::parse(url.trim()) {
                        Ok(parsed) => check_source(&parsed, &rule, &SystemLookup, SOURCE_LOOKUP)
                            .await
                            .is_err(),
                        Err(_) => false,
                    };
                    if internal {
                        return Ok(Err(setup::invalid(
                            "The schedule source must be a public internet address: loopback, \
                             private, link-local and other internal addresses are refused \
                             unless the bot's operator sets import.allow_private_addresses.",
                        )));
                    }
                    change
                }
                Err(error) => return invalid(error),
            },
            SetupCommand::Channel { kind, channel } => {
                if let Err(reply) = self
                    .usable_channel(ctx, interaction, guild, channel)
                    .await?
                {
                    return Ok(Err(reply));
                }
                SetupChange::Channel { kind, channel }
            }
            SetupCommand::Role(role) => {
                // @everyone's id is the server's: it would make every member an organiser.
                if role == guild {
                    return Ok(Err(setup::invalid(
                        "@everyone cannot be the organiser role: pick a role only organisers have.",
                    )));
                }
                SetupChange::Role(role)
            }
            SetupCommand::Lead(lead) => SetupChange::Lead(lead),
            SetupCommand::Retention(days) => SetupChange::Retention(days),
            SetupCommand::SummarySpeakers(on) => SetupChange::SummarySpeakers(on),
            SetupCommand::Web(public) => {
                let settings = self.settings(guild).await?.settings;
                let configured = self.guilds.assigned(guild);
                if public && !guild_settings::may_publish(&settings, configured) {
                    return Ok(Err(setup::invalid(setup::NOT_THE_PROGRAMME_S_SERVER)));
                }
                SetupChange::Web(public)
            }
            SetupCommand::Updates(None) => SetupChange::Updates(None),
            SetupCommand::Board(None) => SetupChange::Board(None),
            SetupCommand::Threads(threads) => SetupChange::Threads(threads),
            SetupCommand::Events(events) => {
                // Discord computed the bot's permissions for the interaction; a payload
                // without them is not refused (Discord refuses each request instead, and
                // `/status` says so).
                let bot = interaction.app_permissions.map(|p| p.bits());
                if events.is_some() && bot.is_some_and(|bits| !organisers::can_manage_events(bits))
                {
                    return Ok(Err(setup::invalid(setup::NEEDS_MANAGE_EVENTS)));
                }
                SetupChange::Events(events)
            }
            SetupCommand::Questions(questions) => {
                if questions.chair_role == Some(guild) {
                    return Ok(Err(setup::invalid(
                        "@everyone cannot chair sessions: pick a role for the session chairs.",
                    )));
                }
                SetupChange::Questions(questions)
            }
            SetupCommand::Board(Some(board)) => {
                if let Err(reply) = self
                    .usable_channel(ctx, interaction, guild, board.channel)
                    .await?
                {
                    return Ok(Err(reply));
                }
                SetupChange::Board(Some(board))
            }
            SetupCommand::Updates(Some(channel)) => {
                if let Err(reply) = self
                    .usable_channel(ctx, interaction, guild, channel)
                    .await?
                {
                    return Ok(Err(reply));
                }
                SetupChange::Updates(Some(channel))
            }
        })))
    }

    /// Checks a channel option: a text or announcement channel of this server (the
    /// interaction's resolved data, then Discord itself) where the bot can post.
    pub(super) async fn usable_channel(
        &self,
        ctx: &Ctx,
        interaction: &CommandInteraction,
        guild: u64,
        channel: u64,
    ) -> anyhow::Result<Result<(), Reply>> {
        let resolved = interaction
            .data
            .resolved
            .channels
            .iter()
            .find(|(id, _)| id.get() == channel)
            .map(|(_, resolved)| resolved.kind);
        if resolved.is_some_and(|kind| !matches!(kind, ChannelType::Text | ChannelType::News)) {
            return Ok(Err(setup::unusable_channel(
                channel,
                "it is not a text or announcement channel.",
            )));
        }
        match self.check_postable(&ctx.http, guild, channel).await {
            Ok(()) => Ok(Ok(())),
            Err(Unusable::Because(reason)) => Ok(Err(setup::unusable_channel(channel, &reason))),
            Err(Unusable::Failed(error)) => Err(error.context("checking the channel")),
        }
    }

    /// Stores the change with its audit entry and echoes it.
    async fn store_change(
        &self,
        guild: u64,
        user: u64,
        change: &SetupChange,
    ) -> anyhow::Result<Reply> {
        let mut conn = self.pool.acquire().await?;
        let (before, after) =
            guilds::change(&mut conn, guild, &self.seed(guild), user, change).await?;
        // This process sees the change at once (a new conference answers the next /next).
        self.settings_cache.put(
            guild,
            Effective {
                settings: after.clone(),
                stored: true,
            },
        );
        tracing::info!(
            user,
            guild,
            action = change.action(),
            "organiser setting changed"
        );
        let reply = setup::changed(change, &before, &after);
        Ok(match (change, &self.public_url, &after.conference) {
            (SetupChange::Web(true), Some(base), Some(slug)) => {
                setup::with_web_links(reply, base.as_str(), slug)
            }
            _ => reply,
        })
    }
}
