//! Re-imports that read only what changed (issue 13, item 6): each talk row keeps the digest
//! of the timetable entry it was written from, and a re-import settles the entries whose
//! digest it already holds, against a real database.

use std::collections::HashMap;

use confbot::domain::diff::Field;
use confbot::domain::model::{StoredTalk, TalkData, TalkStatus};
use confbot::store;
use sqlx::PgPool;

use crate::fixtures::{import_text, import_text_confirmed};
use crate::harness::TestDb;

const DEMO_ICS: &str = include_str!("../../src/cli/demo/schedule.ics");

async fn talks(pool: &PgPool, conference: &str) -> Vec<StoredTalk> {
    let mut conn = pool.acquire().await.expect("connection");
    let slug = confbot::domain::model::ConferenceSlug::parse(conference).expect("slug");
    let row = store::conferences::find(&mut conn, &slug)
        .await
        .expect("query")
        .expect("conference exists");
    store::talks::load(&mut conn, row.id).await.expect("talks")
}

/// Title -> the row's stored digest.
async fn digests(pool: &PgPool) -> HashMap<String, Option<Vec<u8>>> {
    sqlx::query_as("SELECT title, source_digest FROM talks")
        .fetch_all(pool)
        .await
        .expect("digests")
        .into_iter()
        .collect()
}

/// The demo calendar without the event whose UID contains `uid`.
fn demo_without(uid: &str) -> String {
    let at = DEMO_ICS.find(uid).expect("event");
    let start = DEMO_ICS[..at].rfind("BEGIN:VEVENT").expect("event start");
    let end = at + DEMO_ICS[at..].find("END:VEVENT\r\n").expect("event end") + 12;
    format!("{}{}", &DEMO_ICS[..start], &DEMO_ICS[end..])
}

/// The talks' data by title, ids and versions aside.
fn by_title(talks: Vec<StoredTalk>) -> HashMap<String, TalkData> {
    talks
        .into_iter()
        .map(|t| (t.data.title.clone(), t.data))
        .collect()
}

#[tokio::test]
async fn a_reimport_reports_and_rewrites_only_the_entry_that_changed() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let first = digests(&db.pool).await;
    assert_eq!(first.len(), 8);
    assert!(
        first
            .values()
            .all(|d| d.as_ref().is_some_and(|d| d.len() == 32)),
        "every timetable row keeps its entry's digest: {first:?}"
    );
    let moved = DEMO_ICS.replacen("LOCATION:Loft", "LOCATION:Shed", 1);

    let outcome = import_text(&db.pool, "demo", &moved).await;

    assert_eq!(outcome.diff.changed.len(), 1, "{:?}", outcome.diff);
    assert_eq!(outcome.diff.changed[0].fields, [Field::Room]);
    assert_eq!(outcome.diff.unchanged, 7);
    let now = digests(&db.pool).await;
    let title = &outcome.diff.changed[0].title;
    assert_ne!(
        now[title], first[title],
        "the moved row has its new entry's digest"
    );
    assert!(now[title].is_some());
    for (other, digest) in first.iter().filter(|(t, _)| *t != title) {
        assert_eq!(&now[other], digest, "{other} was not rewritten");
    }
    // Exactly what a first import of the moved file stores.
    import_text(&db.pool, "fresh", &moved).await;
    assert_eq!(
        by_title(talks(&db.pool, "demo").await),
        by_title(talks(&db.pool, "fresh").await)
    );
}

#[tokio::test]
async fn a_cancelled_talk_loses_its_digest_and_comes_back_confirmed() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let outcome = import_text(&db.pool, "demo", &demo_without("DEMO08")).await;
    assert_eq!(outcome.diff.cancelled.len(), 1);
    let title = outcome.diff.cancelled[0].title.clone();
    assert_eq!(digests(&db.pool).await[&title], None);

    // The same entry as before the cancellation: the row is not what that entry made it.
    let back = import_text(&db.pool, "demo", DEMO_ICS).await;

    assert_eq!(back.diff.changed.len(), 1, "{:?}", back.diff);
    assert_eq!(back.diff.changed[0].title, title);
    assert_eq!(back.diff.changed[0].fields, [Field::Status]);
    assert_eq!(back.diff.unchanged, 7);
    let stored = by_title(talks(&db.pool, "demo").await);
    assert_eq!(stored[&title].status, TalkStatus::Confirmed);
    assert!(digests(&db.pool).await[&title].is_some());
}

#[tokio::test]
async fn a_listing_clears_the_digest_it_enriches_and_the_timetable_keeps_the_enrichment() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let title = by_title(talks(&db.pool, "demo").await)
        .into_keys()
        .find(|t| t.contains("Welcome"))
        .expect("a talk called Welcome");
    let listing = format!(
        "top of page\n\nTalks\n\n{title}\n\nSomebody New\n\nTrack Zero, Beginner\n\n\
         Description: Listed only here.\n"
    );
    import_text(&db.pool, "demo", &listing).await;
    assert_eq!(digests(&db.pool).await[&title], None);

    let again = import_text(&db.pool, "demo", DEMO_ICS).await;

    assert!(again.diff.is_empty(), "{:?}", again.diff);
    assert_eq!(again.diff.unchanged, 8);
    let talk = &by_title(talks(&db.pool, "demo").await)[&title];
    assert_eq!(talk.description.as_deref(), Some("Listed only here."));
    assert!(
        digests(&db.pool).await[&title].is_some(),
        "an unchanged row gets its entry's digest back"
    );
}

#[tokio::test]
async fn rows_without_a_digest_or_with_a_foreign_one_are_compared_in_full() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let first = digests(&db.pool).await;
    // Rows written before the column existed, and one whose digest is not ours.
    sqlx::query(
        "UPDATE talks SET source_digest = CASE WHEN title = (SELECT min(title) FROM talks)
                                               THEN '\\x00'::bytea END",
    )
    .execute(&db.pool)
    .await
    .expect("digests cleared");
    let moved = DEMO_ICS.replacen("LOCATION:Loft", "LOCATION:Shed", 1);

    let outcome = import_text_confirmed(&db.pool, "demo", &moved).await;

    assert_eq!(outcome.diff.changed.len(), 1, "{:?}", outcome.diff);
    assert_eq!(outcome.diff.unchanged, 7);
    let now = digests(&db.pool).await;
    for (title, digest) in &now {
        assert!(digest.as_ref().is_some_and(|d| d.len() == 32), "{title}");
    }
    let changed = &outcome.diff.changed[0].title;
    for (title, digest) in first.iter().filter(|(t, _)| *t != changed) {
        assert_eq!(
            &now[title], digest,
            "{title}: the same entry, the same digest"
        );
    }
}
