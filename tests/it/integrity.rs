//! The references of `talks`, `talk_speakers` and `speakers`, checked once per statement by
//! triggers instead of per row by foreign keys (migrations `..._statement_integrity.sql` and
//! `..._speakers_statement_integrity.sql`, issue 13 item 6): everything the six keys promised
//! still holds, against a real database. The locks they take: `integrity_locks.rs`.

use sqlx::PgPool;

use crate::fixtures::import_text;
use crate::harness::TestDb;
use crate::import_settled::DEMO_ICS;

pub(crate) const FOREIGN_KEY_VIOLATION: &str = "23503";

pub(crate) fn code(error: &sqlx::Error) -> String {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
        .unwrap_or_else(|| panic!("not a database error: {error}"))
}

pub(crate) async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs `sql` and returns the SQLSTATE it failed with.
async fn refused(pool: &PgPool, sql: &str) -> String {
    let error = sqlx::query(sql)
        .execute(pool)
        .await
        .err()
        .unwrap_or_else(|| panic!("{sql} was accepted"));
    code(&error)
}

/// Two conferences with the demo programme each.
pub(crate) async fn two_conferences() -> TestDb {
    let db = TestDb::new().await;
    import_text(&db.pool, "a", DEMO_ICS).await;
    import_text(&db.pool, "b", DEMO_ICS).await;
    db
}

const CONF_A: &str = "(SELECT id FROM conferences WHERE slug = 'a')";
const ONE_LINK: &str =
    "(talk_id, speaker_id) = (SELECT talk_id, speaker_id FROM talk_speakers LIMIT 1)";
const A_TALK: &str = "(SELECT min(id) FROM talks WHERE conference_id = \
     (SELECT id FROM conferences WHERE slug = 'a'))";

#[tokio::test]
async fn references_that_do_not_exist_are_refused_and_the_statement_writes_nothing() {
    let db = two_conferences().await;
    let pool = &db.pool;
    let talks = scalar(pool, "SELECT count(*) FROM talks").await;
    let links = scalar(pool, "SELECT count(*) FROM talk_speakers").await;
    let people = scalar(pool, "SELECT count(*) FROM speakers").await;
    assert!(talks > 0 && links > 0, "{talks} talks, {links} links");

    for sql in [
        "INSERT INTO talks (conference_id, title_key, title) VALUES (-1, 'x', 'x')".to_owned(),
        format!(
            "INSERT INTO talks (conference_id, title_key, title, room_id) \
             VALUES ({CONF_A}, 'ok', 'ok', NULL), ({CONF_A}, 'x', 'x', -1)"
        ),
        format!("INSERT INTO talks (conference_id, title_key, title, track_id) VALUES ({CONF_A}, 'x', 'x', -1)"),
        "INSERT INTO talk_speakers (talk_id, speaker_id, position) VALUES (-1, (SELECT min(id) FROM speakers), 9)".to_owned(),
        format!("INSERT INTO talk_speakers (talk_id, speaker_id, position) VALUES ({A_TALK}, -1, 9)"),
        format!("UPDATE talks SET room_id = -1 WHERE id = {A_TALK}"),
        format!("UPDATE talks SET conference_id = -1 WHERE id = {A_TALK}"),
        format!("UPDATE talk_speakers SET speaker_id = -1 WHERE {ONE_LINK}"),
        format!("UPDATE talk_speakers SET talk_id = -1 WHERE {ONE_LINK}"),
        format!("UPDATE talks SET track_id = -1 WHERE id = {A_TALK}"),
        "INSERT INTO speakers (conference_id, name_key, name) VALUES (-1, 'x', 'x')".to_owned(),
        format!(
            "INSERT INTO speakers (conference_id, name_key, name) \
             VALUES ({CONF_A}, 'ok', 'ok'), (-1, 'x', 'x')"
        ),
        "UPDATE speakers SET conference_id = -1 WHERE id = (SELECT min(id) FROM speakers)"
            .to_owned(),
        // The upsert later imports write people with.
        "INSERT INTO speakers (conference_id, name_key, name) VALUES (-1, 'x', 'x') \
         ON CONFLICT (conference_id, name_key) DO UPDATE SET name = excluded.name"
            .to_owned(),
    ] {
        assert_eq!(refused(pool, &sql).await, FOREIGN_KEY_VIOLATION, "{sql}");
    }

    // The bulk path the import takes.
    let conference = scalar(pool, &format!("SELECT {CONF_A}")).await;
    for (statement, rows) in [
        (
            "COPY talks (conference_id, title_key, title, room_id) FROM STDIN",
            format!("{conference}\tok\tok\t\\N\n{conference}\tx\tx\t-1\n"),
        ),
        (
            "COPY speakers (conference_id, name_key, name) FROM STDIN",
            format!("{conference}\tok\tok\n-1\tx\tx\n"),
        ),
    ] {
        let mut conn = pool.acquire().await.expect("connection");
        let mut copy = conn.copy_in_raw(statement).await.expect("copy");
        copy.send(rows.into_bytes()).await.expect("send");
        let error = copy.finish().await.expect_err(statement);
        assert_eq!(code(&error), FOREIGN_KEY_VIOLATION, "{statement}");
    }

    assert_eq!(scalar(pool, "SELECT count(*) FROM talks").await, talks);
    assert_eq!(
        scalar(pool, "SELECT count(*) FROM talk_speakers").await,
        links
    );
    assert_eq!(scalar(pool, "SELECT count(*) FROM speakers").await, people);

    // References that exist are accepted, on insert and on update.
    sqlx::query(&format!(
        "UPDATE talks SET room_id = (SELECT max(id) FROM rooms WHERE conference_id = {CONF_A}) \
         WHERE id = {A_TALK}"
    ))
    .execute(pool)
    .await
    .expect("a room that exists");
    sqlx::query(&format!(
        "INSERT INTO talks (conference_id, title_key, title, room_id, track_id) \
         SELECT {CONF_A}, 'new', 'New', (SELECT min(id) FROM rooms), (SELECT min(id) FROM tracks)"
    ))
    .execute(pool)
    .await
    .expect("references that exist");
    sqlx::query(&format!(
        "INSERT INTO speakers (conference_id, name_key, name) VALUES ({CONF_A}, 'new', 'New')"
    ))
    .execute(pool)
    .await
    .expect("a person of a conference that exists");
}

