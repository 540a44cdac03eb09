//! The test database fixture: every test gets a fresh database with all migrations applied.
//!
//! ```ignore
//! let db = TestDb::new().await;
//! sqlx::query("SELECT 1").execute(&db.pool).await.unwrap();
//! ```
//!
//! Which server:
//! - `CONFBOT_TEST_DATABASE_URL` set: that server (an admin URL whose user may create
//!   databases; PostgreSQL 13 or newer for `DROP DATABASE .. WITH (FORCE)`). `.ci/run` sets
//!   it when a local server runs.
//! - otherwise one private [`EmbeddedPostgres`] per test process, started by the first test
//!   that asks. It needs the PostgreSQL server binaries; without them every test fails with
//!   the reason (tests never skip silently).
//!
//! Speed: the migrations run once into a template database; each test database is a copy
//! (`CREATE DATABASE .. TEMPLATE ..`), which takes milliseconds.
//!
//! Lifetimes: each `#[tokio::test]` has its own runtime, so nothing shared here may belong to
//! a runtime (no shared pool): the server handle is plain data in a static, and each test opens
//! its own connections. Postgres has no "stop when the client exits", so the embedded server is
//! stopped by an `atexit` hook when the test process exits normally (tests passed or failed),
//! and by the parent-death signal `EmbeddedPostgres` arranges when the process is killed.

use confbot::embedded_db::EmbeddedPostgres;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

mod drops;
pub use drops::dropped_within;

/// The environment variable naming an existing server to test against.
pub const SERVER_URL_VAR: &str = "CONFBOT_TEST_DATABASE_URL";

/// Test databases are named `confbot_test_<unix seconds>_<random>`, so leftovers of a killed
/// run can be recognised (and dropped) by age.
const TEST_DB_PREFIX: &str = "confbot_test_";
/// Serialises template creation between test processes sharing one server.
const TEMPLATE_LOCK: i64 = 0x0063_6f6e_6662_6f74; // "confbot" in ASCII

/// The server chosen for this process, or why there is none (kept so that every test reports
/// it instead of retrying the start).
static SERVER: OnceCell<Result<Server, String>> = OnceCell::const_new();
/// The embedded server, if one was started; taken and stopped by [`stop_embedded_server`].
static EMBEDDED: Mutex<Option<EmbeddedPostgres>> = Mutex::new(None);

struct Server {
    /// Where `CREATE DATABASE` is issued.
    admin_url: String,
    /// The migrated database every test database is copied from.
    template: String,
}

