//! A talk listing's entries settle like a timetable's (issue 13, item 6), against a real
//! database: by a title that names one talk, never displacing a timetable's digest.

use confbot::domain::diff::Field;
use sqlx::PgPool;

use crate::fixtures::{import_text, stored_talks};
use crate::harness::TestDb;
use crate::import_settled::{by_title, digests, DEMO_ICS};

#[tokio::test]
async fn a_listing_replaces_the_digest_it_enriches_and_the_timetable_keeps_the_enrichment() {
    let db = TestDb::new().await;
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let title = by_title(stored_talks(&db.pool, "demo").await)
        .into_keys()
        .find(|t| t.contains("Welcome"))
        .expect("a talk called Welcome");
    let listing = format!(
        "top of page\n\nTalks\n\n{title}\n\nSomebody New\n\nTrack Zero, Beginner\n\n\
         Description: Listed only here.\n"
    );
    let timetable_digest = digests(&db.pool).await[&title].clone();
    import_text(&db.pool, "demo", &listing).await;
    let listed = digests(&db.pool).await[&title].clone();
    assert!(
        listed.is_some() && listed != timetable_digest,
        "the row keeps the listing entry's digest, which no timetable entry has"
    );

    let again = import_text(&db.pool, "demo", DEMO_ICS).await;

    assert!(again.diff.is_empty(), "{:?}", again.diff);
    assert_eq!(again.diff.unchanged, 8);
    let talk = &by_title(stored_talks(&db.pool, "demo").await)[&title];
    assert_eq!(talk.description.as_deref(), Some("Listed only here."));
    assert!(
        digests(&db.pool).await[&title].is_some(),
        "an unchanged row gets its entry's digest back"
    );
}

/// The demo timetable, then a listing enriching two of its talks by title.
async fn listed_demo(pool: &PgPool) -> String {
    import_text(pool, "demo", DEMO_ICS).await;
    let titles: Vec<String> = {
        let mut titles: Vec<String> = by_title(stored_talks(pool, "demo").await)
            .into_keys()
            .collect();
        titles.sort();
        titles.into_iter().take(2).collect()
    };
    let listing = format!(
        "top of page\n\nTalks\n\n{}\n\nSomebody New\n\nTrack Zero, Beginner\n\n\
         Description: Listed first.\n\n{}\n\nSomebody Else\n\nTrack One, Advanced\n\n\
         Description: Listed second.\n",
        titles[0], titles[1]
    );
    let first = import_text(pool, "demo", &listing).await;
    assert_eq!(first.diff.changed.len(), 2, "{:?}", first.diff);
    listing
}

#[tokio::test]
async fn a_listing_imported_again_settles_the_rows_it_enriched() {
    let db = TestDb::new().await;
    let listing = listed_demo(&db.pool).await;
    // Changed behind the import's back, digest kept: only a full comparison would put the
    // listing's description back.
    let edited = sqlx::query(
        "UPDATE talks SET description = 'edited in place' WHERE description = 'Listed first.'",
    )
    .execute(&db.pool)
    .await
    .expect("edit")
    .rows_affected();
    assert_eq!(edited, 1);

    let again = import_text(&db.pool, "demo", &listing).await;

    assert!(again.diff.is_empty(), "{:?}", again.diff);
    assert_eq!(again.diff.unchanged, 2);
    let descriptions: Vec<Option<String>> =
        sqlx::query_scalar("SELECT description FROM talks ORDER BY description")
            .fetch_all(&db.pool)
            .await
            .expect("descriptions");
    assert!(descriptions.contains(&Some("edited in place".to_owned())));

    // With the digests gone, the same listing is compared in full and puts it back.
    sqlx::query("UPDATE talks SET source_digest = NULL")
        .execute(&db.pool)
        .await
        .expect("digests cleared");
    let compared = import_text(&db.pool, "demo", &listing).await;
    assert_eq!(compared.diff.changed.len(), 1, "{:?}", compared.diff);
    assert_eq!(compared.diff.changed[0].fields, [Field::Description]);
}

#[tokio::test]
async fn a_listing_entry_whose_title_names_two_rows_is_compared_in_full() {
    let db = TestDb::new().await;
    let listing = listed_demo(&db.pool).await;
    let listed_title: String =
        sqlx::query_scalar("SELECT title FROM talks WHERE description = 'Listed first.'")
            .fetch_one(&db.pool)
            .await
            .expect("the listed talk");
    // A second row of that title (a catalogue entry of another listing, say): the entry
    // could now be merged into either, so neither is settled.
    sqlx::query(
        "INSERT INTO talks (conference_id, title_key, title, status, kind, source_digest)
         SELECT conference_id, title_key, upper(title), status, kind, source_digest FROM talks
         WHERE description = 'Listed first.'",
    )
    .execute(&db.pool)
    .await
    .expect("a second row");
    sqlx::query("UPDATE talks SET description = 'edited in place' WHERE title = $1")
        .bind(&listed_title)
        .execute(&db.pool)
        .await
        .expect("edit");

    let again = import_text(&db.pool, "demo", &listing).await;

    assert_eq!(again.diff.changed.len(), 1, "{:?}", again.diff);
    assert_eq!(again.diff.changed[0].title, listed_title);
    assert_eq!(again.diff.changed[0].fields, [Field::Description]);
}

#[tokio::test]
async fn a_timetable_keeps_settling_the_talks_a_listing_enriches_in_turn() {
    let db = TestDb::new().await;
    let listing = listed_demo(&db.pool).await;
    // The enriched rows are compared in full once and take the timetable's digests back.
    import_text(&db.pool, "demo", DEMO_ICS).await;
    let timetable_digests = digests(&db.pool).await;

    let relisted = import_text(&db.pool, "demo", &listing).await;

    assert!(relisted.diff.is_empty(), "{:?}", relisted.diff);
    assert_eq!(
        digests(&db.pool).await,
        timetable_digests,
        "a listing leaving its talks as they are keeps their timetable digests"
    );
    // Edited behind the import's back, digest kept: the timetable settles the row and does
    // not notice, as it does every talk it alone wrote.
    sqlx::query(
        "UPDATE talks SET abstract = 'edited in place' WHERE description = 'Listed first.'",
    )
    .execute(&db.pool)
    .await
    .expect("edit");
    let again = import_text(&db.pool, "demo", DEMO_ICS).await;
    assert!(again.diff.is_empty(), "{:?}", again.diff);
    assert_eq!(again.diff.unchanged, 8);
    let abstracts: Vec<Option<String>> = sqlx::query_scalar("SELECT abstract FROM talks")
        .fetch_all(&db.pool)
        .await
        .expect("abstracts");
    assert!(abstracts.contains(&Some("edited in place".to_owned())));
}
