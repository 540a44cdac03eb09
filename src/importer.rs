//! One import, from a file or URL to the store: read (every source through the size cap,
//! URLs fetched with the conference's last validators), skip a source identical to the
//! latest import, parse off the async workers, apply in one transaction,
//! remember the fingerprint and validators. `confbot import`, the live sync and `/sync`
//! all run exactly this.

use anyhow::{bail, Context};
use chrono_tz::Tz;
use sqlx::PgPool;

use crate::config::ImportSettings;
use crate::domain::diff::MassChange;
use crate::domain::import::{self, Fingerprint, Format, ImportOptions};
use crate::domain::model::{ConferenceSlug, ImportedSchedule};
use crate::fetch::{is_url, shown_url, FetchError, Fetched, Fetcher, Validators};
use crate::store;
use crate::store::imports::{apply_import, ImportOutcome, ImportRequest};
use crate::store::StoreError;

mod pieces;

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportJob<'a> {
    pub slug: &'a ConferenceSlug,
    /// A file path or an http(s) URL.
    pub source: &'a str,
    /// `None`: detected from the content.
    pub format: Option<Format>,
    /// Wins over the zone the source names.
    pub zone_override: Option<Tz>,
    /// The zone of a conference this import creates when nothing names one.
    pub default_zone: Tz,
    pub dry_run: bool,
    /// Import even a source identical to the latest import.
    pub force: bool,
    /// Read an iCalendar SUMMARY as `Title - Speaker` ([`ImportOptions::summary_speakers`]).
    pub summary_speakers: bool,
    /// Refuse sources that are not timetables (a listing, or an HTML page read as one):
    /// the live sync must never turn an error page into catalogue entries.
    pub timetable_only: bool,
    /// Apply even an import that would cancel most of the programme or change its zone.
    pub allow_mass_change: bool,
    /// Apply only a source with this fingerprint: the one an organiser was shown in a
    /// preview and confirmed. Anything else the source serves now is refused
    /// ([`SourceChanged`]).
    pub previewed: Option<Fingerprint>,
}

/// An import refused because it would cancel most of the programme or change its zone
/// (see [`crate::domain::diff::mass_change`]), with the fingerprint of the refused source so
/// that a preview's Confirm applies exactly what the organiser saw.
#[derive(Debug, thiserror::Error)]
#[error("{change}")]
pub struct MassChangeRefused {
    pub change: MassChange,
    pub fingerprint: Fingerprint,
}

/// The source no longer serves what the organiser previewed.
#[derive(Debug, thiserror::Error)]
#[error("the schedule at the source changed since it was previewed, so nothing was changed")]
pub struct SourceChanged;

/// What an import did.
#[derive(Debug)]
pub enum Imported {
    /// The server answered 304: nothing to do.
    NotModified,
    /// Byte for byte the latest import (same format and zone flags): nothing can change.
    Identical,
    /// Parsed and applied (or, for a dry run, rolled back); with the parser's warnings and
    /// its notes on how it read the file.
    Applied {
        outcome: Box<ImportOutcome>,
        warnings: Vec<String>,
        notes: Vec<String>,
    },
}

/// Runs one import. Any error leaves the database as it was.
pub async fn run(
    settings: &ImportSettings,
    pool: &PgPool,
    job: &ImportJob<'_>,
) -> anyhow::Result<Imported> {
    let imported = run_job(settings, pool, job).await;
    if imported.is_err() {
        // A long-running bot should not keep a refused schedule's memory resident (the live
        // sync retries a refused mass change every tick). An applied one's is given back by
        // `apply_import` itself, once the talks are freed.
        let _ = tokio::task::spawn_blocking(store::programme::release_freed_memory).await;
    }
    imported
}

