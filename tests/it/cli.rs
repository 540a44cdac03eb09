//! The `confbot` binary run as an operator would: exit codes, messages, and what it stores.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::{confbot_bin, TestDb};

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The binary with a clean environment: only the given database (if any), no config file.
pub(crate) fn confbot(database_url: Option<&str>) -> Command {
    let mut command = Command::new(confbot_bin());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CONFBOT") || key == "DATABASE_URL" || key.starts_with("DISCORD_") {
            command.env_remove(key);
        }
    }
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command.env("RUST_LOG", "warn");
    command
}

pub(crate) fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("confbot runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

pub(crate) async fn talk_count(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM talks")
        .fetch_one(&db.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn import_twice_then_export_json_as_an_operator_would() {
    let db = TestDb::new().await;
    let seed = fixture("seed000-nbpy-pretalx.ics");
    let import = || {
        run(confbot(Some(&db.url))
            .args(["import", "--conference", "nbpy-2026"])
            .arg(&seed))
    };

    let (code, first, stderr) = import();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        first.contains("1 added, 0 changed, 0 cancelled, 0 unchanged"),
        "{first}"
    );
    let (code, second, _) = import();
    assert_eq!(code, 0);
    assert!(
        second.contains("is identical to the last import; nothing changed"),
        "{second}"
    );
    let (code, forced, _) = run(confbot(Some(&db.url))
        .args(["import", "--force", "--conference", "nbpy-2026"])
        .arg(&seed));
    assert_eq!(code, 0);
    assert!(
        forced.contains("0 added, 0 changed, 0 cancelled, 1 unchanged"),
        "{forced}"
    );

    let (code, json, stderr) = run(confbot(Some(&db.url)).args([
        "export",
        "--conference",
        "nbpy-2026",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let talks: serde_json::Value = serde_json::from_str(&json).expect("JSON export");
    let talk = &talks[0];
    assert_eq!(
        talk["id"],
        "pretalx-nbpy-2026-ERUJ9T@pretalx.northbaypython.org"
    );
    assert_eq!(
        talk["title"],
        "Python as Orchestrator: When to Glue, When to Compute"
    );
    assert_eq!(talk["speakers"], serde_json::json!(["Freya Bhushan Mehta"]));
    assert_eq!(talk["room"], "Barn");
    assert_eq!(talk["start"], "2026-04-25T22:45:00Z");
    assert_eq!(talk["end"], "2026-04-25T23:10:00Z");
    assert_eq!(talk["status"], "confirmed");
    assert_eq!(talk["kind"], "talk");
    assert!(talk["track"].is_null());

    let (code, list, _) = run(confbot(Some(&db.url)).arg("conferences"));
    assert_eq!(code, 0);
    assert!(list.starts_with("nbpy-2026\t"), "{list}");
}

#[tokio::test]
async fn a_truncated_calendar_is_refused_with_its_line_and_nothing_is_stored() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = std::fs::read_to_string(fixture("seed000-nbpy-pretalx.ics")).expect("seed");
    let truncated = dir.path().join("truncated.ics");
    std::fs::write(&truncated, &seed[..seed.len() / 2]).expect("write");

    let (code, stdout, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "nbpy-2026"])
        .arg(&truncated));

    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.starts_with("error: cannot import "), "{stderr}");
    assert!(stderr.contains("truncated.ics"), "{stderr}");
    assert!(stderr.contains("line "), "{stderr}");
    assert_eq!(talk_count(&db).await, 0);
}

#[tokio::test]
async fn overlapping_listings_import_without_duplicates_and_skipped_blocks_are_reported() {
    let db = TestDb::new().await;
    let import = |name: &str| {
        run(confbot(Some(&db.url))
            .args(["import", "--conference", "pybay"])
            .arg(fixture(name)))
    };

    let (code, first, stderr) = import("seed001-listing-fundamentals.txt");
    assert_eq!(code, 0, "{stderr}");
    assert!(first.contains("16 added, 0 changed"), "{first}");
    let (code, second, stderr) = import("seed004-listing-pybay.txt");
    assert_eq!(code, 0, "{stderr}");

    // 37 talks in the second listing, 15 of them already known from the first.
    assert!(second.contains("22 added"), "{second}");
    assert_eq!(talk_count(&db).await, 16 + 22);
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("line 484: a \"Track, Level\" line has no talk title"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_dry_run_prints_the_diff_and_stores_nothing() {
    let db = TestDb::new().await;

    let (code, stdout, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--dry-run", "--conference", "anyconf"])
        .arg(fixture("pretalx-anyconf.json")));

    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("[dry run, nothing saved] anyconf (Europe/Brussels): 1 added"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+ Welcome to AnyConf 2024: Sat 03 Feb 09:00 CET, Janson"),
        "{stdout}"
    );
    assert_eq!(talk_count(&db).await, 0);
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let huge = dir.path().join("huge.ics");
    // A sparse 200 MB file: no disk is used, and confbot must not read it.
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(200 * 1024 * 1024))
        .expect("sparse file");

    let (code, _, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "big"])
        .arg(&huge));

    assert_eq!(code, 1);
    assert!(stderr.contains("209715200 bytes, over the"), "{stderr}");
    assert!(stderr.contains("import.max_bytes"), "{stderr}");
}

