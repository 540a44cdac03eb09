//! `confbot import SOURCE --conference SLUG`: read, parse, diff and store in one transaction.

use anyhow::{bail, Context};
use chrono_tz::Tz;

use crate::cli::{connect_configured, output, ImportArgs};
use crate::config::Settings;
use crate::domain::import::{self, Format, ImportOptions};
use crate::domain::model::{ConferenceSlug, ImportedSchedule};
use crate::domain::time::zone_by_name;
use crate::fetch::{is_url, Fetched, Fetcher, Validators};
use crate::store;
use crate::store::imports::{apply_import, ImportRequest};

pub async fn run(settings: &Settings, args: ImportArgs) -> anyhow::Result<()> {
    let slug = ConferenceSlug::parse(&args.conference)?;
    let zone_override = args
        .timezone
        .as_deref()
        .map(|name| {
            zone_by_name(name).with_context(|| {
                format!("--timezone {name:?} is not a known IANA zone (e.g. Europe/Berlin)")
            })
        })
        .transpose()?;
    let pool = connect_configured(settings).await?;
    let existing = store::conferences::find(&mut *pool.acquire().await?, &slug).await?;

    let Some(Source { bytes, validators }) =
        read_source(settings, &pool, &args.source, &slug).await?
    else {
        println!(
            "{slug}: {} has not changed since the last import (HTTP 304).",
            args.source
        );
        return Ok(());
    };

    // A source identical to the conference's latest import (same bytes, format and zone
    // flag) cannot change anything: say so without parsing it.
    let fingerprint = fingerprint(&bytes, args.format.map(Format::from), zone_override);
    if !args.dry_run
        && !args.force
        && store::imports::latest_fingerprint(&pool, &slug)
            .await?
            .as_deref()
            == Some(fingerprint.as_str())
    {
        println!(
            "{slug}: {} is identical to the last import; nothing changed.",
            args.source
        );
        return Ok(());
    }

    let options = ImportOptions {
        // An explicit flag wins over the file; the stored zone only fills in for a file that
        // names none (it may be just the default a talk listing created the conference with).
        time_zone: zone_override,
        stored_time_zone: existing.as_ref().map(|c| c.conference.time_zone),
        max_bytes: settings.import.max_bytes,
    };
    let format = args.format.map(Format::from);
    let source = args.source.clone();
    let (detected, schedule) = tokio::task::spawn_blocking(move || parse(&bytes, format, &options))
        .await
        .context("the parser stopped unexpectedly")?
        .with_context(|| format!("cannot import {source}"))?;

    let outcome = apply_import(
        &pool,
        ImportRequest {
            slug: &slug,
            source: &args.source,
            format: detected,
            schedule: &schedule,
            time_zone_override: zone_override,
            default_time_zone: default_zone(settings),
            dry_run: args.dry_run,
        },
    )
    .await
    .with_context(|| format!("cannot import {}", args.source))?;
    if let Some(import_id) = outcome.import_id {
        store::imports::set_fingerprint(&pool, import_id, &fingerprint).await?;
    }
    if let (Some(v), false) = (validators, args.dry_run) {
        store::conferences::set_source_validators(
            &pool,
            &slug,
            &args.source,
            v.etag,
            v.last_modified,
        )
        .await?;
    }
    for warning in &schedule.warnings {
        eprintln!("warning: {}: {warning}", args.source);
    }
    print!(
        "{}",
        output::import_report(&outcome.conference, &outcome.diff, args.dry_run)
    );
    Ok(())
}

/// SHA-256 over what decides an import's result besides the stored data: the source bytes,
/// the `--format` and the `--timezone` flags.
fn fingerprint(bytes: &[u8], format: Option<Format>, zone: Option<Tz>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(format.map_or("auto", Format::as_str).as_bytes());
    hasher.update([0]);
    hasher.update(zone.map_or("", |z| z.name()).as_bytes());
    hasher.update([0]);
    hasher.update(bytes);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn default_zone(settings: &Settings) -> Tz {
    settings.defaults.time_zone
}

fn parse(
    bytes: &[u8],
    format: Option<Format>,
    options: &ImportOptions,
) -> Result<(Format, ImportedSchedule), import::ImportError> {
    let format = format.unwrap_or_else(|| Format::detect(bytes));
    Ok((format, import::parse(bytes, Some(format), options)?))
}

/// The bytes of a source, and the HTTP validators to remember for the next fetch.
struct Source {
    bytes: Vec<u8>,
    validators: Option<Validators>,
}

/// Reads a file (refusing one over the size cap before reading it) or fetches a URL with the
/// validators of the conference's last fetch. `None`: the server said "not modified".
async fn read_source(
    settings: &Settings,
    pool: &sqlx::PgPool,
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
        let fetcher = Fetcher::new(&settings.import)?;
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
        bail!("{source}: only local files and http(s) URLs can be imported");
    }
    let meta = tokio::fs::metadata(source)
        .await
        .with_context(|| format!("cannot read {source}"))?;
    let limit = settings.import.max_bytes;
    if meta.len() > limit as u64 {
        bail!(
            "{source} is {} bytes, over the {limit}-byte limit (import.max_bytes)",
            meta.len()
        );
    }
    let bytes = tokio::fs::read(source)
        .await
        .with_context(|| format!("cannot read {source}"))?;
    Ok(Some(Source {
        bytes,
        validators: None,
    }))
}
