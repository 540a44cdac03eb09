//! A private, throwaway PostgreSQL server: the default database when no `DATABASE_URL` is
//! configured, and the server the integration tests use when none is given to them.
//!
//! Why it looks the way it does:
//! - `initdb` and `postgres` refuse to run as root, and containers and CI machines often run
//!   everything as root. As root the server therefore runs as the `postgres` system user (the
//!   Debian package `postgresql` creates it), with its directory handed over to that user.
//! - It listens on a Unix socket in its own temporary directory and on no TCP port: no clash
//!   with a system server or another embedded server, nothing reachable from the network, and
//!   `trust` authentication is safe because only the owner of that directory can reach it.
//! - `fsync=off` (and friends): the data is deleted when the server stops, so durability would
//!   only cost time.
//! - `postgres` runs as a direct child, spawned from a thread that lives exactly as long as the
//!   server. On Linux the kernel sends the server SIGQUIT when that thread dies, so even a
//!   killed or crashed parent process leaves no orphan postgres behind. A normal exit, `stop`
//!   or `Drop` shut it down cleanly and remove its directory; the directory of a killed
//!   process is removed by the next one to start a server (`leftovers.rs`).

mod leftovers;
mod process;
mod setup;

use leftovers::{claim, remove_stale_dirs};
use process::{run_as, spawn_server, stop_child, Server};
use setup::{find_bin_dir, run_initdb, service_user};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Names the server directories, so leftovers of killed processes can be found.
const DIR_PREFIX: &str = "confbot-pg-";
/// The role and database the embedded server is created with.
const NAME: &str = "confbot";
/// The port only names the socket file (`.s.PGSQL.5432`); no TCP port is opened.
const PORT: u16 = 5432;
/// How long the server may take to accept connections after it was spawned.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the embedded server could not be started. Meant for the operator: each variant says
/// what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedDbError {
    #[error(
        "no PostgreSQL server binaries (initdb, postgres) were found ({searched}); install the \
         Debian package `postgresql`, point CONFBOT_PG_BIN at the directory holding them, or \
         set DATABASE_URL to use an existing server"
    )]
    NotInstalled { searched: String },
    #[error(
        "running as root, which PostgreSQL refuses, and there is no `postgres` system user to \
         run it as; install the Debian package `postgresql` (it creates that user), run as a \
         normal user, or set DATABASE_URL to use an existing server"
    )]
    NoServiceUser,
    #[error("the socket path {0} is too long for a Unix socket; use a shorter TMPDIR")]
    SocketPathTooLong(String),
    #[error("preparing the embedded PostgreSQL failed: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("initdb failed: {output}")]
    Initdb { output: String },
    #[error("the embedded PostgreSQL server did not start: {reason}\n--- end of its log ---\n{log_tail}")]
    Start { reason: String, log_tail: String },
    #[error("creating the `confbot` database failed: {0}")]
    CreateDatabase(#[source] sqlx::Error),
}

impl EmbeddedDbError {
    fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

/// A running private PostgreSQL server with an empty `confbot` database. Stopped, and its
/// directory deleted, by [`EmbeddedPostgres::stop`] or when dropped.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    url: String,
    root: PathBuf,
    log_file: PathBuf,
    server: Option<Server>,
    dir: Option<tempfile::TempDir>,
}

impl EmbeddedPostgres {
    /// Starts a server in a new temporary directory (under `/tmp` on Unix: short enough for a
    /// socket path and reachable by the `postgres` user when running as root).
    pub async fn start() -> Result<EmbeddedPostgres, EmbeddedDbError> {
        Self::start_in(default_parent()).await
    }

    /// Starts a server in a new temporary directory inside `parent`.
    pub async fn start_in(parent: impl AsRef<Path>) -> Result<EmbeddedPostgres, EmbeddedDbError> {
        let parent = parent.as_ref().to_path_buf();
        // initdb takes most of a second of blocking process work: keep it off the runtime.
        let mut db = tokio::task::spawn_blocking(move || Self::launch(&parent))
            .await
            .map_err(|e| EmbeddedDbError::Io {
                context: "the startup task failed".into(),
                source: io::Error::other(e.to_string()),
            })??;
        // On failure `db` is dropped here, which stops the server and removes its directory.
        db.wait_until_ready().await?;
        Ok(db)
    }

