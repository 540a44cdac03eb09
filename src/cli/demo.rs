//! `confbot demo`: the newcomer's first command. Needs nothing configured: it brings up a
//! private throwaway PostgreSQL (unless a database is configured), imports a bundled sample
//! conference (a pretalx iCalendar export plus a talk listing that enriches it) and prints
//! the programme in the conference's own time zone.

use crate::cli::{connect_or_embedded, output};
use crate::config::Settings;
use crate::domain::import::{self, Format, ImportOptions};
use crate::domain::model::ConferenceSlug;
use crate::store;
use crate::store::imports::{apply_import, ImportRequest};

/// The bundled sample: a two-day conference in America/Los_Angeles, exported by pretalx
/// (TZID=PST with a VTIMEZONE), and a plain-text listing of some of its talks.
const SAMPLE_ICS: &str = include_str!("demo/schedule.ics");
const SAMPLE_LISTING: &str = include_str!("demo/listing.txt");

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let (pool, embedded) = connect_or_embedded(settings).await?;
    let result = show(settings, &pool).await;
    pool.close().await;
    if let Some(db) = embedded {
        db.stop().await;
        eprintln!("Stopped the private PostgreSQL and removed its files.");
    }
    result
}

async fn show(settings: &Settings, pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let slug = ConferenceSlug::parse("demo-conf")?;
    for (name, text) in [
        ("bundled sample schedule.ics", SAMPLE_ICS),
        ("bundled sample listing.txt", SAMPLE_LISTING),
    ] {
        let format = Format::detect(text.as_bytes());
        let schedule = import::parse(text.as_bytes(), Some(format), &ImportOptions::default())?;
        let outcome = apply_import(
            pool,
            ImportRequest {
                slug: &slug,
                source: name,
                format,
                schedule: &schedule,
                time_zone_override: None,
                default_time_zone: settings.defaults.time_zone,
                dry_run: false,
            },
        )
        .await?;
        println!("Imported {name}:");
        print!(
            "{}",
            output::import_report(&outcome.conference, &outcome.diff, false)
        );
    }
    let mut conn = pool.acquire().await?;
    let row = store::conferences::find(&mut conn, &slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo conference vanished"))?;
    let talks = store::talks::load(&mut conn, row.id).await?;
    println!();
    print!("{}", output::programme(&row.conference, &talks));
    Ok(())
}
