//! `confbot import SOURCE --conference SLUG`: read, parse, diff and store in one transaction
//! (see [`crate::importer`]), then print the diff.

use anyhow::Context;

use crate::cli::{connect_configured, output, ImportArgs};
use crate::config::Settings;
use crate::domain::import::Format;
use crate::domain::model::ConferenceSlug;
use crate::domain::time::zone_by_name;
use crate::importer::{self, ImportJob, Imported};

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
    let job = ImportJob {
        slug: &slug,
        source: &args.source,
        format: args.format.map(Format::from),
        zone_override,
        default_zone: settings.defaults.time_zone,
        dry_run: args.dry_run,
        force: args.force,
        summary_speakers: args.summary_speakers,
        timetable_only: false,
        allow_mass_change: args.allow_mass_change,
        previewed: None,
    };
    let mut import_settings = settings.import.clone();
    import_settings.allow_private_addresses |= args.allow_private_addresses;
    let imported = importer::run(&import_settings, &pool, &job)
        .await
        .map_err(|error| {
            if error
                .downcast_ref::<importer::MassChangeRefused>()
                .is_some()
            {
                error.context(
                    "if this is the right schedule for this conference, run again with \
                     --allow-mass-change",
                )
            } else {
                error
            }
        })?;
    match imported {
        Imported::NotModified => outln!(
            "{slug}: {} has not changed since the last import (HTTP 304).",
            args.source
        ),
        Imported::Identical => outln!(
            "{slug}: {} is identical to the last import; nothing changed.",
            args.source
        ),
        Imported::Applied {
            outcome,
            warnings,
            notes,
        } => {
            for note in &notes {
                note!("note: {}: {note}", args.source);
            }
            for warning in &warnings {
                note!("warning: {}: {warning}", args.source);
            }
            out!(
                "{}",
                output::import_report(&outcome.conference, &outcome.diff, args.dry_run)
            );
        }
    }
    Ok(())
}
