//! Real-world calendars through `confbot import` as an organiser runs it: speakers found by
//! the rule the note names (and `--summary-speakers`), recurring events re-imported as a diff
//! of zero.

use crate::cli::{confbot, fixture, run};
use crate::harness::TestDb;

async fn titles_and_speakers(db: &TestDb) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT t.title, string_agg(s.name, ', ' ORDER BY ts.position)
           FROM talks t
           LEFT JOIN talk_speakers ts ON ts.talk_id = t.id
           LEFT JOIN speakers s ON s.id = ts.speaker_id
          GROUP BY t.id, t.title ORDER BY t.title",
    )
    .fetch_all(&db.pool)
    .await
    .expect("talks")
}

#[tokio::test]
async fn the_summary_switch_splits_speakers_off_titles_and_the_note_says_so() {
    let db = TestDb::new().await;
    let file = fixture("real-world/speakers-in-summary.ics");

    let (plain_code, _, plain_err) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "ssc"])
        .arg(&file));
    let plain = titles_and_speakers(&db).await;
    let (switched_code, switched_out, switched_err) = run(confbot(Some(&db.url))
        .args(["import", "--summary-speakers", "--conference", "ssc"])
        .arg(&file));
    let switched = titles_and_speakers(&db).await;

    assert_eq!(plain_code, 0, "{plain_err}");
    assert!(
        plain_err.contains("note: ") && plain_err.contains("speakers: none found in 2 events"),
        "{plain_err}"
    );
    assert_eq!(
        plain[0],
        ("Rust - the good parts - Ana Lima, Bo Chen".to_owned(), None)
    );
    assert_eq!(switched_code, 0, "{switched_err}");
    assert!(
        switched_err
            .contains("2 from the SUMMARY \"Title - Speaker\" (as asked with --summary-speakers)"),
        "{switched_err}"
    );
    assert!(!switched_out.contains("identical"), "{switched_out}");
    assert_eq!(
        switched,
        [
            (
                "Rust - the good parts".to_owned(),
                Some("Ana Lima, Bo Chen".to_owned())
            ),
            ("Typed SQL".to_owned(), Some("João Gonçalves".to_owned())),
        ]
    );
}

#[tokio::test]
async fn a_calendar_of_recurring_open_spaces_reimports_with_nothing_changed() {
    let db = TestDb::new().await;
    let file = fixture("real-world/recurring-open-spaces.ics");

    let (first_code, first_out, first_err) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "summit"])
        .arg(&file));
    let (again_code, again_out, again_err) = run(confbot(Some(&db.url))
        .args(["import", "--force", "--conference", "summit"])
        .arg(&file));

    assert_eq!(first_code, 0, "{first_err}");
    assert!(first_out.contains("6 added"), "{first_out}");
    assert_eq!(again_code, 0, "{again_err}");
    assert!(
        again_out.contains("0 added, 0 changed, 0 cancelled, 6 unchanged"),
        "{again_out}"
    );
}
