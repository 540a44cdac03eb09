//! `/sync` and `/status overview` against the store: organisers only, each reading only the
//! server's own conference and settings.

use serenity::all::{
    ChannelId, CommandInteraction, ComponentInteraction, CreateInteractionResponse,
};

use crate::domain::commands::overview::{
    self, EventsView, Overview, PostView, SyncView, FAILURES_SINCE, UPCOMING,
};
use crate::domain::commands::{ButtonAction, Message, Reply};
use crate::domain::import::Fingerprint;
use crate::domain::reminders::PostKind;
use crate::store::conferences::{self, ConferenceRow};
use crate::store::outbox::{self, OutboxEntry};
use crate::store::syncs::{self, SyncTarget};
use crate::store::StoreError;
use crate::sync::SyncRun;

use super::interactions::{ephemeral_text, split, Router, GENERIC_FAILURE};
use super::render;
use super::respond::Ctx;

impl Router {
    /// `/sync`: re-imports the server's schedule source now, posts the report in the
    /// organiser log (like the periodic sync) and tells the organiser what happened. A
    /// source refused as a mass change comes back as a preview with Apply / Keep buttons.
    pub(super) async fn sync(&self, ctx: &Ctx, interaction: &CommandInteraction) -> Reply {
        let user = interaction.user.id.get();
        let guild = match self.authorize_command(interaction, "/sync").await {
            Ok(guild) => guild,
            Err(refusal) => return refusal,
        };
        let ran = self
            .run_sync(ctx, guild, user, interaction.id.get(), None)
            .await;
        match ran {
            Ok(Synced::NoSource) => overview::no_source(),
            Ok(Synced::Busy) => ephemeral_text(BUSY),
            Ok(Synced::Ran(run)) => match (run.refused, &run.result) {
                (Some(source), Err(error)) => overview::mass_change_preview(error, source),
                _ => overview::synced(run.result.as_deref().map_err(String::as_str)),
            },
            Err(error) => {
                let error = anyhow::Error::from(error);
                tracing::error!(user, guild, "/sync failed: {error:#}");
                ephemeral_text(GENERIC_FAILURE)
            }
        }
    }

    /// Apply / Keep under a `/sync` mass-change preview, organisers only. Applying fetches
    /// and imports, which can take longer than Discord's 3 s: the click is acknowledged at
    /// once and the preview is then edited into the outcome (its buttons gone).
    pub(super) async fn sync_button(
        &self,
        ctx: &Ctx,
        interaction: &ComponentInteraction,
        action: ButtonAction,
    ) {
        let user = interaction.user.id.get();
        let name = match action {
            ButtonAction::ApplySchedule(_) => "/sync Apply",
            _ => "/sync Keep",
        };
        let authorized = self
            .authorize(
                interaction.guild_id,
                interaction.member.as_ref(),
                user,
                name,
            )
            .await;
        let (ButtonAction::ApplySchedule(source), Ok(guild)) = (action, &authorized) else {
            let reply = authorized.err().unwrap_or_else(overview::kept);
            let (first, _) = split(&reply);
            let response = CreateInteractionResponse::UpdateMessage(render::response(&first, true));
            if let Err(error) = ctx
                .respond(interaction.id, &interaction.token, response)
                .await
            {
                let error = anyhow::Error::from(error);
                tracing::error!(user, "answering a /sync button failed: {error:#}");
            }
            return;
        };
        let guild = *guild;
        if let Err(error) = ctx
            .respond(
                interaction.id,
                &interaction.token,
                CreateInteractionResponse::Acknowledge,
            )
            .await
        {
            // Unacknowledged, the click shows as failed: the organiser can click again.
            let error = anyhow::Error::from(error);
            tracing::error!(user, "acknowledging /sync Apply failed: {error:#}");
            return;
        }
        let reply = match self
            .run_sync(ctx, guild, user, interaction.id.get(), Some(source))
            .await
        {
            Ok(Synced::NoSource) => overview::no_source(),
            Ok(Synced::Busy) => ephemeral_text(BUSY),
            Ok(Synced::Ran(run)) => {
                overview::applied(run.result.as_deref().map_err(String::as_str))
            }
            Err(error) => {
                let error = anyhow::Error::from(error);
                tracing::error!(user, guild, "/sync Apply failed: {error:#}");
                ephemeral_text(GENERIC_FAILURE)
            }
        };
        let (first, _) = split(&reply);
        let edit = interaction.edit_response(&ctx.http, render::edit(&first));
        if let Err(error) = ctx.rest.noted(edit).await {
            let error = anyhow::Error::from(error);
            tracing::error!(user, "answering /sync Apply failed: {error:#}");
        }
    }

