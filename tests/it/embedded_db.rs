//! The private PostgreSQL server and the per-test databases the harness hands out.

use crate::harness::TestDb;
use confbot::embedded_db::EmbeddedPostgres;
use sqlx::{Connection, PgConnection};
use std::path::Path;
use std::time::Duration;

async fn table_exists(pool: &sqlx::PgPool, table: &str) -> bool {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(table)
        .fetch_one(pool)
        .await
        .unwrap()
}

fn process_is_alive(pid: u32) -> bool {
    // Signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

#[tokio::test]
async fn a_table_created_in_one_test_database_is_absent_from_another() {
    let first = TestDb::new().await;
    let second = TestDb::new().await;

    sqlx::query("CREATE TABLE only_in_first (id int)")
        .execute(&first.pool)
        .await
        .unwrap();

    assert!(table_exists(&first.pool, "only_in_first").await);
    assert!(!table_exists(&second.pool, "only_in_first").await);
}

#[tokio::test]
async fn a_test_database_url_leads_to_that_database() {
    let db = TestDb::new().await;

    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    assert_eq!(name, db.name());
}

#[tokio::test]
async fn many_test_databases_can_be_created_at_once() {
    let dbs = futures_join_all((0..4).map(|_| TestDb::new())).await;

    let mut names: Vec<&str> = dbs.iter().map(TestDb::name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 4);
}

/// Runs the futures concurrently on this test's runtime (no `futures` crate needed).
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

#[tokio::test]
async fn a_test_database_has_every_migration_applied() {
    let db = TestDb::new().await;

    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&db.pool)
            .await
            .unwrap();

    let expected: Vec<i64> = confbot::store::MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(applied, expected);
    assert!(table_exists(&db.pool, "talks").await);
}

#[tokio::test]
async fn a_dropped_test_database_is_removed_from_the_server() {
    let db = TestDb::new().await;
    let name = db.name().to_owned();
    let observer = TestDb::new().await;

    drop(db);

    assert!(
        crate::harness::dropped_within(&observer.pool, &name, Duration::from_secs(30)).await,
        "{name} is still on the server"
    );
}

#[tokio::test]
async fn an_embedded_server_answers_queries_and_stopping_it_removes_its_directory() {
    let server = EmbeddedPostgres::start().await.unwrap();
    let dir = server.dir().to_path_buf();
    let pid = server.pid().unwrap();

    let mut conn = PgConnection::connect(server.url()).await.unwrap();
    let (database, answer): (String, i32) = sqlx::query_as("SELECT current_database(), 6 * 7")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    server.stop().await;

    assert_eq!((database.as_str(), answer), ("confbot", 42));
    assert!(!dir.exists(), "{} is left behind", dir.display());
    assert!(!process_is_alive(pid), "postgres {pid} still runs");
}

#[tokio::test]
async fn dropping_an_embedded_server_with_a_client_connected_stops_it() {
    let server = EmbeddedPostgres::start().await.unwrap();
    let dir = server.dir().to_path_buf();
    let pid = server.pid().unwrap();
    let _conn = PgConnection::connect(server.url()).await.unwrap();

    drop(server);

    assert!(
        !Path::new(&dir).exists(),
        "{} is left behind",
        dir.display()
    );
    assert!(!process_is_alive(pid), "postgres {pid} still runs");
}
