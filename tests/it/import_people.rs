//! A conference's people as imports store them: its first people are copied in with ids
//! reserved up front, later ones upserted, against a real database.

use std::sync::Arc;

use sqlx::PgPool;

use crate::fixtures::{import_text, stored_talks};
use crate::harness::TestDb;
use crate::import_settled::{pretalx_json, speaker_names};

/// A conference's people as stored: (id, name, source id, biography), by name.
async fn people(pool: &PgPool, slug: &str) -> Vec<(i64, String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT s.id, s.name, s.source_id, s.biography
         FROM speakers s JOIN conferences c ON c.id = s.conference_id
         WHERE c.slug = $1 ORDER BY s.name",
    )
    .bind(slug)
    .fetch_all(pool)
    .await
    .expect("people")
}

fn without_ids<T, A: Clone, B: Clone, C: Clone>(rows: &[(T, A, B, C)]) -> Vec<(A, B, C)> {
    rows.iter()
        .map(|(_, a, b, c)| (a.clone(), b.clone(), c.clone()))
        .collect()
}

#[tokio::test]
async fn first_people_are_copied_as_stated_each_conference_has_its_own_and_later_ones_follow() {
    let db = TestDb::new().await;
    let ada = ("Ada Lovelace", "Ada writes engines.");
    let grace = ("Grace Hopper", "Grace writes compilers.");
    let first = pretalx_json(&[
        ("AAAA11", "Engines", 9, &[ada]),
        ("BBBB22", "Looms", 10, &[grace, ada]),
    ]);
    let expected = vec![
        (
            "Ada Lovelace".to_owned(),
            Some("ADALOVELACE".to_owned()),
            Some("Ada writes engines.".to_owned()),
        ),
        (
            "Grace Hopper".to_owned(),
            Some("GRACEHOPPER".to_owned()),
            Some("Grace writes compilers.".to_owned()),
        ),
    ];

    import_text(&db.pool, "copied", &first).await;
    let copied = people(&db.pool, "copied").await;
    assert_eq!(without_ids(&copied), expected);
    let names = speaker_names(&db.pool, "copied").await;
    assert_eq!(names["Looms"], ["Grace Hopper", "Ada Lovelace"]);
    assert_eq!(names["Engines"], ["Ada Lovelace"]);

    // The same people in another conference are that conference's first people: rows of
    // their own, not a conflict with the first conference's.
    import_text(&db.pool, "also", &first).await;
    let also = people(&db.pool, "also").await;
    assert_eq!(without_ids(&also), expected);

    // Once a conference has people, new ones are upserted: their ids come from the sequence
    // the copied ones were reserved from, so they follow every one of them.
    let poet = ("Ada Lovelace", "Ada writes poems.");
    let later = pretalx_json(&[
        ("AAAA11", "Engines", 9, &[poet]),
        ("BBBB22", "Looms", 10, &[grace, poet]),
        (
            "CCCC33",
            "Orbits",
            11,
            &[("Katherine Johnson", "Katherine computes.")],
        ),
    ]);
    let outcome = import_text(&db.pool, "copied", &later).await;
    assert_eq!(outcome.diff.added.len(), 1, "{:?}", outcome.diff);
    let after = people(&db.pool, "copied").await;
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(after[0].0, copied[0].0, "Ada keeps her row");
    assert_eq!(after[0].3.as_deref(), Some("Ada writes poems."));
    assert_eq!(after[1], copied[1], "Grace is unchanged");
    assert_eq!(after[2].1, "Katherine Johnson");
    let reserved = copied.iter().chain(&also).map(|(id, ..)| *id).max();
    assert!(Some(after[2].0) > reserved, "{after:?} after {reserved:?}");
}

