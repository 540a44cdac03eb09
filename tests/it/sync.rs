//! The live schedule sync against a schedule server on 127.0.0.1 whose answers the test
//! changes: diffs reported to the organisers, a broken source keeping the last good
//! schedule (reported once, recovered by itself), an unchanged source costing one 304.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use confbot::config::Settings;
use confbot::store::syncs;
use confbot::sync::sync_target;

use crate::harness::TestDb;
use crate::reminders::{ics, Talk};
use crate::served::{self, Served};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

fn talks(moved: bool, cancelled: bool) -> String {
    let keynote = Talk {
        uid: "keynote",
        title: "Keynote",
        room: "Barn",
        start: if moved {
            at("2026-06-01T11:00:00Z")
        } else {
            at("2026-06-01T09:00:00Z")
        },
        cancelled: false,
    };
    let workshop = Talk {
        uid: "workshop",
        title: "Workshop",
        room: "Loft",
        start: at("2026-06-01T10:00:00Z"),
        cancelled,
    };
    ics(&[keynote, workshop])
}

const LOG_CHANNEL: u64 = 6_000_000_000_000_001;

/// A server following "synccon" from `url` every 5 minutes, with an organiser log.
async fn follow(db: &TestDb, url: &str) -> syncs::SyncTarget {
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, source_url, refresh_minutes,
                                     organiser_log_channel, updated_by)
         VALUES (77, 'synccon', $1, 5, $2, 1)",
    )
    .bind(url)
    .bind(i64::try_from(LOG_CHANNEL).expect("fits"))
    .execute(&db.pool)
    .await
    .expect("settings");
    let targets = syncs::targets(&db.pool).await.expect("targets");
    assert_eq!(targets.len(), 1);
    targets.into_iter().next().expect("one")
}

#[tokio::test]
async fn a_sync_imports_the_changes_reports_them_once_and_an_unchanged_source_costs_a_304() {
    let db = TestDb::new().await;
    crate::fixtures::import_text(&db.pool, "synccon", &talks(false, false)).await;
    let served = Served::tagged(talks(true, true), "\"v2\"");
    let url = served::start(&served, "schedule.ics").await;
    let target = follow(&db, &url).await;
    let settings = Settings::load(None, &allow_loopback()).expect("settings");
    let now = at("2026-05-01T12:00:00Z");

    let first = sync_target(&db.pool, &settings.import, Tz::UTC, &target, false, now)
        .await
        .expect("sync");
    let too_soon = sync_target(
        &db.pool,
        &settings.import,
        Tz::UTC,
        &target,
        false,
        now + Duration::minutes(1),
    )
    .await
    .expect("sync");
    let again = sync_target(
        &db.pool,
        &settings.import,
        Tz::UTC,
        &target,
        false,
        now + Duration::minutes(5),
    )
    .await
    .expect("sync");

    let first = first.expect("due");
    assert_eq!(first.result, Ok("1 moved, 1 cancelled".to_owned()));
    let log = first.log.expect("a report");
    assert!(
        log.starts_with("📅 **Remind Con** schedule sync: 1 moved, 1 cancelled (from <"),
        "{log}"
    );
    assert!(
        log.contains(
            "• Moved: **Keynote** now <t:1780311600:F> in Barn (was <t:1780304400:F> in Barn)"
        ),
        "{log}"
    );
    assert!(log.contains("• Cancelled: **Workshop**"), "{log}");
    assert!(
        too_soon.is_none(),
        "not due again within the refresh interval"
    );
    let again = again.expect("due again");
    assert_eq!(
        (again.result, again.log),
        (Ok("unchanged".to_owned()), None)
    );
    let seen = {
        let served = served.lock().unwrap();
        (served.requests, served.conditional)
    };
    assert_eq!(seen, (2, 1), "the second fetch was a 304");
    let start: DateTime<Utc> =
        sqlx::query_scalar("SELECT starts_at FROM talks WHERE source_id = 'keynote'")
            .fetch_one(&db.pool)
            .await
            .expect("keynote");
    assert_eq!(start, at("2026-06-01T11:00:00Z"));
}

