//! Interaction routing: slash commands, autocomplete and button clicks.
//!
//! Each handler parses the interaction, calls one pure function of `domain::commands` and
//! renders the reply. The reminder commands and the "Remind me" button also read and write
//! the store: they are routed to `super::subscriptions`; the organiser commands to
//! `super::channels`, `super::setup`, `super::status`, `super::sync` and
//! `super::announcements` (with the announcement modal and buttons), each behind the
//! organiser check of `super::organisers`. Discord drops an interaction that gets no first
//! response within 3 s, so a command's answer runs under a timer ([`Router::defer_after`]):
//! when it is not ready in time the interaction is deferred ("confbot is thinking...") and
//! the answer is edited in when it arrives. A command whose first response is a modal
//! (`/announce`, `/announcements edit`) cannot be deferred.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use serenity::all::{
    AutocompleteChoice, CommandInteraction, ComponentInteraction, CreateAutocompleteResponse,
    CreateInteractionResponse, CreateInteractionResponseMessage, GuildId, Interaction,
};

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::config::{GuildConferences, ReminderSettings};
use crate::domain::commands::{
    self, limits, AutocompleteField, ButtonAction, Message, Reply, Visibility,
};
use crate::domain::programme::Programme;
use crate::domain::questions;
use crate::domain::reminders::LeadTime;
use crate::jobs::planner::UserPlanning;

use super::cache::{CacheError, ProgrammeCache};
use super::organisers::SettingsCache;
use super::registry::{self, Invocation};
use super::render;
use super::respond::Ctx;
use super::Telemetry;

mod replies;
pub(super) use replies::split;
use replies::{complete_deferred, send};

/// Shown when something failed inside confbot; the details go to the log only.
pub(super) const GENERIC_FAILURE: &str =
    "Sorry, something went wrong on my side. The organisers can find the details in confbot's log.";
/// How long an interaction waits for its user's DMs to be reopened (a millisecond or two
/// normally). The deferral's timer runs from the interaction's arrival (`Ctx::defer_at`),
/// so this wait and the gateway's claim (`handler::CLAIM_WAIT`) delay the answer, never
/// the deferral beyond `defer_after_ms`, as long as they fit inside it together.
const REOPEN_WAIT: Duration = Duration::from_millis(250);
/// Shown when the database does not answer and no earlier snapshot exists.
const UNAVAILABLE: &str =
    "The schedule is unavailable right now (its database does not answer). Please try again in a minute.";

/// Why a command got no answer from the command logic. The split decides what the user sees:
/// a user error explains itself; anything else is logged with its causes and the user gets a
/// fixed text (an internal error's Display may name hosts, tables or SQL).
#[derive(Debug)]
pub(super) enum Failure {
    /// Safe to show as is.
    User(String),
    /// The database is down (and nothing is cached).
    Unavailable(anyhow::Error),
}

impl Failure {
    pub(super) fn into_reply(self) -> Reply {
        let content = match self {
            Failure::User(text) => text,
            Failure::Unavailable(error) => {
                tracing::error!("no programme for an interaction: {error:#}");
                UNAVAILABLE.to_owned()
            }
        };
        ephemeral_text(content)
    }
}

pub(super) fn ephemeral_text(content: impl Into<String>) -> Reply {
    Reply {
        visibility: Visibility::Ephemeral,
        messages: vec![Message {
            content: content.into(),
            ..Message::default()
        }],
    }
}

/// Everything an interaction handler needs; shared by all of them.
pub struct Router {
    pub cache: ProgrammeCache,
    pub guilds: GuildConferences,
    /// How long a command's answer may take before the interaction is deferred.
    pub defer_after: Duration,
    /// Subscriptions, lead times and the channel plan are read and written here.
    pub pool: PgPool,
    /// The lead time of users who never chose one (`defaults.lead_minutes`).
    pub default_lead: LeadTime,
    /// The configured channel plans and channel lead (`[reminders]`).
    pub reminders: ReminderSettings,
    /// Notified after a change this process planned itself (and after others), so the
    /// delivery loop looks at the outbox before its next deadline.
    pub plan_changed: Arc<Notify>,
    /// Plans a user's DMs in the transaction of their subscription or lead change.
    pub planning: UserPlanning,
    /// Servers' `/setup` settings, briefly cached (see `super::organisers`).
    pub settings_cache: SettingsCache,
    /// The bot's own user id, from READY: its permissions decide where it can post.
    pub bot_user: OnceLock<u64>,
    /// Import limits for `/sync`.
    pub import: crate::config::ImportSettings,
    /// The zone of a conference a sync creates when nothing names one.
    pub default_zone: chrono_tz::Tz,
    /// serenity's requests: paced with delivery's, refusals counted.
    pub rest: super::rest::Rest,
    /// The web surface's public base (`web.public_url`): `/mytalks` links calendar feeds
    /// under it; `None`: no links.
    pub public_url: Option<reqwest::Url>,
}