/// A fresh database for one test, dropped again (off this thread) once this value is dropped.
pub struct TestDb {
    /// A pool connected to this test's database.
    pub pool: PgPool,
    /// The URL of this test's database (for the binary under test or a second pool).
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDb {
    /// Creates a migrated database for this test. Panics with the reason when no database
    /// server is available.
    pub async fn new() -> TestDb {
        let server = match SERVER.get_or_init(choose_server).await {
            Ok(server) => server,
            Err(reason) => panic!("no database for the integration tests: {reason}"),
        };
        let name = format!("{TEST_DB_PREFIX}{}_{:016x}", unix_seconds(), random_u64());
        let mut admin = connect(&server.admin_url).await;
        // Copies of one template may run concurrently: CREATE DATABASE only takes a shared
        // lock on the template and refuses just while something is *connected* to it, which
        // nothing is once it is marked as a template (ALLOW_CONNECTIONS false).
        sqlx::query(&format!(
            r#"CREATE DATABASE "{name}" TEMPLATE "{}""#,
            server.template
        ))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("creating test database {name} failed: {e}"));
        let _ = admin.close().await;

        let url = with_database(&server.admin_url, &name);
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options(&url))
            .await
            .unwrap_or_else(|e| panic!("connecting to test database {name} failed: {e}"));
        TestDb {
            pool,
            url,
            name,
            admin_url: server.admin_url.clone(),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDb {
    /// Queues the database to be dropped (and, `WITH (FORCE)`, any connection still open to
    /// it) so a long test run does not fill the disk with copies. Never waits here: see
    /// [`drops`] for why a test's own thread must not.
    fn drop(&mut self) {
        drops::drop_later(self.admin_url.clone(), self.name.clone());
    }
}

/// The `confbot` binary built from this crate, for tests that run the real program.
// Not every build of the test binary uses it yet; the CLI tests will.
#[allow(dead_code)]
pub fn confbot_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_confbot"))
}

async fn choose_server() -> Result<Server, String> {
    let external = std::env::var(SERVER_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty());
    let admin_url = match &external {
        Some(url) => url.clone(),
        None => {
            let server = EmbeddedPostgres::start().await.map_err(|e| {
                format!("{SERVER_URL_VAR} is not set and the private PostgreSQL did not start: {e}")
            })?;
            let url = server.url().to_owned();
            keep_until_exit(server);
            url
        }
    };
    let template = prepare_template(&admin_url).await.map_err(|e| {
        format!(
            "preparing the migrated template database failed: {e:#} (server: {})",
            redact(&admin_url)
        )
    })?;
    if external.is_some() {
        drop_stale_test_databases(&admin_url).await;
    }
    Ok(Server {
        admin_url,
        template,
    })
}

/// Creates (once per server and migration set) the template database with every migration
/// applied. Its name carries a hash of the migrations, so a changed migration set never reuses
/// an old template; a half-made one from a killed run is not yet marked as a template and is
/// rebuilt. Held under an advisory lock so concurrent test processes do not race.
async fn prepare_template(admin_url: &str) -> anyhow::Result<String> {
    let template = template_name();
    let mut admin = options(admin_url).connect().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await?;
    let ready: Option<bool> =
        sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
            .bind(&template)
            .fetch_optional(&mut admin)
            .await?;
    if ready != Some(true) {
        let q = format!(r#"DROP DATABASE IF EXISTS "{template}" WITH (FORCE)"#);
        sqlx::query(&q).execute(&mut admin).await?;
        sqlx::query(&format!(r#"CREATE DATABASE "{template}""#))
            .execute(&mut admin)
            .await?;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options(&with_database(admin_url, &template)))
            .await?;
        let migrated = confbot::store::migrate(&pool).await;
        // Every connection to the template must be gone before it can be copied.
        pool.close().await;
        migrated?;
        let q =
            format!(r#"ALTER DATABASE "{template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"#);
        sqlx::query(&q).execute(&mut admin).await?;
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await?;
    let _ = admin.close().await;
    Ok(template)
}

/// `confbot_tpl_<hash of the migrations' versions and checksums>`.
fn template_name() -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for migration in confbot::store::MIGRATOR.iter() {
        migration.version.hash(&mut hasher);
        migration.checksum.hash(&mut hasher);
    }
    format!("confbot_tpl_{:016x}", hasher.finish())
}

/// Queues for dropping the test databases older than an hour that a killed run left on a
/// shared server (off this test's thread, like every drop of a test database).
async fn drop_stale_test_databases(admin_url: &str) {
    let Ok(mut admin) = options(admin_url).connect().await else {
        return;
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'confbot\\_test\\_%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap_or_default();
    let cutoff = unix_seconds().saturating_sub(3600);
    for name in names {
        let created = name
            .strip_prefix(TEST_DB_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs < cutoff) {
            drops::drop_later(admin_url.to_owned(), name);
        }
    }
    let _ = admin.close().await;
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    let mut admin = options(admin_url)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let q = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
    let result = sqlx::query(&q)
        .execute(&mut admin)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    let _ = admin.close().await;
    result
}

/// Keeps the embedded server for the rest of the process and stops it at exit. Statics are
/// never dropped, hence the `atexit` hook.
fn keep_until_exit(server: EmbeddedPostgres) {
    match EMBEDDED.lock() {
        Ok(mut slot) => *slot = Some(server),
        Err(poisoned) => *poisoned.into_inner() = Some(server),
    }
    // SAFETY: registers a plain `extern "C"` function; called once (from the OnceCell init).
    if unsafe { libc::atexit(stop_embedded_server) } != 0 {
        eprintln!(
            "warning: cannot stop the embedded PostgreSQL at exit; it stops when this process dies"
        );
    }
}

extern "C" fn stop_embedded_server() {
    // The drops still queued go first, while the server answers.
    drops::drain_at_exit();
    // A panic must not unwind into libc.
    let _ = std::panic::catch_unwind(|| {
        let server = match EMBEDDED.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        // Dropping stops the server and deletes its directory.
        drop(server);
    });
}

async fn connect(url: &str) -> PgConnection {
    options(url)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connecting to the test server {} failed: {e}", redact(url)))
}

fn options(url: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(url)
        .unwrap_or_else(|e| panic!("{SERVER_URL_VAR} is not a valid PostgreSQL URL: {e}"))
        .disable_statement_logging()
}

/// `url` with its database (the path) replaced by `name`; the query string is kept.
fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url.find('?') {
        Some(q) => url.split_at(q),
        None => (url, ""),
    };
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    match (url[start..].find(':'), url[start..].find('@')) {
        (Some(colon), Some(at)) if colon < at => {
            format!("{}:***{}", &url[..start + colon], &url[start + at..])
        }
        _ => url.to_owned(),
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn random_u64() -> u64 {
    // RandomState is seeded randomly per instance: enough for unique names, no extra crate.
    RandomState::new().build_hasher().finish()
}

#[test]
fn a_database_url_gets_the_test_database_name() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "t1"),
        "postgres://u:p@h:5432/t1?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
    assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
}