/// The demo programme has rooms but no tracks: gives one talk of conference `a` a track.
async fn give_a_talk_a_track(pool: &PgPool) {
    sqlx::query(&format!(
        "WITH t AS (INSERT INTO tracks (conference_id, name) VALUES ({CONF_A}, 'Main') \
         RETURNING id) UPDATE talks SET track_id = (SELECT id FROM t) WHERE id = {A_TALK}"
    ))
    .execute(pool)
    .await
    .expect("a track");
}

#[tokio::test]
async fn deleting_a_conference_deletes_its_talks_people_and_links_and_nothing_else() {
    let db = two_conferences().await;
    let pool = &db.pool;
    let b_people = "SELECT count(*) FROM speakers s JOIN conferences c ON c.id = s.conference_id \
                    WHERE c.slug = 'b'";
    let people = scalar(pool, b_people).await;
    let b_talks = "SELECT count(*) FROM talks t JOIN conferences c ON c.id = t.conference_id \
                   WHERE c.slug = 'b'";
    let b_links = "SELECT count(*) FROM talk_speakers l JOIN talks t ON t.id = l.talk_id \
                   JOIN conferences c ON c.id = t.conference_id WHERE c.slug = 'b'";
    let (talks, links) = (scalar(pool, b_talks).await, scalar(pool, b_links).await);
    give_a_talk_a_track(pool).await;

    sqlx::query("DELETE FROM conferences WHERE slug = 'a'")
        .execute(pool)
        .await
        .expect("delete a conference, its rooms and tracks with it");

    assert_eq!(scalar(pool, "SELECT count(*) FROM talks").await, talks);
    assert_eq!(
        scalar(pool, "SELECT count(*) FROM talk_speakers").await,
        links
    );
    assert_eq!(scalar(pool, b_talks).await, talks);
    assert_eq!(scalar(pool, b_links).await, links);
    assert_eq!(scalar(pool, "SELECT count(*) FROM speakers").await, people);
    assert_eq!(scalar(pool, b_people).await, people);
    assert!(talks > 0 && links > 0 && people > 0);
}

