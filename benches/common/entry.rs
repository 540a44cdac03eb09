//! What every database benchmark starts with: a two-worker runtime (the machine has two
//! cores), a database — `CONFBOT_BENCH_DATABASE_URL`, else a private throwaway PostgreSQL,
//! stopped afterwards — and an exit code with the error chain printed.

use std::future::Future;
use std::process::ExitCode;

use confbot::embedded_db::EmbeddedPostgres;

/// Runs `bench(database url, embedded)` and turns its outcome into the exit code.
pub fn run_with_database<F, Fut>(bench: F) -> ExitCode
where
    F: FnOnce(String, bool) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        let (url, embedded) = match std::env::var("CONFBOT_BENCH_DATABASE_URL") {
            Ok(url) if !url.is_empty() => (url, None),
            _ => {
                let db = EmbeddedPostgres::start().await?;
                (db.url().to_owned(), Some(db))
            }
        };
        let result = bench(url, embedded.is_some()).await;
        if let Some(db) = embedded {
            db.stop().await;
        }
        result
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
