//! The PostgreSQL store: all SQL lives under this module, one file per aggregate.

pub mod announcements;
pub mod conferences;
pub mod guilds;
pub mod imports;
pub mod outbox;
pub mod privacy;
pub mod programme;
pub mod subscriptions;
pub mod syncs;
pub mod talks;
pub mod workers;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// The schema migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// A store failure. `Unavailable` means the database could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database URL is not valid: {0}")]
    BadUrl(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("applying database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// Data that cannot be stored or a stored value that does not parse.
    #[error("{0}")]
    Invalid(String),
    /// An import that would cancel most of a programme or change its zone, not confirmed.
    #[error("{0}")]
    MassChange(crate::domain::diff::MassChange),
}

/// Opens a connection pool. Fails fast (5 s) when the database cannot be reached.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    // The URL may hold a password: never echo it in the error.
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::BadUrl(redact_error(&e.to_string())))?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(StoreError::Unavailable)
}

/// Applies pending migrations (idempotent; safe with several processes starting at once,
/// sqlx takes an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// A Discord id (u64) as stored in a `bigint` column: the same 64 bits, reinterpreted.
/// Lossless both ways ([`id_from_db`] undoes it exactly); ids above `i64::MAX` become
/// negative in SQL, which is fine because ids are only ever compared for equality.
pub(crate) fn id_to_db(id: u64) -> i64 {
    // A bit-cast, not a range conversion: every u64 has exactly one i64 with the same bits.
    i64::from_ne_bytes(id.to_ne_bytes())
}

/// A stored `bigint` Discord id back as the u64 it was (see [`id_to_db`]).
pub(crate) fn id_from_db(id: i64) -> u64 {
    u64::from_ne_bytes(id.to_ne_bytes())
}

fn redact_error(message: &str) -> String {
    // sqlx's URL errors do not include the URL itself, but keep them short regardless.
    message.chars().take(200).collect()
}
