//! The PostgreSQL store: all SQL lives under this module, one file per aggregate.

pub mod announcements;
pub mod boards;
pub mod conferences;
mod copy;
pub mod dm_channels;
pub mod events;
pub mod feeds;
pub mod gateway_lease;
pub mod guilds;
pub mod imports;
pub mod interaction_claims;
pub mod outbox;
pub mod privacy;
pub mod programme;
pub mod questions;
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
    /// The first connection failed: says where and why ("127.0.0.1:5432: connection
    /// refused"), which is what an operator needs, instead of a pool's "timed out".
    #[error("cannot reach the database at {at}: {cause}")]
    Unreachable { at: String, cause: String },
    // The sources' own Display is not repeated here: `{:#}` of a chain would print the
    // same database message two or three times.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("applying database migrations failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Query(#[from] sqlx::Error),
    /// Data that cannot be stored or a stored value that does not parse.
    #[error("{0}")]
    Invalid(String),
    /// An import that would cancel most of a programme or change its zone, not confirmed.
    #[error("{0}")]
    MassChange(crate::domain::diff::MassChange),
}

/// How long the first, direct connection may take: a dead database is reported within
/// seconds, not after the pool's acquire timeout.
const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Opens a connection pool. Connects once directly first, so a dead database is reported
/// at once with its `host:port` and the cause ("connection refused").
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    use sqlx::ConnectOptions as _;
    // The URL may hold a password: never echo it in the error.
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::BadUrl(redact_error(&e.to_string())))?
        // Statements are logged at debug only: a slow import is not a warning, and the
        // full SQL text of a 10,000-row insert buries the one line that matters.
        .log_statements(log::LevelFilter::Trace)
        .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
    let at = format!("{}:{}", options.get_host(), options.get_port());
    match tokio::time::timeout(FIRST_CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(connection)) => {
            // Closing politely is a courtesy; the pool opens its own connections.
            let _ = sqlx::Connection::close(connection).await;
        }
        Ok(Err(error)) => {
            return Err(StoreError::Unreachable {
                at,
                cause: connect_cause(&error),
            })
        }
        Err(_) => {
            return Err(StoreError::Unreachable {
                at,
                cause: format!("no answer within {} s", FIRST_CONNECT_TIMEOUT.as_secs()),
            })
        }
    }
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(StoreError::Unavailable)
}

/// The reason a connection failed, in words: the OS error for a socket ("connection
/// refused"), the server's message otherwise (bad password, unknown database).
fn connect_cause(error: &sqlx::Error) -> String {
    let text = match error {
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            std::io::ErrorKind::TimedOut => "timed out".to_owned(),
            _ => io.to_string(),
        },
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    };
    redact_error(&text)
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
