//! A wrong source must not wipe a programme: an import that would cancel most of a
//! conference's talks is refused with the numbers, the database unchanged, unless the
//! organiser confirms it (`--allow-mass-change`); a scheduled sync reports the refusal.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use confbot::config::Settings;
use confbot::store::syncs;
use confbot::sync::sync_target;

use crate::cli::{confbot, fixture, run};
use crate::harness::TestDb;
use crate::served::{self, Served};

/// Everything an import writes, as text, to compare before and after.
async fn snapshot(db: &TestDb) -> (Vec<String>, i64, String) {
    let talks: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws('|', source_id, title, status, starts_at::text, schedule_version::text)
         FROM talks ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("talks");
    let imports: i64 = sqlx::query_scalar("SELECT count(*) FROM imports")
        .fetch_one(&db.pool)
        .await
        .expect("imports");
    let zones: Vec<String> =
        sqlx::query_scalar("SELECT slug || ' ' || time_zone FROM conferences ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .expect("conferences");
    (talks, imports, zones.join(","))
}

#[tokio::test]
async fn another_conferences_file_is_refused_with_the_numbers_unless_the_organiser_confirms() {
    let db = TestDb::new().await;
    let import = |file: &str, extra: &[&str]| {
        run(confbot(Some(&db.url))
            .args(["import", "--conference", "miniconf"])
            .args(extra)
            .arg(fixture(file)))
    };
    let (code, _, stderr) = import("real-world/miniconf-pretalx.ics", &[]);
    assert_eq!(code, 0, "{stderr}");
    let before = snapshot(&db).await;

    let (code, stdout, stderr) = import("real-world/congress-duplicate-guids.xml", &[]);

    assert_ne!(code, 0, "{stdout}");
    assert!(
        stderr.contains("this import would cancel 3 of 3 talks")
            && stderr.contains("nothing was changed")
            && stderr.contains("--allow-mass-change"),
        "{stderr}"
    );
    assert_eq!(snapshot(&db).await, before, "the database is unchanged");

    let (code, stdout, stderr) = import(
        "real-world/congress-duplicate-guids.xml",
        &["--allow-mass-change"],
    );

    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("4 added, 0 changed, 3 cancelled, 0 unchanged"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_time_zone_change_is_refused_until_confirmed() {
    let db = TestDb::new().await;
    let import = |extra: &[&str]| {
        run(confbot(Some(&db.url))
            .args(["import", "--conference", "miniconf"])
            .args(extra)
            .arg(fixture("real-world/miniconf-pretalx.json")))
    };
    let (code, _, stderr) = import(&[]);
    assert_eq!(code, 0, "{stderr}");
    let before = snapshot(&db).await;

    let (code, _, stderr) = import(&["--force", "--timezone", "America/New_York"]);

    assert_ne!(code, 0);
    assert!(
        stderr.contains("would change the time zone from Europe/Berlin to America/New_York"),
        "{stderr}"
    );
    assert_eq!(snapshot(&db).await, before);
    let (code, _, stderr) = import(&[
        "--force",
        "--timezone",
        "America/New_York",
        "--allow-mass-change",
    ]);
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test]
async fn a_scheduled_sync_posts_the_refusal_to_the_organisers_and_applies_nothing() {
    let db = TestDb::new().await;
    crate::fixtures::import_text(
        &db.pool,
        "synccon",
        include_str!("../fixtures/real-world/miniconf-pretalx.ics"),
    )
    .await;
    let before = snapshot(&db).await;
    let served = Served::ok(include_str!(
        "../fixtures/real-world/calendar-duplicate-uid.ics"
    ));
    let url = served::start(&served, "schedule.ics").await;
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, source_url, refresh_minutes,
                                     organiser_log_channel, updated_by)
         VALUES (77, 'synccon', $1, 5, 6000000000000001, 1)",
    )
    .bind(&url)
    .execute(&db.pool)
    .await
    .expect("settings");
    let target = syncs::targets(&db.pool)
        .await
        .expect("targets")
        .into_iter()
        .next()
        .expect("one target");
    let mut settings = Settings::load(None, &[]).expect("settings");
    // The test's source is a server on loopback.
    settings.import.allow_private_addresses = true;
    let now: DateTime<Utc> = "2026-05-01T12:00:00Z".parse().expect("instant");

    let run = sync_target(&db.pool, &settings.import, Tz::UTC, &target, false, now)
        .await
        .expect("bookkeeping")
        .expect("due");

    assert_eq!(served.lock().unwrap().requests, 1, "the source was fetched");
    let error = run.result.expect_err("refused");
    assert!(error.contains("would cancel 3 of 3 talks"), "{error}");
    let log = run.log.expect("posted to the organisers' log");
    assert!(
        log.contains("would cancel 3 of 3 talks") && log.contains("The last good schedule"),
        "{log}"
    );
    let status = syncs::states(&db.pool, target.conference_id)
        .await
        .expect("status");
    assert!(
        status.iter().any(|s| s
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("would cancel 3 of 3"))),
        "/status shows the refusal: {status:?}"
    );
    assert_eq!(snapshot(&db).await, before, "nothing was applied");
}
