//! Organisers, server side: each server's settings (stored by `/setup`, else the
//! configuration's first values), the one organiser check every organiser command and
//! button calls ([`Router::authorize`]), and whether the bot can post in a channel.
//!
//! The check reads the facts Discord computed for the interaction (the member's
//! permissions and roles) and the server's organiser role; the rule itself is
//! [`crate::domain::organisers::check`]. A refusal is logged as a warning and audited in
//! the server where it was attempted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serenity::all::{ChannelId, ChannelType, GuildId, Member, PermissionOverwriteType, UserId};
use serenity::http::{Http, HttpError};

use crate::domain::commands::setup::not_an_organiser;
use crate::domain::commands::Reply;
use crate::domain::guild_settings::GuildSettings;
use crate::domain::organisers::{self, Access, Overwrite, OverwriteTarget};
use crate::store::{guilds, StoreError};

use super::interactions::{ephemeral_text, Router, GENERIC_FAILURE};

/// How long a server's settings are used from memory. Changes made through this process
/// replace the entry at once; another process's change is seen within this time.
const SETTINGS_TTL: Duration = Duration::from_secs(5);

/// Servers' effective settings, cached briefly: every interaction needs its server's
/// conference, and a query per interaction would be wasted on values that rarely change.
#[derive(Default)]
pub struct SettingsCache(Mutex<HashMap<u64, (Instant, Effective)>>);

/// A server's settings and whether they are stored (else the configuration's).
#[derive(Debug, Clone)]
pub(super) struct Effective {
    pub settings: GuildSettings,
    pub stored: bool,
}

impl SettingsCache {
    /// The entry, if younger than `max_age`.
    fn younger_than(&self, guild: u64, max_age: Duration) -> Option<Effective> {
        let entries = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(&guild)
            .filter(|(at, _)| at.elapsed() < max_age)
            .map(|(_, effective)| effective.clone())
    }

    pub(super) fn put(&self, guild: u64, effective: Effective) {
        let mut entries = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.insert(guild, (Instant::now(), effective));
    }
}

/// Why the bot cannot use a channel (shown to the organiser), or an internal failure.
pub(super) enum Unusable {
    Because(String),
    Failed(anyhow::Error),
}

impl Router {
    /// The server's configured first values (`[[guilds]]`, `defaults.conference`).
    pub(super) fn seed(&self, guild: u64) -> GuildSettings {
        GuildSettings::seeded(
            self.guilds.conference_for(guild).cloned(),
            self.guilds.organiser_role_for(guild),
        )
    }

    /// The server's settings: stored ones, else the configuration's. While the database
    /// is unreachable the last known ones are used, so attendees keep their answers from the
    /// cached programme as before servers had settings.
    pub(super) async fn settings(&self, guild: u64) -> Result<Effective, StoreError> {
        if let Some(effective) = self.settings_cache.younger_than(guild, SETTINGS_TTL) {
            return Ok(effective);
        }
        let stored = match guilds::get(&self.pool, guild).await {
            Ok(stored) => stored,
            Err(error) => match self.settings_cache.younger_than(guild, Duration::MAX) {
                Some(last) => {
                    let error = anyhow::Error::from(error);
                    tracing::warn!(guild, "using the last known server settings: {error:#}");
                    return Ok(last);
                }
                None => return Err(error),
            },
        };
        let effective = match stored {
            Some(settings) => Effective {
                settings,
                stored: true,
            },
            None => Effective {
                settings: self.seed(guild),
                stored: false,
            },
        };
        self.settings_cache.put(guild, effective.clone());
        Ok(effective)
    }

    /// [`Router::authorize`] for a slash command: the invoking member, `command` as typed.
    pub(super) async fn authorize_command(
        &self,
        interaction: &serenity::all::CommandInteraction,
        command: &str,
    ) -> Result<u64, Reply> {
        let user = interaction.user.id.get();
        self.authorize(
            interaction.guild_id,
            interaction.member.as_deref(),
            user,
            command,
        )
        .await
    }