#[tokio::test]
async fn deleting_a_talk_or_a_speaker_deletes_their_links() {
    let db = two_conferences().await;
    let pool = &db.pool;
    let links = scalar(pool, "SELECT count(*) FROM talk_speakers").await;
    let mut left = links;
    for (table, column) in [("talks", "talk_id"), ("speakers", "speaker_id")] {
        let id = scalar(pool, &format!("SELECT min({column}) FROM talk_speakers")).await;
        let of_row = scalar(
            pool,
            &format!("SELECT count(*) FROM talk_speakers WHERE {column} = {id}"),
        )
        .await;
        assert!(of_row > 0, "{table} {id} has links");

        sqlx::query(&format!("DELETE FROM {table} WHERE id = {id}"))
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("delete from {table}: {e}"));

        left -= of_row;
        assert_eq!(
            scalar(pool, "SELECT count(*) FROM talk_speakers").await,
            left,
            "{table}"
        );
    }
    assert!(left < links);
}

#[tokio::test]
async fn a_named_room_or_track_stays_and_ids_and_tables_under_talks_stay_put() {
    let db = two_conferences().await;
    let pool = &db.pool;
    give_a_talk_a_track(pool).await;
    let used_room = "(SELECT min(room_id) FROM talks)";
    let used_track = "(SELECT min(track_id) FROM talks)";
    assert_eq!(
        scalar(
            pool,
            "SELECT count(*) FROM talks WHERE track_id IS NOT NULL"
        )
        .await,
        1
    );
    for sql in [
        format!("DELETE FROM rooms WHERE id = {used_room}"),
        format!("DELETE FROM tracks WHERE id = {used_track}"),
    ] {
        assert_eq!(refused(pool, &sql).await, FOREIGN_KEY_VIOLATION, "{sql}");
    }
    for sql in [
        "UPDATE conferences SET id = DEFAULT",
        "UPDATE rooms SET id = DEFAULT",
        "UPDATE tracks SET id = DEFAULT",
        "UPDATE talks SET id = DEFAULT",
        "UPDATE speakers SET id = DEFAULT",
    ] {
        assert_eq!(refused(pool, sql).await, FOREIGN_KEY_VIOLATION, "{sql}");
    }
    for table in ["conferences", "rooms", "tracks", "speakers", "talks"] {
        let sql = format!("TRUNCATE {table} CASCADE");
        assert_eq!(refused(pool, &sql).await, "0A000", "{sql}");
    }
    assert!(scalar(pool, "SELECT count(*) FROM talks WHERE room_id IS NOT NULL").await > 0);

    // A room no talk names can go.
    sqlx::query(&format!(
        "INSERT INTO rooms (conference_id, name) VALUES ({CONF_A}, 'Unused')"
    ))
    .execute(pool)
    .await
    .expect("a room");
    sqlx::query("DELETE FROM rooms WHERE name = 'Unused'")
        .execute(pool)
        .await
        .expect("an unused room is deleted");
}

#[tokio::test]
async fn deletes_outside_read_committed_are_refused_rather_than_leaving_rows_behind() {
    let db = two_conferences().await;
    let pool = &db.pool;
    let talks = scalar(pool, "SELECT count(*) FROM talks").await;
    let links = scalar(pool, "SELECT count(*) FROM talk_speakers").await;
    for level in ["REPEATABLE READ", "SERIALIZABLE"] {
        for delete in [
            "DELETE FROM conferences WHERE slug = 'a'".to_owned(),
            format!("DELETE FROM talks WHERE id = {A_TALK}"),
            "DELETE FROM speakers WHERE id = (SELECT min(speaker_id) FROM talk_speakers)"
                .to_owned(),
            "DELETE FROM rooms WHERE id = (SELECT max(id) FROM rooms)".to_owned(),
        ] {
            let mut tx = pool.begin().await.expect("begin");
            sqlx::query(&format!("SET TRANSACTION ISOLATION LEVEL {level}"))
                .execute(&mut *tx)
                .await
                .expect("isolation");
            let error = sqlx::query(&delete)
                .execute(&mut *tx)
                .await
                .expect_err("refused");
            assert_eq!(code(&error), "0A000", "{level}: {delete}");
        }
    }
    assert_eq!(scalar(pool, "SELECT count(*) FROM talks").await, talks);
    assert_eq!(
        scalar(pool, "SELECT count(*) FROM talk_speakers").await,
        links
    );
}
