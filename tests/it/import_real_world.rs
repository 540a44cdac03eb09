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

async fn statuses(db: &TestDb) -> Vec<(String, String)> {
    sqlx::query_as("SELECT title, status FROM talks ORDER BY title")
        .fetch_all(&db.pool)
        .await
        .expect("talks")
}

#[tokio::test]
async fn oddities_of_a_hand_written_calendar_cost_a_warning_not_the_import() {
    let db = TestDb::new().await;

    let (code, stdout, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "odd"])
        .arg(fixture("real-world/hand-written-oddities.ics")));

    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("3 added"), "{stdout}");
    assert!(
        stderr.contains("line 11: invalid property name \"X MY NOTE\"; that line was left out"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 30: X-TRAILING-GARBAGE is outside BEGIN:VCALENDAR"),
        "{stderr}"
    );
    let speakers: Vec<String> = sqlx::query_scalar("SELECT name FROM speakers")
        .fetch_all(&db.pool)
        .await
        .expect("speakers");
    assert_eq!(
        speakers,
        ["Lucía Pérez"],
        "the quoted CN, text after it dropped"
    );
}

#[tokio::test]
async fn an_event_that_cannot_be_read_now_keeps_its_talk_as_it_was() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let good =
        std::fs::read_to_string(fixture("real-world/hand-written-oddities.ics")).expect("fixture");
    let broken = good.replace(
        "DTSTART;TZID=Europe/Madrid:20270915T110000",
        "DTSTART;TZID=Europe/Madrid:2027-09-15 11:00",
    );
    let mostly_broken = broken.replace("T100000", "T10h").replace("T120000", "noon");
    let path = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    run(confbot(Some(&db.url))
        .args(["import", "--conference", "odd"])
        .arg(path("good.ics", &good)));

    let (code, stdout, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "odd"])
        .arg(path("broken.ics", &broken)));
    let after_broken = statuses(&db).await;
    let (refused, _, refusal) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "odd"])
        .arg(path("mostly.ics", &mostly_broken)));

    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("line 17: DTSTART:"), "{stderr}");
    assert!(stderr.contains("that event was skipped"), "{stderr}");
    assert!(stdout.contains("0 cancelled"), "{stdout}");
    assert!(
        stdout.contains("= Pipelines: kept as it was: its event could not be read this time"),
        "{stdout}"
    );
    let confirmed = |title: &str| (title.to_owned(), "confirmed".to_owned());
    assert_eq!(
        after_broken,
        [
            confirmed("Closing"),
            confirmed("Pipelines"),
            confirmed("Welcome")
        ]
    );
    assert_eq!(refused, 1);
    assert!(
        refusal.contains("3 of 3 events cannot be read, so the file is refused: line 8:"),
        "{refusal}"
    );
    assert_eq!(statuses(&db).await, after_broken, "nothing changed");
}

#[tokio::test]
async fn encodings_real_exporters_use_import_from_the_command_line() {
    let db = TestDb::new().await;

    for (slug, file) in [
        ("enc-utf16le", "real-world/encoding-utf16le-bom.ics"),
        ("enc-utf16be", "real-world/encoding-utf16be-bom.ics"),
        ("enc-1252", "real-world/encoding-windows-1252.ics"),
        ("enc-cr", "real-world/line-endings-cr-only.ics"),
        ("enc-folded", "real-world/folded-mid-character.ics"),
    ] {
        let (code, stdout, stderr) = run(confbot(Some(&db.url))
            .args(["import", "--conference", slug])
            .arg(fixture(file)));

        assert_eq!(code, 0, "{file}: {stderr}");
        assert!(stdout.contains("2 added"), "{file}: {stdout}");
    }
    let speakers: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT name FROM speakers ORDER BY name")
            .fetch_all(&db.pool)
            .await
            .expect("speakers");
    assert_eq!(speakers, ["Håkon Ærø", "José Müller", "Zoë Ødegård"]);
}