#[tokio::test]
async fn a_broken_source_keeps_the_last_good_schedule_is_reported_once_and_recovers() {
    let db = TestDb::new().await;
    crate::fixtures::import_text(&db.pool, "synccon", &talks(false, false)).await;
    let served = Served::tagged("<html><body>Please log in</body></html>", "\"html\"");
    let url = served::start(&served, "schedule.ics").await;
    let target = follow(&db, &url).await;
    let settings = Settings::load(None, &allow_loopback()).expect("settings");
    let now = at("2026-05-01T12:00:00Z");
    let sync = |minutes: i64| {
        let (pool, import, target) = (db.pool.clone(), settings.import.clone(), target.clone());
        async move {
            sync_target(
                &pool,
                &import,
                Tz::UTC,
                &target,
                true,
                now + Duration::minutes(minutes),
            )
            .await
            .expect("bookkeeping")
            .expect("forced")
        }
    };

    let html = sync(0).await;
    {
        let mut served = served.lock().unwrap();
        served.status = 404;
        served.etag = "\"gone\"".to_owned();
    }
    let missing = sync(5).await;
    {
        let mut served = served.lock().unwrap();
        served.status = 200;
        served.body = talks(true, false);
        served.etag = "\"v3\"".to_owned();
    }
    let back = sync(10).await;

    let error = html.result.expect_err("HTML is no schedule");
    assert!(
        error.contains("<html>: the root element should be <schedule>"),
        "{error}"
    );
    let report = html.log.expect("the first failure is reported");
    assert!(
        report.starts_with("⚠️ **synccon** schedule sync from <"),
        "{report}"
    );
    assert!(
        report.contains("The last good schedule stays in use"),
        "{report}"
    );
    assert!(missing.result.expect_err("404").contains("404"));
    assert_eq!(
        missing.log, None,
        "a failure is reported once, not every interval"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM talks WHERE status = 'confirmed'")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(count, 2, "the failures changed nothing");
    assert_eq!(back.result, Ok("1 moved".to_owned()));
    let recovered = back.log.expect("recovery reported");
    assert!(
        recovered.starts_with("✅ **synccon** schedule sync from <"),
        "{recovered}"
    );
    assert!(recovered.contains("works again: 1 moved."), "{recovered}");
    assert!(recovered.contains("• Moved: **Keynote**"), "{recovered}");
    let states = syncs::states(&db.pool, target.conference_id)
        .await
        .expect("states");
    assert_eq!(states[0].last_error, None);
    assert_eq!(states[0].last_result.as_deref(), Some("1 moved"));
}

#[tokio::test]
async fn a_source_over_the_size_limit_is_refused_and_changes_nothing() {
    let db = TestDb::new().await;
    crate::fixtures::import_text(&db.pool, "synccon", &talks(false, false)).await;
    // A valid schedule, but bigger than this deployment allows.
    let served = Served::tagged(talks(true, true) + &" ".repeat(20_000), "\"big\"");
    let url = served::start(&served, "schedule.ics").await;
    let target = follow(&db, &url).await;
    let mut env = allow_loopback();
    env.push(("CONFBOT__IMPORT__MAX_BYTES".to_owned(), "10000".to_owned()));
    let settings = Settings::load(None, &env).expect("settings");

    let run = forced_sync(&db, &settings, &target).await;

    let error = run.result.expect_err("too large");
    assert!(
        error.contains("is larger than the limit of 10000 bytes"),
        "{error}"
    );
    assert!(run.log.expect("reported").contains("failed"));
    let start: DateTime<Utc> =
        sqlx::query_scalar("SELECT starts_at FROM talks WHERE source_id = 'keynote'")
            .fetch_one(&db.pool)
            .await
            .expect("keynote");
    assert_eq!(
        start,
        at("2026-06-01T09:00:00Z"),
        "the last good schedule stays"
    );
}

/// The schedule servers here listen on 127.0.0.1, which the fetch guard refuses unless the
/// operator allows internal addresses.
/// A `/sync` of `target` now (at a fixed instant), which must get the source's claim.
async fn forced_sync(
    db: &TestDb,
    settings: &Settings,
    target: &syncs::SyncTarget,
) -> confbot::sync::SyncRun {
    sync_target(
        &db.pool,
        &settings.import,
        Tz::UTC,
        target,
        true,
        at("2026-05-01T12:00:00Z"),
    )
    .await
    .expect("the sync's bookkeeping")
    .expect("a forced sync gets the claim")
}

fn allow_loopback() -> Vec<(String, String)> {
    vec![(
        "CONFBOT__IMPORT__ALLOW_PRIVATE_ADDRESSES".to_owned(),
        "true".to_owned(),
    )]
}

/// The titles of synccon's talks that are not cancelled, sorted.
async fn scheduled_titles(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT t.title FROM talks t JOIN conferences c ON c.id = t.conference_id
         WHERE c.slug = 'synccon' AND t.status <> 'cancelled' ORDER BY t.title",
    )
    .fetch_all(&db.pool)
    .await
    .expect("titles")
}