impl Router {
    /// Answers one interaction, whichever way it arrived, and records how long it took.
    pub async fn dispatch(&self, ctx: &Ctx, interaction: Interaction, telemetry: &Telemetry) {
        let started = Instant::now();
        let user = match &interaction {
            Interaction::Command(command) => Some(command.user.id),
            Interaction::Component(component) => Some(component.user.id),
            Interaction::Modal(modal) => Some(modal.user.id),
            _ => None,
        };
        if let Some(user) = user {
            self.interacted(user.get()).await;
        }
        match interaction {
            Interaction::Command(command) => {
                self.command(ctx, &command).await;
                let name = &command.data.name;
                telemetry.commands.observe(name, started.elapsed());
            }
            Interaction::Autocomplete(command) => {
                self.autocomplete(ctx, &command).await;
                let name = &command.data.name;
                telemetry.autocompletes.observe(name, started.elapsed());
            }
            Interaction::Component(component) => self.component(ctx, &component).await,
            Interaction::Modal(modal) => self.modal(ctx, &modal).await,
            other => tracing::debug!(kind = ?other.kind(), "ignoring an interaction"),
        }
    }

    /// `user` used the bot: if Discord refused DMs to them earlier, they are tried again
    /// (they may have opened their DMs meanwhile). One statement by primary key, given a moment
    /// at most: a database that does not answer must not cost the interaction its answer.
    async fn interacted(&self, user: u64) {
        let reopen = crate::store::dm_channels::reopen(&self.pool, user);
        match tokio::time::timeout(REOPEN_WAIT, reopen).await {
            Ok(Ok(true)) => tracing::info!(user, "DMs are tried again for a user who interacted"),
            Ok(Ok(false)) => {}
            Ok(Err(error)) => tracing::warn!(user, "reopening a user's DMs failed: {error}"),
            Err(_) => tracing::warn!(user, "reopening a user's DMs took too long: skipped"),
        }
    }

    /// Answers a slash command: in time, or deferred and then edited.
    #[tracing::instrument(skip_all, fields(command = %interaction.data.name, interaction = %interaction.id))]
    pub async fn command(&self, ctx: &Ctx, interaction: &CommandInteraction) {
        // A modal must be the first response, so these cannot be deferred.
        if let Ok(Invocation::Announce(command)) =
            registry::parse(&interaction.data.name, &interaction.data.options)
        {
            if command.opens_modal() {
                return self.announce_modal(ctx, interaction, command).await;
            }
        }
        let work = self.reply_to(ctx, interaction);
        tokio::pin!(work);
        let sent = match tokio::time::timeout_at(ctx.defer_at(self.defer_after), &mut work).await {
            Ok(reply) => send(ctx, interaction, &reply).await,
            Err(_elapsed) => {
                // The deferral must go out now, before the visibility of the answer is known:
                // use the command's usual one (`/talk` shared, the rest private).
                let public = registry::find(&interaction.data.name).is_some_and(|spec| spec.public);
                tracing::info!(after = ?self.defer_after, "answer not ready: deferring");
                let deferred = CreateInteractionResponse::Defer(
                    CreateInteractionResponseMessage::new().ephemeral(!public),
                );
                match ctx
                    .respond(interaction.id, &interaction.token, deferred)
                    .await
                {
                    Ok(()) => {
                        let reply = work.await;
                        complete_deferred(ctx, interaction, &reply, public).await
                    }
                    Err(error) => Err(error.into()),
                }
            }
        };
        if let Err(error) = sent {
            tracing::error!("answering the command failed: {error:#}");
        }
    }

    /// The reply to a command, or the explanation why there is none.
    async fn reply_to(&self, ctx: &Ctx, interaction: &CommandInteraction) -> Reply {
        let command = match registry::parse(&interaction.data.name, &interaction.data.options) {
            Ok(Invocation::Lookup(command)) => command,
            Ok(Invocation::Reminders(command)) => {
                return self.reminders(ctx, interaction, command).await
            }
            Ok(Invocation::Setup(command)) => return self.setup(ctx, interaction, command).await,
            Ok(Invocation::Status(command)) => return self.status(interaction, command).await,
            Ok(Invocation::Sync) => return self.sync(ctx, interaction).await,
            Ok(Invocation::Forget) => return self.forget(interaction).await,
            Ok(Invocation::Announce(command)) => {
                return self.announcements(interaction, command).await
            }
            Ok(Invocation::Questions(command)) => {
                return self.questions(interaction, command).await
            }
            Err(error) => return Failure::User(error.to_string()).into_reply(),
        };
        let programme = match self.programme(interaction.guild_id).await {
            Ok(programme) => programme,
            Err(failure) => return failure.into_reply(),
        };
        // The command logic must not panic; if it does anyway, the user still gets an answer
        // (and the log the details) instead of Discord's "The application did not respond".
        let answer = std::panic::catch_unwind(AssertUnwindSafe(|| {
            commands::answer(&programme, Utc::now(), &command)
        }));
        answer.unwrap_or_else(|_| {
            tracing::error!(?command, "the command logic panicked");
            ephemeral_text(GENERIC_FAILURE)
        })
    }