    /// The connection URL of the `confbot` database (Unix socket, no password).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The temporary directory holding the data, the socket and the server log.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().map(|s| s.child.id())
    }

    /// Stops the server (fast shutdown) and deletes its directory.
    pub async fn stop(mut self) {
        // Waiting for the server to exit blocks: do it on the blocking pool. If that task
        // cannot run, `Drop` does the same work on this thread.
        let _ = tokio::task::spawn_blocking(move || self.shutdown()).await;
    }

    fn launch(parent: &Path) -> Result<EmbeddedPostgres, EmbeddedDbError> {
        let bin_dir = find_bin_dir()?;
        let user = service_user()?;
        remove_stale_dirs(parent, DIR_PREFIX);
        let dir = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir_in(parent)
            .map_err(EmbeddedDbError::io(format!(
                "creating a directory in {}",
                parent.display()
            )))?;
        let root = dir.path().to_path_buf();
        claim(&root).map_err(EmbeddedDbError::io("recording the directory's owner"))?;
        let data = root.join("data");
        let socket_dir = root.join("sock");
        let log_file = root.join("server.log");
        std::fs::create_dir(&socket_dir).map_err(EmbeddedDbError::io("creating the socket dir"))?;
        check_socket_path(&socket_dir)?;
        if let Some(user) = &user {
            for path in [&root, &socket_dir] {
                std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(
                    EmbeddedDbError::io(format!("handing {} to postgres", path.display())),
                )?;
            }
        }
        run_initdb(&bin_dir.join("initdb"), &data, &root, NAME, user.as_ref())?;

        let log = std::fs::File::create(&log_file)
            .map_err(EmbeddedDbError::io("creating the server log"))?;
        let log_err = log
            .try_clone()
            .map_err(EmbeddedDbError::io("opening the server log"))?;
        let mut command = Command::new(bin_dir.join("postgres"));
        command
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-p", &PORT.to_string()])
            // No TCP listener: the socket directory is the only way in.
            .args(["-c", "listen_addresses="])
            // Throwaway data: skip everything that only buys durability.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        run_as(&mut command, user.as_ref());
        let server = spawn_server(command).map_err(EmbeddedDbError::io(format!(
            "starting {}",
            bin_dir.join("postgres").display()
        )))?;

        let url = format!(
            "postgres://{NAME}@localhost:{PORT}/{NAME}?host={}&sslmode=disable",
            percent_encode_path(&socket_dir)
        );
        Ok(EmbeddedPostgres {
            url,
            root,
            log_file,
            server: Some(server),
            dir: Some(dir),
        })
    }

    /// Polls until the server accepts connections, then creates the `confbot` database.
    async fn wait_until_ready(&mut self) -> Result<(), EmbeddedDbError> {
        let options = PgConnectOptions::from_str(&self.url)
            .map_err(EmbeddedDbError::CreateDatabase)?
            .database("postgres")
            .disable_statement_logging();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(server) = self.server.as_mut() {
                if let Ok(Some(status)) = server.child.try_wait() {
                    return Err(self.start_error(format!("postgres exited with {status}")));
                }
            }
            match options.connect().await {
                Ok(mut conn) => {
                    let created = sqlx::query(&format!("CREATE DATABASE {NAME}"))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                    return created.map(|_| ()).map_err(EmbeddedDbError::CreateDatabase);
                }
                // While starting up the socket is missing or the server answers "the database
                // system is starting up": both are expected for a moment.
                Err(e) if Instant::now() >= deadline => {
                    return Err(self.start_error(format!(
                        "no connection within {} s; last error: {e}",
                        START_TIMEOUT.as_secs()
                    )));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
    }

    fn start_error(&self, reason: String) -> EmbeddedDbError {
        let log = std::fs::read(&self.log_file).unwrap_or_default();
        EmbeddedDbError::Start {
            reason,
            log_tail: log_tail(&String::from_utf8_lossy(&log), 20),
        }
    }

    /// Stops the server (if it runs) and deletes the directory; idempotent.
    fn shutdown(&mut self) {
        if let Some(mut server) = self.server.take() {
            stop_child(&mut server.child);
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            if let Err(e) = dir.close() {
                tracing::warn!(dir = %path.display(), error = %e, "could not remove the embedded database directory");
            }
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn default_parent() -> PathBuf {
    // TMPDIR may be long (macOS) or private to root (/root/tmp): /tmp is neither.
    let tmp = Path::new("/tmp");
    if tmp.is_dir() {
        tmp.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Unix socket paths are limited to 107 bytes (103 on BSDs), including `.s.PGSQL.5432`.
fn check_socket_path(socket_dir: &Path) -> Result<(), EmbeddedDbError> {
    let full = socket_dir.join(format!(".s.PGSQL.{PORT}"));
    if full.as_os_str().len() > 100 {
        return Err(EmbeddedDbError::SocketPathTooLong(
            full.display().to_string(),
        ));
    }
    Ok(())
}

/// Percent-encodes a path for a URL query value, keeping `/` and unreserved characters.
fn percent_encode_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The last `lines` lines of `text`.
fn log_tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_path_is_encoded_for_a_url_query() {
        let encoded = percent_encode_path(Path::new("/tmp/my dir/sock&x"));

        assert_eq!(encoded, "/tmp/my%20dir/sock%26x");
    }

    #[test]
    fn the_log_tail_keeps_the_last_lines() {
        assert_eq!(log_tail("a\nb\nc\nd", 2), "c\nd");
        assert_eq!(log_tail("only", 5), "only");
    }

    #[test]
    fn an_overlong_socket_directory_is_refused() {
        let long = PathBuf::from(format!("/tmp/{}", "x".repeat(90)));

        let result = check_socket_path(&long);

        assert!(matches!(result, Err(EmbeddedDbError::SocketPathTooLong(_))));
    }
}