#[tokio::test]
async fn a_source_on_an_internal_address_is_refused_without_a_request_and_without_probe_detail() {
    let db = TestDb::new().await;
    crate::fixtures::import_text(&db.pool, "synccon", &talks(false, false)).await;
    let before = scheduled_titles(&db).await;
    let served = Served::ok(talks(true, true));
    let url = served::start(&served, "schedule.ics").await;
    let target = follow(&db, &url).await;
    // The deployment's default: no internal addresses.
    let settings = Settings::load(None, &[]).expect("settings");

    let run = forced_sync(&db, &settings, &target).await;

    let error = run.result.expect_err("refused");
    assert!(
        error.contains("refused, the address is not a public internet address"),
        "{error}"
    );
    assert!(error.contains("import.allow_private_addresses"), "{error}");
    let log = run.log.expect("the first failure is reported");
    for text in [&error, &log] {
        assert!(
            !text.to_lowercase().contains("connect"),
            "no transport detail: {text}"
        );
        assert!(!text.contains("os error"), "no transport detail: {text}");
    }
    assert_eq!(served.lock().unwrap().requests, 0);
    assert_eq!(scheduled_titles(&db).await, before);
}

#[tokio::test]
async fn a_source_url_s_credentials_appear_in_no_discord_message_or_status() {
    let db = TestDb::new().await;
    crate::fixtures::import_text(&db.pool, "synccon", &talks(false, false)).await;
    let served = Served::ok("gone");
    served.lock().unwrap().status = 404;
    let base = served::start(&served, "schedule.ics").await;
    let secret_url = base.replacen("http://", "http://alice:hunter2@", 1)
        + "?token=tok-123&api_key=key-456&lang=en";
    let target = follow(&db, &secret_url).await;
    let settings = Settings::load(None, &allow_loopback()).expect("settings");
    let now = at("2026-05-01T12:00:00Z");

    // A failure, reported to the organiser log and kept for /status ...
    let failed = sync_target(&db.pool, &settings.import, Tz::UTC, &target, true, now)
        .await
        .expect("store")
        .expect("claimed");
    // ... then a recovery with a diff, reported again.
    {
        let mut served = served.lock().unwrap();
        served.status = 200;
        served.body = talks(true, false);
    }
    let recovered = sync_target(
        &db.pool,
        &settings.import,
        Tz::UTC,
        &target,
        true,
        now + Duration::minutes(10),
    )
    .await
    .expect("store")
    .expect("claimed");

    let error = failed.result.clone().expect_err("404");
    assert!(error.contains("HTTP 404"), "{error}");
    let status: Vec<String> = syncs::states(&db.pool, target.conference_id)
        .await
        .expect("states")
        .into_iter()
        .flat_map(|s| {
            [
                s.last_error.unwrap_or_default(),
                s.last_result.unwrap_or_default(),
            ]
        })
        .collect();
    let shown = [
        error,
        failed.log.expect("failure reported"),
        recovered.log.expect("recovery reported"),
    ];
    assert!(shown[1].contains("token=redacted"), "{}", shown[1]);
    assert!(shown[2].contains("lang=en"), "{}", shown[2]);
    for text in shown.iter().chain(&status) {
        for secret in ["alice", "hunter2", "tok-123", "key-456"] {
            assert!(!text.contains(secret), "{secret} shown in {text}");
        }
    }
}
