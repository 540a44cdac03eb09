//! The locks the reference triggers of `talks` and `speakers` take (`integrity.rs`), as the keys
//! took them: a new row holds its conference against a delete, and a delete holds the
//! conference against new rows, until the other transaction ends.

use sqlx::PgPool;

use crate::integrity::{code, scalar, two_conferences, FOREIGN_KEY_VIOLATION};

const LOCK_NOT_AVAILABLE: &str = "55P03";

async fn begin_with_lock_timeout(pool: &PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.expect("begin");
    // Waiting on a lock is what is asserted: a timeout turns the wait into an error.
    sqlx::query("SET LOCAL lock_timeout = '200ms'")
        .execute(&mut *tx)
        .await
        .expect("lock_timeout");
    tx
}

async fn insert(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    conference: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(sql)
        .bind(conference)
        .execute(conn)
        .await
        .map(drop)
}

#[tokio::test]
async fn a_new_talk_or_person_and_a_delete_of_its_conference_wait_for_each_other() {
    let db = two_conferences().await;
    let pool = &db.pool;
    for (slug, table, sql) in [
        (
            "a",
            "talks",
            "INSERT INTO talks (conference_id, title_key, title) VALUES ($1, 'held', 'Held')",
        ),
        (
            "b",
            "speakers",
            "INSERT INTO speakers (conference_id, name_key, name) VALUES ($1, 'held', 'Held')",
        ),
    ] {
        let conference = scalar(
            pool,
            &format!("SELECT id FROM conferences WHERE slug = '{slug}'"),
        )
        .await;
        let delete = format!("DELETE FROM conferences WHERE slug = '{slug}'");

        // An uncommitted row holds its conference, as a key's check does.
        let mut inserting = pool.begin().await.expect("begin");
        insert(&mut inserting, sql, conference)
            .await
            .expect("insert");
        let mut deleting = begin_with_lock_timeout(pool).await;
        let error = sqlx::query(&delete)
            .execute(&mut *deleting)
            .await
            .expect_err("the delete waits for the insert");
        assert_eq!(code(&error), LOCK_NOT_AVAILABLE, "{table}");
        drop(deleting);
        inserting.commit().await.expect("commit");

        // An uncommitted delete holds the conference against new rows; once it commits, a
        // new row is refused and the committed one went with its conference.
        let mut deleting = pool.begin().await.expect("begin");
        sqlx::query(&delete)
            .execute(&mut *deleting)
            .await
            .expect("delete");
        let mut inserting = begin_with_lock_timeout(pool).await;
        let error = insert(&mut inserting, sql, conference)
            .await
            .expect_err("the insert waits for the delete");
        assert_eq!(code(&error), LOCK_NOT_AVAILABLE, "{table}");
        drop(inserting);
        deleting.commit().await.expect("commit");
        let mut conn = pool.acquire().await.expect("connection");
        let error = insert(&mut conn, sql, conference)
            .await
            .expect_err("the conference is gone");
        assert_eq!(code(&error), FOREIGN_KEY_VIOLATION, "{table}");
        let left = format!("SELECT count(*) FROM {table} WHERE conference_id = {conference}");
        assert_eq!(scalar(pool, &left).await, 0, "{table}");
    }
}
