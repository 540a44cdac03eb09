//! The live schedule sync: re-imports a conference's source URL (the one a server set with
//! `/setup source`) on its refresh interval and on `/sync`, through exactly the import
//! pipeline `confbot import` uses (ETag, identical-source skip, one transaction). A fetch
//! or parse failure keeps the last good schedule (the import rolls back), is reported once,
//! and the sync recovers by itself at the next interval. The diff drives the reminder
//! planner like any import (change notices, re-planned reminders).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;

use crate::config::ImportSettings;
use crate::domain::import::Fingerprint;
use crate::domain::sync;
use crate::importer::{self, ImportJob, Imported};
use crate::store::syncs::{self, SyncTarget};
use crate::store::StoreError;

/// What one sync attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    /// "unchanged", "3 moved, 1 cancelled", or the error.
    pub result: Result<String, String>,
    /// What to post in the organiser log, if anything is worth telling: a diff, the first
    /// failure, a recovery.
    pub log: Option<String>,
    /// The source was refused as a mass change: its fingerprint, for an organiser to
    /// confirm exactly this source ([`apply_previewed`]).
    pub refused: Option<Fingerprint>,
}

/// Syncs `target` unless it was tried less than its refresh interval ago (or another
/// process is syncing it); `force` (`/sync`) syncs at once. `None`: not due.
pub async fn sync_target(
    pool: &PgPool,
    settings: &ImportSettings,
    default_zone: Tz,
    target: &SyncTarget,
    force: bool,
    now: DateTime<Utc>,
) -> Result<Option<SyncRun>, StoreError> {
    let refresh = if force {
        Duration::zero()
    } else {
        target.refresh
    };
    sync(pool, settings, default_zone, target, refresh, None, now).await
}

/// Applies the source an organiser confirmed under a mass-change preview, now, and only if
/// the source still serves exactly what the preview described (else the run fails with
/// [`importer::SourceChanged`] and nothing changes). `None`: another sync is running.
pub async fn apply_previewed(
    pool: &PgPool,
    settings: &ImportSettings,
    default_zone: Tz,
    target: &SyncTarget,
    previewed: Fingerprint,
    now: DateTime<Utc>,
) -> Result<Option<SyncRun>, StoreError> {
    sync(
        pool,
        settings,
        default_zone,
        target,
        Duration::zero(),
        Some(previewed),
        now,
    )
    .await
}

async fn sync(
    pool: &PgPool,
    settings: &ImportSettings,
    default_zone: Tz,
    target: &SyncTarget,
    refresh: Duration,
    previewed: Option<Fingerprint>,
    now: DateTime<Utc>,
) -> Result<Option<SyncRun>, StoreError> {
    if !syncs::claim(pool, target.conference_id, &target.url, refresh, now).await? {
        return Ok(None);
    }
    let job = ImportJob {
        slug: &target.slug,
        source: &target.url,
        format: None,
        zone_override: None,
        default_zone,
        dry_run: false,
        force: false,
        summary_speakers: target.summary_speakers,
        timetable_only: true,
        // A sync confirms a mass change only when an organiser applies the previewed source:
        // otherwise the refusal goes to the organisers' log and /status like any failed
        // sync, and the programme stays as it was.
        allow_mass_change: previewed.is_some(),
        previewed,
    };
    let name = target.slug.as_str();
    // The stored URL may carry credentials (`https://user:token@...`): logged without them.
    let shown = crate::fetch::shown_url(&target.url);
    let run = match importer::run(settings, pool, &job).await {
        Ok(imported) => {
            let (result, report) = match imported {
                Imported::NotModified | Imported::Identical => ("unchanged".to_owned(), None),
                Imported::Applied { outcome, .. } => {
                    let summary = sync::summary(&outcome.diff);
                    let report = (!outcome.diff.is_empty()).then(|| {
                        sync::report(&outcome.conference.name, &target.url, &outcome.diff)
                    });
                    (summary, report)
                }
            };
            let recovered =
                syncs::succeeded(pool, target.conference_id, &target.url, &result, now).await?;
            tracing::info!(conference = name, url = %shown, %result, "schedule synced");
            let log = match (recovered, report) {
                (Some(_), Some(report)) => Some(format!(
                    "{}\n{report}",
                    sync::recovered(name, &target.url, &result)
                )),
                (Some(_), None) => Some(sync::recovered(name, &target.url, &result)),
                (None, report) => report,
            }
            .map(|text| {
                crate::domain::commands::truncate(&text, crate::domain::commands::limits::CONTENT)
            });
            SyncRun {
                result: Ok(result),
                log,
                refused: None,
            }
        }
        Err(error) => {
            // The error chain says what was wrong (HTTP 404, not a schedule, a parse error
            // with its line) and names no secret (source URLs are shown redacted). The
            // operator's log gets the full chain; Discord and /status get no transport
            // detail, so a source URL cannot be used to probe the bot's network.
            let detail = format!("{error:#}");
            let refused = error
                .downcast_ref::<importer::MassChangeRefused>()
                .map(|refusal| refusal.fingerprint);
            let error = importer::public_message(&error);
            let first = syncs::failed(pool, target.conference_id, &target.url, &error, now).await?;
            tracing::warn!(conference = name, url = %shown, first, "schedule sync failed: {detail}");
            let log = first.then(|| match refused {
                Some(_) => sync::refused(name, &target.url, &error),
                None => sync::failure(name, &target.url, &error),
            });
            SyncRun {
                log,
                result: Err(error),
                refused,
            }
        }
    };
    Ok(Some(run))
}
