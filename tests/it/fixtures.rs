//! Schedules into a test database: parse a fixture and import it the way `confbot import` does.

use chrono_tz::Tz;
use confbot::domain::import::{self, Format, ImportOptions};
use confbot::domain::model::{ConferenceSlug, ImportedSchedule, StoredTalk};
use confbot::store;
use confbot::store::imports::{apply_import, ImportOutcome, ImportRequest};
use sqlx::PgPool;

/// The seed schedule (`seed000-nbpy-pretalx.ics`): one talk, 15:45–16:10 PST on 25 April
/// 2026 in Barn.
pub const SEED_ICS: &str = include_str!("../fixtures/seed000-nbpy-pretalx.ics");

/// [`SEED_ICS`] with its talk moved an hour later (16:45–17:10, same room).
pub fn seed_an_hour_later() -> String {
    SEED_ICS
        .replace(
            "DTSTART;TZID=PST:20260425T154500",
            "DTSTART;TZID=PST:20260425T164500",
        )
        .replace(
            "DTEND;TZID=PST:20260425T161000",
            "DTEND;TZID=PST:20260425T171000",
        )
}

/// Every stored talk of `conference`, as `store::talks::load` reads them.
pub async fn stored_talks(pool: &PgPool, conference: &str) -> Vec<StoredTalk> {
    let mut conn = pool.acquire().await.expect("connection");
    let slug = ConferenceSlug::parse(conference).expect("slug");
    let row = store::conferences::find(&mut conn, &slug)
        .await
        .expect("query")
        .expect("conference exists");
    store::talks::load(&mut conn, row.id).await.expect("talks")
}

/// Parses a fixture in whatever format it is (detected), with no zone given.
pub fn parse(text: &str) -> ImportedSchedule {
    import::parse(text.as_bytes(), None, &ImportOptions::default()).expect("fixture parses")
}

/// Parses `text` and imports it into `conference` (created if new, UTC by default).
pub async fn import_text(pool: &PgPool, conference: &str, text: &str) -> ImportOutcome {
    import_schedule(pool, conference, &parse(text), false).await
}

/// [`import_text`], confirming an import that cancels most talks or changes the zone (as
/// `--allow-mass-change` does).
pub async fn import_text_confirmed(pool: &PgPool, conference: &str, text: &str) -> ImportOutcome {
    import_with(pool, conference, &parse(text), false, true).await
}

/// Imports a parsed schedule into `conference`; panics if the import fails.
pub async fn import_schedule(
    pool: &PgPool,
    conference: &str,
    schedule: &ImportedSchedule,
    dry_run: bool,
) -> ImportOutcome {
    import_with(pool, conference, schedule, dry_run, false).await
}

async fn import_with(
    pool: &PgPool,
    conference: &str,
    schedule: &ImportedSchedule,
    dry_run: bool,
    allow_mass_change: bool,
) -> ImportOutcome {
    let slug = ConferenceSlug::parse(conference).expect("slug");
    apply_import(
        pool,
        ImportRequest {
            slug: &slug,
            source: "test",
            format: Format::Ics,
            schedule: schedule.clone(),
            time_zone_override: None,
            default_time_zone: Tz::UTC,
            dry_run,
            allow_mass_change,
        },
    )
    .await
    .expect("import succeeds")
}
