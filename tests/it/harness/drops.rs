//! Test databases are dropped by one thread per test process, never on a test's own thread.
//!
//! From PostgreSQL 15 on, `DROP DATABASE` waits until every backend of the whole server has
//! let go of its files (a `ProcSignalBarrier`), and a backend blocked sending to a client
//! that is not reading does not do so until the client reads again. Dropping on a test's
//! thread froze that test's runtime for the wait: its stand-in, its child processes' log
//! readers and any other connection of its stopped reading, so one test's drop could hold up
//! another's, and two such waits could hold each other for ever (a CI run hung at 5,400 s).
//! Here the tests go on while a database is dropped, and the process waits for the last
//! drops at exit, for a bounded time. A database still left then stays on the server: an
//! external one is swept of stale test databases by a later run, an embedded one goes whole.

use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// How long the process waits at exit for drops still queued.
const DRAIN_AT_EXIT: Duration = Duration::from_secs(60);

/// A database to drop: the admin URL to issue it from, and its name.
type Job = (String, String);

struct Queue {
    jobs: mpsc::Sender<Job>,
    /// Queued or running drops, and a signal for each one that ends.
    pending: Arc<(Mutex<usize>, Condvar)>,
}

static QUEUE: OnceLock<Option<Queue>> = OnceLock::new();

/// Queues `name` to be dropped; returns at once.
pub(super) fn drop_later(admin_url: String, name: String) {
    let Some(queue) = QUEUE.get_or_init(start) else {
        warn(&format!("test database {name} is left on the server"));
        return;
    };
    *lock(&queue.pending.0) += 1;
    if let Err(mpsc::SendError((_, name))) = queue.jobs.send((admin_url, name)) {
        finished(&queue.pending);
        warn(&format!("test database {name} is left on the server"));
    }
}

/// Starts the dropping thread and registers the wait at exit.
fn start() -> Option<Queue> {
    let (jobs, received) = mpsc::channel::<Job>();
    let pending = Arc::new((Mutex::new(0), Condvar::new()));
    let counted = Arc::clone(&pending);
    let spawned = std::thread::Builder::new()
        .name("test-database-drops".to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            for (admin_url, name) in received {
                // A panic must not leave the count up: the exit would wait its full time.
                let dropped = std::panic::catch_unwind(AssertUnwindSafe(|| match &runtime {
                    Ok(runtime) => runtime.block_on(super::drop_database(&admin_url, &name)),
                    Err(e) => Err(e.to_string()),
                }))
                .unwrap_or_else(|_| Err("the drop panicked".to_owned()));
                if let Err(e) = dropped {
                    warn(&format!("could not drop test database {name}: {e}"));
                }
                finished(&counted);
            }
        });
    if let Err(e) = spawned {
        warn(&format!("no thread to drop test databases: {e}"));
        return None;
    }
    // SAFETY: registers a plain `extern "C"` function, once (from the OnceLock init).
    if unsafe { libc::atexit(drain_at_exit) } != 0 {
        warn("test databases still queued at exit are left on the server");
    }
    Some(Queue { jobs, pending })
}

/// To the process's stderr itself: this thread was started inside whichever test dropped a
/// database first, and `eprintln!` would add its lines to that test's captured output.
fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "warning: {message}");
}

fn finished(pending: &(Mutex<usize>, Condvar)) {
    let mut count = lock(&pending.0);
    *count = count.saturating_sub(1);
    pending.1.notify_all();
}

/// Waits, for [`DRAIN_AT_EXIT`] at most, until every queued drop has ended. Registered with
/// `atexit` after the embedded server's stop hook (the server starts before any test
/// database exists), so it runs first; that hook calls it too, so the order holds anyway.
pub(super) extern "C" fn drain_at_exit() {
    // A panic must not unwind into libc.
    let _ = std::panic::catch_unwind(|| {
        let Some(Some(queue)) = QUEUE.get() else {
            return;
        };
        let (count, ended) = &*queue.pending;
        let waited = ended
            .wait_timeout_while(lock(count), DRAIN_AT_EXIT, |left| *left > 0)
            .unwrap_or_else(PoisonError::into_inner);
        if *waited.0 > 0 {
            warn(&format!(
                "{} test database(s) not dropped within {DRAIN_AT_EXIT:?} are left on the server",
                waited.0
            ));
        }
    });
}

fn lock(count: &Mutex<usize>) -> std::sync::MutexGuard<'_, usize> {
    count.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether the server has a database `name`.
async fn exists(pool: &sqlx::PgPool, name: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("pg_database")
}

/// Waits until the dropping thread has dropped `name`; false if it is still there after
/// `limit`.
pub async fn dropped_within(observer: &sqlx::PgPool, name: &str, limit: Duration) -> bool {
    tokio::time::timeout(limit, async {
        while exists(observer, name).await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .is_ok()
}

/// The hang this module prevents, in one runtime: while a backend of this test waits for this
/// runtime to read its result, `DROP DATABASE` of any database waits too, and dropping a
/// [`super::TestDb`] must not.
#[tokio::test]
async fn dropping_a_test_database_does_not_wait_for_the_server_to_drop_it() {
    use futures_util::TryStreamExt;

    let reader = super::TestDb::new().await;
    let doomed = super::TestDb::new().await;
    let name = doomed.name().to_owned();
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(&reader.pool)
        .await
        .expect("the server's version");
    let drops_wait = version >= 150_000;
    if !drops_wait {
        println!("PostgreSQL {version}: DROP DATABASE does not wait for other backends here");
    }
    let rows = 100_000;
    let query = format!("SELECT repeat('x', 1000) FROM generate_series(1, {rows})");
    let mut connection = reader.pool.acquire().await.expect("a connection");
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *connection)
        .await
        .expect("the backend's pid");
    let mut result = sqlx::query_scalar::<_, String>(&query).fetch(&mut *connection);
    let mut read = usize::from(result.try_next().await.expect("a row").is_some());
    // The backend sends until the sockets' buffers, which grow for a while, are full. Waiting
    // there, it cannot take the drop's barrier; while it still sends, it takes it in passing.
    let stuck = tokio::time::timeout(Duration::from_secs(30), async {
        let mut seen = 0;
        while seen < 10 {
            let waiting: Option<String> =
                sqlx::query_scalar("SELECT wait_event FROM pg_stat_activity WHERE pid = $1")
                    .bind(pid)
                    .fetch_one(&reader.pool)
                    .await
                    .expect("pg_stat_activity");
            seen = if waiting.as_deref() == Some("ClientWrite") {
                seen + 1
            } else {
                0
            };
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        stuck.is_ok(),
        "the backend never waited for this runtime to read"
    );

    // On another thread, so that a drop that waits fails this test instead of hanging it.
    let dropping = tokio::task::spawn_blocking(move || drop(doomed));
    let returned = tokio::time::timeout(Duration::from_secs(5), dropping).await;
    let still_there = exists(&reader.pool, &name).await;
    while result.try_next().await.expect("rows").is_some() {
        read += 1;
    }
    drop(result);
    assert!(
        returned.is_ok(),
        "dropping the TestDb waited for the server"
    );
    assert!(
        still_there || !drops_wait,
        "the server cannot have dropped it before the result was read"
    );
    assert_eq!(read, rows);

    assert!(
        dropped_within(&reader.pool, &name, Duration::from_secs(30)).await,
        "the database was not dropped once the result was read"
    );
}