    /// Lets an organiser through with the server's id; anyone else (and a direct message)
    /// gets the refusal, which is logged and, in a server, audited as `refused {command}`.
    /// Every organiser command and button calls this before it reads or changes anything.
    pub(super) async fn authorize(
        &self,
        guild: Option<GuildId>,
        member: Option<&Member>,
        user: u64,
        command: &str,
    ) -> Result<u64, Reply> {
        let Some(guild) = guild.map(GuildId::get) else {
            tracing::warn!(user, command, "refused an organiser command in a DM");
            return Err(not_an_organiser(Access::NotInAServer, command));
        };
        let role = match self.settings(guild).await {
            Ok(effective) => effective.settings.organiser_role,
            Err(error) => {
                let error = anyhow::Error::from(error);
                tracing::error!(user, guild, "reading the organiser role failed: {error:#}");
                return Err(ephemeral_text(GENERIC_FAILURE));
            }
        };
        let roles: Vec<u64> = member
            .map(|m| m.roles.iter().map(|r| r.get()).collect())
            .unwrap_or_default();
        let facts = member.map(|m| organisers::Member {
            permissions: m.permissions.map(|p| p.bits()),
            roles: &roles,
        });
        // A guild interaction always carries the member; without one, nothing is granted.
        let access = match organisers::check(facts, role) {
            Access::NotInAServer => Access::NotAnOrganiser,
            other => other,
        };
        if access == Access::Organiser {
            return Ok(guild);
        }
        tracing::warn!(
            user,
            guild,
            command,
            "refused an organiser command: not an organiser"
        );
        let action = format!("refused {command}");
        if let Err(error) = guilds::append_refusal(&self.pool, guild, user, &action).await {
            let error = anyhow::Error::from(error);
            tracing::error!(user, guild, "auditing a refusal failed: {error:#}");
        }
        Err(not_an_organiser(access, command))
    }

    /// Whether the bot can post in `channel`: it must be a text or announcement channel of
    /// `guild` where the bot's computed permissions include View Channel and Send Messages.
    ///
    /// The interaction's resolved channel carries the *invoking member's* permissions, not
    /// the bot's (and serenity 0.12 does not read Discord's newer `app_permissions` there),
    /// so the bot's are computed from the channel's overwrites, the guild's roles and the
    /// bot's own member: three REST calls, on an organiser's setup command only.
    pub(super) async fn check_postable(
        &self,
        http: &Http,
        guild: u64,
        channel: u64,
    ) -> Result<(), Unusable> {
        let because = |reason: &str| Err(Unusable::Because(reason.to_owned()));
        let channel = match self
            .rest
            .paced(ChannelId::new(channel).to_channel(http))
            .await
        {
            Ok(channel) => channel,
            Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(response)))
                if matches!(response.status_code.as_u16(), 403 | 404) =>
            {
                return because("it does not exist, or I cannot see it.");
            }
            Err(error) => return Err(Unusable::Failed(error.into())),
        };
        let Some(channel) = channel.guild() else {
            return because("it is not a channel of this server.");
        };
        if channel.guild_id.get() != guild {
            return because("it belongs to another server.");
        }
        if !matches!(channel.kind, ChannelType::Text | ChannelType::News) {
            return because("it is not a text or announcement channel.");
        }
        let guild_id = GuildId::new(guild);
        let bot = match self.bot_user.get() {
            Some(id) => UserId::new(*id),
            None => match self.rest.paced(http.get_current_user()).await {
                Ok(user) => user.id,
                Err(error) => return Err(Unusable::Failed(error.into())),
            },
        };
        let (roles, member) = match tokio::try_join!(
            self.rest.paced(http.get_guild_roles(guild_id)),
            self.rest.paced(http.get_member(guild_id, bot))
        ) {
            Ok(found) => found,
            Err(error) => return Err(Unusable::Failed(error.into())),
        };
        let roles: Vec<(u64, u64)> = roles
            .iter()
            .map(|role| (role.id.get(), role.permissions.bits()))
            .collect();
        let member_roles: Vec<u64> = member.roles.iter().map(|r| r.get()).collect();
        let overwrites: Vec<Overwrite> = channel
            .permission_overwrites
            .iter()
            .filter_map(|o| {
                let target = match o.kind {
                    PermissionOverwriteType::Role(role) => OverwriteTarget::Role(role.get()),
                    PermissionOverwriteType::Member(user) => OverwriteTarget::Member(user.get()),
                    _ => return None,
                };
                Some(Overwrite {
                    target,
                    allow: o.allow.bits(),
                    deny: o.deny.bits(),
                })
            })
            .collect();
        let granted =
            organisers::channel_permissions(guild, &roles, bot.get(), &member_roles, &overwrites);
        let missing = organisers::missing_to_post(granted);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Unusable::Because(format!(
                "I don't have the {} permission there. Give it to me, then try again.",
                missing.join(" and ")
            )))
        }
    }
}