async fn run_job(
    settings: &ImportSettings,
    pool: &PgPool,
    job: &ImportJob<'_>,
) -> anyhow::Result<Imported> {
    let slug = job.slug;
    let existing = store::conferences::find(&mut *pool.acquire().await?, slug).await?;
    let options = ImportOptions {
        // An explicit flag wins over the file; the stored zone only fills in for a file that
        // names none (it may be just the default a talk listing created the conference with).
        time_zone: job.zone_override,
        stored_time_zone: existing.as_ref().map(|c| c.conference.time_zone),
        max_bytes: settings.max_bytes,
        summary_speakers: job.summary_speakers,
    };
    let latest = if job.dry_run || job.force {
        None
    } else {
        store::imports::latest_fingerprint(pool, slug).await?
    };
    let read = match pieces::read_in_pieces(job, &options, latest.is_some()).await {
        Some(read) => read,
        None => match read_whole(settings, pool, job, &options, latest).await? {
            Ok(read) => read,
            Err(nothing_to_do) => return Ok(nothing_to_do),
        },
    };
    let Parsed {
        format,
        fingerprint,
        parsed,
        validators,
    } = read;
    let shown = shown_source(job.source);
    let mut schedule: ImportedSchedule =
        parsed.with_context(|| format!("cannot import {shown}"))?;
    let warnings = std::mem::take(&mut schedule.warnings);
    let notes = std::mem::take(&mut schedule.notes);
    let applied = apply_import(
        pool,
        ImportRequest {
            slug,
            source: job.source,
            format,
            schedule,
            time_zone_override: job.zone_override,
            default_time_zone: job.default_zone,
            dry_run: job.dry_run,
            allow_mass_change: job.allow_mass_change,
        },
    )
    .await;
    let outcome = match applied {
        Ok(outcome) => outcome,
        Err(StoreError::MassChange(change)) => {
            return Err(anyhow::Error::new(MassChangeRefused {
                change,
                fingerprint,
            })
            .context(format!("cannot import {shown}")))
        }
        Err(error) => {
            return Err(anyhow::Error::new(error).context(format!("cannot import {shown}")))
        }
    };
    if let Some(import_id) = outcome.import_id {
        store::imports::set_fingerprint(pool, import_id, &fingerprint.to_string()).await?;
    }
    if let (Some(v), false) = (validators, job.dry_run) {
        store::conferences::set_source_validators(pool, slug, job.source, v.etag, v.last_modified)
            .await?;
    }
    Ok(Imported::Applied {
        outcome: Box::new(outcome),
        warnings,
        notes,
    })
}

/// A source read and parsed, and what the import keeps of its reading.
struct Parsed {
    format: Format,
    fingerprint: Fingerprint,
    parsed: Result<ImportedSchedule, import::ImportError>,
    validators: Option<Validators>,
}

/// Reads the whole source (a URL, or a file [`pieces::read_in_pieces`] did not take) and parses it.
/// `Err`: nothing to do (the server said "not modified", or the source is the latest import).
async fn read_whole(
    settings: &ImportSettings,
    pool: &PgPool,
    job: &ImportJob<'_>,
    options: &ImportOptions,
    latest: Option<String>,
) -> anyhow::Result<Result<Parsed, Imported>> {
    let Some(Source { bytes, validators }) =
        read_source(settings, pool, job.source, job.slug).await?
    else {
        // What is applied now is not what the organiser previewed (a refused source is
        // never applied, so its validators are never the ones sent).
        if job.previewed.is_some() {
            bail!(SourceChanged);
        }
        return Ok(Err(Imported::NotModified));
    };
    let (format_flag, zone, summary_speakers) =
        (job.format, job.zone_override, job.summary_speakers);
    let fingerprint_of = move |bytes: &[u8]| -> Fingerprint {
        Fingerprint::of(bytes, format_flag, zone, summary_speakers)
    };
    // Needed before parsing only to check a preview or to skip a source identical to the
    // latest import; otherwise it is taken while the source is parsed.
    let known = (job.previewed.is_some() || latest.is_some()).then(|| fingerprint_of(&bytes));
    if let Some(known) = known {
        if job.previewed.is_some_and(|previewed| previewed != known) {
            bail!(SourceChanged);
        }
        if latest.as_deref() == Some(known.to_string().as_str()) {
            return Ok(Err(Imported::Identical));
        }
    }
    let format = job.format.unwrap_or_else(|| Format::detect(&bytes));
    if job.timetable_only && format == Format::Text {
        bail!(
            "{} is not a schedule (no iCalendar, schedule.json or schedule.xml): perhaps \
             an error page or a login page",
            shown_source(job.source)
        );
    }
    let options = options.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let (fingerprint, parsed) =
            parse_while_hashing(&bytes, format, &options, known, fingerprint_of);
        drop(bytes);
        // Not trimmed here (a fifth of a second of a 100,000-talk import): the write reuses
        // the memory, and it is given back once the import is written or refused.
        (fingerprint, parsed)
    })
    .await;
    let (fingerprint, parsed) = parsed.context("the parser stopped unexpectedly")?;
    Ok(Ok(Parsed {
        format,
        fingerprint,
        parsed,
        validators,
    }))
}

