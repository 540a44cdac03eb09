//! `confbot simulate` as an organiser runs it: the stored programme, subscriptions and the
//! configured channel plan rendered as the posts the scheduler would make, in order.

use crate::cli::{confbot, fixture, run};
use crate::harness::TestDb;

const SEED_TEXT: &str = "⏰ **Python as Orchestrator: When to Glue, When to Compute** — \
    Freya Bhushan Mehta — starting in 10 minutes in Barn (<t:1777157100:R>) \
    <https://pretalx.northbaypython.org/nbpy-2026/talk/ERUJ9T/>";

/// A database with the seed schedule imported into `nbpy-2026` by the CLI.
async fn seeded() -> TestDb {
    let db = TestDb::new().await;
    let (code, _, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "nbpy-2026"])
        .arg(fixture("seed000-nbpy-pretalx.ics")));
    assert_eq!(code, 0, "{stderr}");
    db
}

/// `confbot simulate` of the seed talk's day.
fn simulate_the_day(db: &TestDb) -> std::process::Command {
    let mut command = confbot(Some(&db.url));
    command
        .args(["simulate", "--conference", "nbpy-2026"])
        .args([
            "--from",
            "2026-04-25T00:00:00Z",
            "--to",
            "2026-04-26T00:00:00Z",
        ]);
    command
}

#[tokio::test]
async fn simulate_prints_the_seed_talks_reminders_at_22_35_for_barn_and_its_subscriber() {
    let db = seeded().await;
    sqlx::query(
        "INSERT INTO subscriptions (conference_id, user_id, talk_id)
         SELECT conference_id, 42, id FROM talks",
    )
    .execute(&db.pool)
    .await
    .expect("subscribe");

    let (code, stdout, stderr) = run(simulate_the_day(&db).env(
        "CONFBOT__REMINDERS__CONFERENCES",
        r#"[{conference = "nbpy-2026", rooms = { Barn = { id = 111, name = "barn" } }}]"#,
    ));

    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!("2026-04-25T22:35:00Z\tchannel:barn\t{SEED_TEXT}"),
            format!("2026-04-25T22:35:00Z\tdm:42\t{SEED_TEXT}"),
        ]
    );
}

#[tokio::test]
async fn simulate_outside_the_window_prints_nothing_and_a_bad_window_or_slug_is_an_error() {
    let db = seeded().await;
    let simulate = |args: &[&str]| {
        run(confbot(Some(&db.url))
            .args(["simulate", "--conference"])
            .args(args))
    };

    let empty = simulate(&[
        "nbpy-2026",
        "--from",
        "2026-04-25T22:35:01Z",
        "--to",
        "2026-04-26T00:00:00Z",
    ]);
    let reversed = simulate(&[
        "nbpy-2026",
        "--from",
        "2026-04-26T00:00:00Z",
        "--to",
        "2026-04-25T00:00:00Z",
    ]);
    let unknown = simulate(&[
        "nope",
        "--from",
        "2026-04-25T00:00:00Z",
        "--to",
        "2026-04-26T00:00:00Z",
    ]);
    let garbled = simulate(&[
        "nbpy-2026",
        "--from",
        "yesterday",
        "--to",
        "2026-04-26T00:00:00Z",
    ]);

    assert_eq!((empty.0, empty.1.as_str()), (0, ""));
    assert_eq!(reversed.0, 1);
    assert!(
        reversed
            .2
            .contains("--from (2026-04-26T00:00:00+00:00) must be before --to"),
        "{}",
        reversed.2
    );
    assert_eq!(unknown.0, 1);
    assert!(unknown.2.contains("no conference nope"), "{}", unknown.2);
    assert_eq!(garbled.0, 2, "a usage error");
    assert!(
        garbled.2.contains("not an RFC 3339 instant"),
        "{}",
        garbled.2
    );
}

#[tokio::test]
async fn simulate_a_sydney_conference_reminds_at_the_true_instant_across_the_zone() {
    let db = TestDb::new().await;
    let (code, _, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "syd"])
        .arg(fixture("ics-sydney-aest.ics")));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(confbot(Some(&db.url))
        .env(
            "CONFBOT__REMINDERS__CONFERENCES",
            r#"[{conference = "syd", default_channel = 5}]"#,
        )
        .args(["simulate", "--conference", "syd"])
        .args([
            "--from",
            "2000-01-01T00:00:00Z",
            "--to",
            "2100-01-01T00:00:00Z",
        ]));

    assert_eq!(code, 0, "{stderr}");
    let due: Vec<&str> = stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    // 09:00 local both days: AEST (+10) in April after the clocks went back, AEDT (+11) in
    // October; each reminder ten real minutes before.
    assert_eq!(due, ["2026-04-09T22:50:00Z", "2026-10-14T21:50:00Z"]);
    assert!(stdout
        .lines()
        .all(|l| l.split('\t').nth(1) == Some("channel:5")));
}

#[tokio::test]
async fn simulate_lists_the_boards_edits_and_waiting_schedule_updates_among_the_reminders() {
    let db = seeded().await;
    // A server with a board in channel 222, and an update the planner queued for channel 333.
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, board_channel, updated_by)
         VALUES (5, 'nbpy-2026', 222, 1)",
    )
    .execute(&db.pool)
    .await
    .expect("settings");
    sqlx::query(
        r#"INSERT INTO outbox (conference_id, target_kind, target_id, import_id, kind,
                              schedule_version, due_at, body)
           SELECT conference_id, 'channel', 333, id, 'schedule_update', 0,
                  '2026-04-25T20:00:00Z',
                  '{"body": "notice", "content": "📅 **Schedule update**\nNew: **Glue**"}'
           FROM imports"#,
    )
    .execute(&db.pool)
    .await
    .expect("queued update");

    let (code, stdout, stderr) = run(&mut simulate_the_day(&db));

    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(
        lines[0],
        "2026-04-25T20:00:00Z\tchannel:333\t📅 **Schedule update** New: **Glue**"
    );
    // The seed talk starts at 22:45 in Barn: the board shows it then, and nothing after it.
    assert!(
        lines[1].starts_with(
            "2026-04-25T22:45:00Z\tchannel:222\t📍 **Barn** Now: **Python as Orchestrator"
        ),
        "{}",
        lines[1]
    );
    assert!(
        lines[2]
            .contains("\tchannel:222\t📍 **Barn** Now: nothing on Next: nothing more scheduled"),
        "{}",
        lines[2]
    );
}