    /// Suggestions for the option being typed. Autocomplete cannot be deferred: when the
    /// programme is not at hand in time, Discord gets an empty list rather than nothing.
    #[tracing::instrument(skip_all, fields(command = %interaction.data.name))]
    pub async fn autocomplete(&self, ctx: &Ctx, interaction: &CommandInteraction) {
        let choices = match interaction.data.autocomplete() {
            Some(focused) => {
                match registry::autocomplete_field(&interaction.data.name, focused.name) {
                    Some(field) => {
                        let programme = tokio::time::timeout_at(
                            ctx.defer_at(self.defer_after),
                            self.programme(interaction.guild_id),
                        );
                        match programme.await {
                            Ok(Ok(programme)) if field == AutocompleteField::LiveTalk => {
                                questions::suggestions(&programme, focused.value, Utc::now())
                            }
                            Ok(Ok(programme)) => {
                                commands::autocomplete(&programme, field, focused.value)
                            }
                            Ok(Err(failure)) => {
                                tracing::warn!(?failure, "no suggestions: no programme");
                                Vec::new()
                            }
                            Err(_elapsed) => {
                                tracing::warn!(
                                    "no suggestions: the programme was not ready in time"
                                );
                                Vec::new()
                            }
                        }
                    }
                    None => Vec::new(),
                }
            }
            None => Vec::new(),
        };
        let choices = choices
            .into_iter()
            // A value Discord would reject is left out rather than failing the whole list.
            .filter(|choice| choice.value.chars().count() <= limits::CHOICE_VALUE)
            .take(limits::AUTOCOMPLETE_CHOICES)
            .map(|choice| {
                AutocompleteChoice::new(
                    commands::truncate(&choice.name, limits::CHOICE_NAME),
                    choice.value,
                )
            })
            .collect();
        let response = CreateInteractionResponse::Autocomplete(
            CreateAutocompleteResponse::new().set_choices(choices),
        );
        if let Err(error) = ctx
            .respond(interaction.id, &interaction.token, response)
            .await
        {
            let error = anyhow::Error::from(error);
            tracing::error!("sending suggestions failed: {error:#}");
        }
    }

    /// A button click: answered privately to the clicker.
    #[tracing::instrument(skip_all, fields(custom_id = %interaction.data.custom_id))]
    pub async fn component(&self, ctx: &Ctx, interaction: &ComponentInteraction) {
        match render::parse_custom_id(&interaction.data.custom_id) {
            Some(ButtonAction::RemindMe(talk)) => {
                return self.remind_me(ctx, interaction, talk).await
            }
            Some(ButtonAction::Upvote(question)) => {
                return self.upvote(ctx, interaction, question).await
            }
            Some(ButtonAction::Moderate(question, decision)) => {
                return self.moderate(ctx, interaction, question, decision).await
            }
            Some(action @ (ButtonAction::ForgetMe | ButtonAction::KeepMyData)) => {
                return self.forget_button(ctx, interaction, action).await
            }
            Some(action @ (ButtonAction::ApplySchedule(_) | ButtonAction::KeepProgramme)) => {
                return self.sync_button(ctx, interaction, action).await
            }
            Some(action) => return self.announcement_button(ctx, interaction, action).await,
            None => {}
        }
        let response = CreateInteractionResponse::Message(render::response(
            &Message {
                content: "This button no longer works: ask me again with a slash command."
                    .to_owned(),
                ..Message::default()
            },
            true,
        ));
        if let Err(error) = ctx
            .respond(interaction.id, &interaction.token, response)
            .await
        {
            let error = anyhow::Error::from(error);
            tracing::error!("answering the button failed: {error:#}");
        }
    }

    /// The programme of the conference the guild follows: its `/setup conference`, else its
    /// `[[guilds]]` entry, else `defaults.conference` (DMs: the default conference).
    pub(super) async fn programme(
        &self,
        guild: Option<GuildId>,
    ) -> Result<std::sync::Arc<Programme>, Failure> {
        let slug = match guild {
            Some(guild) => {
                self.settings(guild.get())
                    .await
                    .map_err(|error| Failure::Unavailable(error.into()))?
                    .settings
                    .conference
            }
            None => self.guilds.default_conference.clone(),
        };
        let Some(slug) = slug else {
            return Err(Failure::User(
                "This server is not linked to a conference yet: an organiser can choose one \
                 with `/setup conference`."
                    .to_owned(),
            ));
        };
        self.cache.get(&slug).await.map_err(|error| match error {
            CacheError::NotImported(slug) => Failure::User(format!(
                "The schedule of {slug} has not been imported yet: try again once the organisers have."
            )),
            CacheError::Store(error) => Failure::Unavailable(error.into()),
        })
    }
}