/// A person's biography is read back once for all their talks, as an import holds it.
#[tokio::test]
async fn a_person_giving_several_talks_is_read_back_with_one_biography() {
    let db = TestDb::new().await;
    let ada = ("Ada Lovelace", "Ada writes engines.");
    let grace = ("Grace Hopper", "Grace writes compilers.");
    let file = pretalx_json(&[
        ("AAAA11", "Engines", 9, &[ada]),
        ("BBBB22", "Looms", 10, &[grace, ada]),
    ]);
    import_text(&db.pool, "shared", &file).await;

    let talks = stored_talks(&db.pool, "shared").await;
    let bio = |title: &str, name: &str| {
        let talk = talks.iter().find(|t| t.data.title == title);
        let speaker = talk.and_then(|t| t.data.speakers.iter().find(|s| s.name == name));
        speaker
            .and_then(|s| s.biography.clone())
            .unwrap_or_else(|| panic!("{name} has a biography in {title}"))
    };
    assert_eq!(&*bio("Engines", "Ada Lovelace"), ada.1);
    assert!(Arc::ptr_eq(
        &bio("Engines", "Ada Lovelace"),
        &bio("Looms", "Ada Lovelace")
    ));
    assert_eq!(&*bio("Looms", "Grace Hopper"), grace.1);
}

#[tokio::test]
async fn a_conference_with_talks_but_no_people_gets_its_first_people_on_a_later_import() {
    let db = TestDb::new().await;
    let grace = ("Grace Hopper", "Grace writes compilers.");
    import_text(
        &db.pool,
        "quiet",
        &pretalx_json(&[("AAAA11", "Silence", 9, &[])]),
    )
    .await;
    assert!(people(&db.pool, "quiet").await.is_empty());

    let outcome = import_text(
        &db.pool,
        "quiet",
        &pretalx_json(&[("AAAA11", "Silence", 9, &[grace])]),
    )
    .await;

    assert_eq!(outcome.diff.changed.len(), 1, "{:?}", outcome.diff);
    assert_eq!(
        without_ids(&people(&db.pool, "quiet").await),
        [(
            "Grace Hopper".to_owned(),
            Some("GRACEHOPPER".to_owned()),
            Some("Grace writes compilers.".to_owned()),
        )]
    );
    assert_eq!(
        speaker_names(&db.pool, "quiet").await["Silence"],
        ["Grace Hopper"]
    );
}

/// A programme's labels are read back once for all the talks that carry them, as an import
/// holds them: a listing's tracks and levels (37 talks), a calendar's rooms, types and
/// languages (6 talks).
#[tokio::test]
async fn a_programme_is_read_back_with_each_label_once() {
    let db = TestDb::new().await;
    let listing = include_str!("../fixtures/seed004-listing-pybay.txt");
    let mut calendar = String::from("BEGIN:VCALENDAR\nPRODID:-//labels//\nX-WR-TIMEZONE:UTC\n");
    for i in 0..6 {
        calendar += &format!(
            "BEGIN:VEVENT\nUID:label-{i}@example.org\nDTSTART:20270115T{:02}0000Z\n\
             DURATION:PT30M\nSUMMARY:Talk {i}\nLOCATION:{}\nX-CONFBOT-TYPE:{}\n\
             X-CONFBOT-LANGUAGE:en\nEND:VEVENT\n",
            9 + i,
            ["Barn", "Loft"][i % 2],
            ["Talk", "Workshop"][i % 2]
        );
    }
    calendar += "END:VCALENDAR\n";
    for (slug, file, talks, labels) in [
        ("listing", listing, 37, 2 * 37),
        ("calendar", calendar.as_str(), 6, 3 * 6),
    ] {
        import_text(&db.pool, slug, file).await;

        let stored = stored_talks(&db.pool, slug).await;
        assert_eq!(stored.len(), talks, "{slug}");
        let mut first: std::collections::HashMap<String, Arc<str>> = Default::default();
        let mut seen = 0;
        for talk in &stored {
            let d = &talk.data;
            for label in [&d.room, &d.track, &d.level, &d.talk_type, &d.language]
                .into_iter()
                .flatten()
            {
                let known = first
                    .entry(label.to_string())
                    .or_insert_with(|| label.clone());
                assert!(Arc::ptr_eq(known, label), "{slug}: {label:?} is held twice");
                seen += 1;
            }
        }
        assert_eq!(seen, labels, "{slug}: {first:?}");
        assert!(first.len() < 20, "{slug}: {first:?}");
    }
}
