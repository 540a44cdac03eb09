//! `/sync` and `/status overview` against the store: organisers only, each reading only the
//! server's own conference and settings.

use serenity::all::{ChannelId, CommandInteraction};

use crate::domain::commands::overview::{
    self, Overview, PostView, SyncView, FAILURES_SINCE, UPCOMING,
};
use crate::domain::commands::{Message, Reply};
use crate::domain::reminders::PostKind;
use crate::store::conferences::{self, ConferenceRow};
use crate::store::outbox::{self, OutboxEntry};
use crate::store::syncs::{self, SyncTarget};
use crate::store::StoreError;

use super::interactions::{ephemeral_text, Router, GENERIC_FAILURE};
use super::render;
use super::respond::Ctx;

impl Router {
    /// `/sync`: re-imports the server's schedule source now, posts the report in the
    /// organiser log (like the periodic sync) and tells the organiser what happened.
    pub(super) async fn sync(&self, ctx: &Ctx, interaction: &CommandInteraction) -> Reply {
        let user = interaction.user.id.get();
        let guild = match self.authorize_command(interaction, "/sync").await {
            Ok(guild) => guild,
            Err(refusal) => return refusal,
        };
        let answer = async {
            let settings = self.settings(guild).await?.settings;
            let (Some(slug), Some(url)) = (settings.conference, settings.source_url) else {
                return Ok(overview::no_source());
            };
            let Some(row) = self.conference_row(&slug).await? else {
                return Ok(overview::no_source());
            };
            let target = SyncTarget {
                conference_id: row.id,
                slug,
                url,
                refresh: chrono::Duration::minutes(i64::from(
                    settings.refresh_minutes.unwrap_or(0),
                )),
                summary_speakers: settings.summary_speakers,
            };
            let now = chrono::Utc::now();
            let run = crate::sync::sync_target(
                &self.pool,
                &self.import,
                self.default_zone,
                &target,
                true,
                now,
            )
            .await?;
            let Some(run) = run else {
                return Ok(ephemeral_text(
                    "A sync of this source is running right now.",
                ));
            };
            if let (Some(text), Some(channel)) = (&run.log, settings.organiser_log_channel) {
                let message = Message {
                    content: text.clone(),
                    ..Message::default()
                };
                let nonce = format!("sync{}", interaction.id.get());
                let nonce: String = nonce.chars().take(25).collect();
                if let Err(error) = ChannelId::new(channel)
                    .send_message(&ctx.http, render::channel_message(&message, &nonce))
                    .await
                {
                    tracing::warn!(guild, channel, "posting the sync report failed: {error}");
                }
            }
            self.plan_changed.notify_one();
            let shown = crate::fetch::shown_url(&target.url);
            let outcome = match &run.result {
                Ok(summary) => serde_json::json!({"source_url": shown, "result": summary}),
                Err(error) => serde_json::json!({"source_url": shown, "error": error}),
            };
            crate::store::guilds::append(&self.pool, guild, user, "sync", None, Some(&outcome))
                .await?;
            Ok::<Reply, StoreError>(overview::synced(
                run.result.as_deref().map_err(String::as_str),
            ))
        };
        answer.await.unwrap_or_else(|error| {
            let error = anyhow::Error::from(error);
            tracing::error!(user, guild, "/sync failed: {error:#}");
            ephemeral_text(GENERIC_FAILURE)
        })
    }

    /// `/status overview` for an authorised organiser of `guild`.
    pub(super) async fn overview(&self, guild: u64) -> Result<Reply, StoreError> {
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
            }));
        };
        let upcoming = |kind| outbox::upcoming(&self.pool, row.id, kind, UPCOMING);
        let reminders = upcoming(PostKind::Reminder).await?;
        let announcements = upcoming(PostKind::Announcement).await?;
        let since = chrono::Utc::now() - FAILURES_SINCE;
        let failures = outbox::failures_since(&self.pool, row.id, since, UPCOMING).await?;
        let syncs = syncs::states(&self.pool, row.id).await?;
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