#[tokio::test]
async fn floating_times_without_a_zone_ask_for_timezone() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let floating = dir.path().join("floating.ics");
    std::fs::write(
        &floating,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:a\r\n\
         DTSTART:20260425T154500\r\nDTEND:20260425T161000\r\nSUMMARY:Floating\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .expect("write");
    let import = |zone: Option<&str>| {
        let mut command = confbot(Some(&db.url));
        command
            .args(["import", "--conference", "floaty"])
            .arg(&floating);
        if let Some(zone) = zone {
            command.args(["--timezone", zone]);
        }
        run(&mut command)
    };

    let (code, _, stderr) = import(None);
    assert_eq!(code, 1);
    assert!(stderr.contains("--timezone"), "{stderr}");

    let (code, stdout, stderr) = import(Some("Australia/Sydney"));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("floaty (Australia/Sydney): 1 added"),
        "{stdout}"
    );
    let start: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT starts_at FROM talks")
        .fetch_one(&db.pool)
        .await
        .expect("start");
    // 15:45 in Sydney on 25 April (AEST, +10) is 05:45 UTC the same day.
    assert_eq!(
        start,
        "2026-04-25T05:45:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .expect("instant")
    );
}

#[tokio::test]
async fn a_timetable_imported_after_a_listing_uses_its_own_zone_not_the_default_one() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let berlin = dir.path().join("berlin.ics");
    std::fs::write(
        &berlin,
        "BEGIN:VCALENDAR\nVERSION:2.0\nX-WR-TIMEZONE:Europe/Berlin\nBEGIN:VEVENT\nUID:f1\n\
         DTSTART:20260328T150000\nDURATION:PT1H\nSUMMARY:Floating\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    .expect("write");
    let import = |slug: &str, file: &Path| {
        let (code, stdout, stderr) = run(confbot(Some(&db.url))
            .args(["import", "--conference", slug])
            .arg(file));
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    // A listing creates each conference with the configured default zone (UTC).
    let listing = fixture("seed001-listing-fundamentals.txt");
    import("berlin", &listing);
    import("nbpy", &listing);

    let berlin_report = import("berlin", &berlin);
    let nbpy_report = import("nbpy", &fixture("seed000-nbpy-pretalx.ics"));

    assert!(
        berlin_report.starts_with("berlin (Europe/Berlin): 1 added"),
        "{berlin_report}"
    );
    let start: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT starts_at FROM talks WHERE source_id = 'f1'")
            .fetch_one(&db.pool)
            .await
            .expect("start");
    // 15:00 in Berlin on 28 March (CET, +1) is 14:00 UTC, not 15:00 as in the stored UTC.
    assert_eq!(start.to_rfc3339(), "2026-03-28T14:00:00+00:00");
    assert!(
        nbpy_report.starts_with("nbpy (America/Los_Angeles): 1 added"),
        "{nbpy_report}"
    );
}

#[tokio::test]
async fn exporting_an_unknown_conference_names_its_slug() {
    let db = TestDb::new().await;

    let (code, stdout, stderr) = run(confbot(Some(&db.url)).args([
        "export",
        "--conference",
        "nope-2026",
        "--format",
        "json",
    ]));

    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr.trim_end(),
        "error: no conference nope-2026: import a schedule into it first"
    );
}

#[test]
fn commands_that_keep_data_refuse_to_run_without_a_database() {
    let (code, _, stderr) = run(confbot(None).args(["conferences"]));

    assert_eq!(code, 1);
    assert!(
        stderr.contains("no database configured: set DATABASE_URL"),
        "{stderr}"
    );
}

#[test]
fn unknown_options_and_bad_values_are_usage_errors() {
    let (code, _, stderr) =
        run(confbot(None).args(["import", "x.ics", "--conference", "a", "--colour"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("--colour"), "{stderr}");

    let (code, _, stderr) =
        run(confbot(None).args(["import", "x.ics", "--conference", "a", "--format", "pdf"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("pdf"), "{stderr}");
}

#[test]
fn an_unknown_config_key_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("confbot.toml");
    std::fs::write(&config, "[database]\nmax_conections = 3\n").expect("write");

    let (code, _, stderr) = run(confbot(None)
        .arg("--config")
        .arg(&config)
        .arg("conferences"));

    assert_eq!(code, 1);
    assert!(stderr.contains("max_conections"), "{stderr}");
}

#[test]
fn the_demo_runs_with_nothing_configured() {
    let (code, stdout, stderr) = run(confbot(None).arg("demo"));

    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Started a private throwaway PostgreSQL in /"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Stopped the private PostgreSQL"),
        "{stderr}"
    );
    assert!(
        stdout.contains(
            "15:45–16:10  Barn     Python as Orchestrator: When to Glue, When to Compute"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("[CANCELLED]"), "{stdout}");
}

#[test]
fn serve_interactions_without_a_public_key_fails_at_once_naming_it() {
    let (code, _, stderr) = run(confbot(None)
        .env("DISCORD_TOKEN", "some-token")
        .args(["serve-interactions"]));

    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("DISCORD_PUBLIC_KEY"), "{stderr}");
    assert!(
        !stderr.contains("some-token"),
        "the token is never printed: {stderr}"
    );
}

#[test]
fn serve_interactions_refuses_a_public_key_that_is_no_key() {
    let (code, _, stderr) = run(confbot(None)
        .env("DISCORD_TOKEN", "some-token")
        .env("DISCORD_PUBLIC_KEY", "not-hex")
        .args(["serve-interactions"]));

    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("discord.public_key"), "{stderr}");
}