/// Parses `bytes`, and takes their fingerprint unless it is `known`: on a second thread, as an
/// import with no preview to check and no latest fingerprint to compare (a first, forced or
/// dry run) needs it only afterwards (hashing a 100,000-talk file took 0.07-0.15 s).
fn parse_while_hashing(
    bytes: &[u8],
    format: Format,
    options: &ImportOptions,
    known: Option<Fingerprint>,
    fingerprint_of: impl Fn(&[u8]) -> Fingerprint + Send + Sync,
) -> (Fingerprint, Result<ImportedSchedule, import::ImportError>) {
    if let Some(known) = known {
        return (known, import::parse(bytes, Some(format), options));
    }
    std::thread::scope(|scope| {
        let hashing = std::thread::Builder::new()
            .name("import-hash".into())
            .spawn_scoped(scope, || fingerprint_of(bytes));
        let parsed = import::parse(bytes, Some(format), options);
        // Hashed here instead when the thread could not start (or panicked).
        let fingerprint = hashing
            .ok()
            .and_then(|hashing| hashing.join().ok())
            .unwrap_or_else(|| fingerprint_of(bytes));
        (fingerprint, parsed)
    })
}

/// Reads `path` through a cap: at most `limit + 1` bytes are ever read, and one byte over
/// the limit refuses the file, whatever kind of file it is.
async fn read_capped(path: &str, limit: usize) -> anyhow::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot read {path}"))?;
    // Sized from the file's length: growing by doubling would peak near twice a large file.
    let expected = file
        .metadata()
        .await
        .ok()
        .and_then(|m| usize::try_from(m.len()).ok())
        .unwrap_or(0);
    let mut bytes = Vec::with_capacity(expected.min(limit).saturating_add(1));
    file.take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .with_context(|| format!("cannot read {path}"))?;
    if bytes.len() > limit {
        bail!(
            "{path} is larger than the {limit}-byte limit (import.max_bytes); nothing was imported"
        );
    }
    Ok(bytes)
}

/// An import error as Discord, `/status` and the organiser log may show it: fetch errors
/// without transport detail, everything else with its cause chain (which names the source
/// only as [`shown_source`] does).
pub fn public_message(error: &anyhow::Error) -> String {
    match error.downcast_ref::<FetchError>() {
        Some(fetch) => fetch.public_message(),
        // Database failures without their raw text (the operator's log has it).
        None => crate::errors::user_message(error),
    }
}

/// A source as messages name it: a URL without its credentials, a path as given.
fn shown_source(source: &str) -> String {
    if is_url(source) {
        shown_url(source)
    } else {
        source.to_owned()
    }
}

/// The bytes of a source, and the HTTP validators to remember for the next fetch.
struct Source {
    bytes: Vec<u8>,
    validators: Option<Validators>,
}

/// Reads a file (through the size cap; a regular file over it is refused before reading) or fetches a URL with the
/// validators of the conference's last fetch. `None`: the server said "not modified".
async fn read_source(
    settings: &ImportSettings,
    pool: &PgPool,
    source: &str,
    slug: &ConferenceSlug,
) -> anyhow::Result<Option<Source>> {
    if is_url(source) {
        let (etag, last_modified) =
            store::conferences::source_validators(pool, slug, source).await?;
        let validators = Validators {
            etag,
            last_modified,
        };
        let fetcher = Fetcher::new(settings)?;
        return Ok(match fetcher.fetch(source, &validators).await? {
            Fetched::NotModified => None,
            Fetched::Body {
                bytes, validators, ..
            } => Some(Source {
                bytes,
                validators: Some(validators),
            }),
        });
    }
    if source.contains("://") {
        let source = shown_source(source);
        bail!("{source}: only local files and http(s) URLs can be imported");
    }
    let limit = settings.max_bytes;
    let meta = tokio::fs::metadata(source)
        .await
        .with_context(|| format!("cannot read {source}"))?;
    // A regular file that says it is too big is refused without reading a byte. Its length
    // proves nothing otherwise: /dev/zero, a pipe or `<(...)` report 0 and never end.
    if meta.len() > limit as u64 {
        bail!(
            "{source} is {} bytes, over the {limit}-byte limit (import.max_bytes)",
            meta.len()
        );
    }
    let bytes = read_capped(source, limit).await?;
    Ok(Some(Source {
        bytes,
        validators: None,
    }))
}