    /// One sync of `guild`'s source, now: `previewed` applies that source even as a mass
    /// change. Posts the report to the organiser log, wakes the planner and audits the run.
    async fn run_sync(
        &self,
        ctx: &Ctx,
        guild: u64,
        user: u64,
        interaction: u64,
        previewed: Option<Fingerprint>,
    ) -> Result<Synced, StoreError> {
        let settings = self.settings(guild).await?.settings;
        let (Some(slug), Some(url)) = (settings.conference, settings.source_url) else {
            return Ok(Synced::NoSource);
        };
        let Some(row) = self.conference_row(&slug).await? else {
            return Ok(Synced::NoSource);
        };
        let target = SyncTarget {
            conference_id: row.id,
            slug,
            url,
            refresh: chrono::Duration::minutes(i64::from(settings.refresh_minutes.unwrap_or(0))),
            summary_speakers: settings.summary_speakers,
        };
        let now = chrono::Utc::now();
        let (import, zone) = (&self.import, self.default_zone);
        let run = match previewed {
            Some(source) => {
                crate::sync::apply_previewed(&self.pool, import, zone, &target, source, now).await?
            }
            None => crate::sync::sync_target(&self.pool, import, zone, &target, true, now).await?,
        };
        let Some(run) = run else {
            return Ok(Synced::Busy);
        };
        if let (Some(text), Some(channel)) = (&run.log, settings.organiser_log_channel) {
            let message = Message {
                content: text.clone(),
                ..Message::default()
            };
            let nonce = format!("sync{interaction}");
            let nonce: String = nonce.chars().take(25).collect();
            let post = ChannelId::new(channel)
                .send_message(&ctx.http, render::channel_message(&message, &nonce));
            if let Err(error) = ctx.rest.paced(post).await {
                tracing::warn!(guild, channel, "posting the sync report failed: {error}");
            }
        }
        self.plan_changed.notify_one();
        let shown = crate::fetch::shown_url(&target.url);
        let mut outcome = match &run.result {
            Ok(summary) => serde_json::json!({"source_url": shown, "result": summary}),
            Err(error) => serde_json::json!({"source_url": shown, "error": error}),
        };
        if let Some(source) = previewed {
            outcome["applied_mass_change"] = serde_json::json!(source.to_string());
        }
        crate::store::guilds::append(&self.pool, guild, user, "sync", None, Some(&outcome)).await?;
        Ok(Synced::Ran(run))
    }

    /// `/status overview` for an authorised organiser of `guild`.
    pub(super) async fn overview(
        &self,
        guild: u64,
        bot_permissions: Option<u64>,
    ) -> Result<Reply, StoreError> {
        let settings = self.settings(guild).await?.settings;
        let row = match &settings.conference {
            Some(slug) => self.conference_row(slug).await?,
            None => None,
        };
        let Some(row) = row else {
            return Ok(overview::overview(&Overview {
                conference: None,
                source: None,
                syncs: vec![],
                reminders: vec![],
                announcements: vec![],
                failures: vec![],
                events: None,
            }));
        };
        let upcoming = |kind| outbox::upcoming(&self.pool, row.id, kind, UPCOMING);
        let reminders = upcoming(PostKind::Reminder).await?;
        let announcements = upcoming(PostKind::Announcement).await?;
        let since = chrono::Utc::now() - FAILURES_SINCE;
        let failures = outbox::failures_since(&self.pool, row.id, guild, since, UPCOMING).await?;
        let syncs = syncs::states(&self.pool, row.id).await?;
        let events = match settings.events {
            Some(_) => Some(EventsView {
                live: crate::store::events::live_count(&self.pool, guild, chrono::Utc::now())
                    .await?,
                can_manage: bot_permissions.map(crate::domain::organisers::can_manage_events),
            }),
            None => None,
        };
        let view = |entry: &OutboxEntry, at, error| PostView {
            at,
            target: entry.post.key.target,
            body: entry.post.body.clone(),
            error,
        };
        Ok(overview::overview(&Overview {
            conference: Some((row.conference.name.clone(), row.conference.slug.to_string())),
            source: settings
                .source_url
                .map(|url| (url, settings.refresh_minutes.unwrap_or(0))),
            syncs: syncs
                .into_iter()
                .map(|s| SyncView {
                    url: s.url,
                    last_attempt_at: s.last_attempt_at,
                    last_success_at: s.last_success_at,
                    last_result: s.last_result,
                    last_error: s.last_error,
                })
                .collect(),
            reminders: reminders
                .iter()
                .map(|e| view(e, e.post.due, None))
                .collect(),
            announcements: announcements
                .iter()
                .map(|e| view(e, e.post.due, None))
                .collect(),
            failures: failures
                .iter()
                .map(|(e, at)| view(e, *at, e.last_error.clone()))
                .collect(),
            events,
        }))
    }

    async fn conference_row(
        &self,
        slug: &crate::domain::model::ConferenceSlug,
    ) -> Result<Option<ConferenceRow>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        conferences::find(&mut conn, slug).await
    }
}

const BUSY: &str = "A sync of this source is running right now.";

/// What a sync started from Discord came to.
enum Synced {
    /// The server follows no conference or has no source.
    NoSource,
    /// Another process is syncing the source right now.
    Busy,
    Ran(SyncRun),
}
