//! `confbot console` run as an organiser would: import the seed with the binary, pipe
//! commands in, read the answers.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::harness::{confbot_bin, TestDb};

/// The binary with a clean environment and the test database.
fn confbot(database_url: &str) -> Command {
    let mut command = Command::new(confbot_bin());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CONFBOT") || key == "DATABASE_URL" || key == "DISCORD_TOKEN" {
            command.env_remove(key);
        }
    }
    command
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn");
    command
}

/// Runs `confbot console` with `input` on stdin: (exit code, stdout, stderr).
fn console(db: &TestDb, args: &[&str], input: impl AsRef<[u8]>) -> (i32, String, String) {
    let mut child = confbot(&db.url)
        .arg("console")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("confbot starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_ref())
        .expect("write stdin");
    let output = child.wait_with_output().expect("confbot finishes");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn import_seed(db: &TestDb) {
    let seed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed000-nbpy-pretalx.ics");
    let output = confbot(&db.url)
        .args(["import", "--conference", "nbpy-2026"])
        .arg(seed)
        .output()
        .expect("import runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn the_console_answers_next_and_talk_on_the_seed_at_a_fixed_instant() {
    let db = TestDb::new().await;
    import_seed(&db);

    let (code, stdout, stderr) = console(
        &db,
        &["--conference", "nbpy-2026", "--at", "2026-04-25T22:00:00Z"],
        "/next\n/talk query:orchestrator\n",
    );

    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..2],
        [
            "Python as Orchestrator: When to Glue, When to Compute — Freya Bhushan Mehta: \
             starts in 45 minutes in Barn (15:45)",
            "",
        ]
    );
    assert_eq!(
        lines[2],
        "    Python as Orchestrator: When to Glue, When to Compute"
    );
    assert_eq!(
        lines[3],
        "    https://pretalx.northbaypython.org/nbpy-2026/talk/ERUJ9T/"
    );
    assert!(lines[4].starts_with("    Python powers Netflix's recommendation engine, processes"));
    let tail: Vec<&str> = lines.iter().rev().take(7).rev().copied().collect();
    assert_eq!(
        tail,
        [
            "    Speaker: Freya Bhushan Mehta",
            "    Starts: Saturday 25 April 2026 15:45 PDT (in 45 minutes)",
            "    Ends: Saturday 25 April 2026 16:10 PDT (in 1 hour 10 minutes)",
            "    Room: Barn",
            "    — nbpy-2026",
            "[Remind me]",
            "",
        ]
    );
}

#[tokio::test]
async fn a_bad_line_gets_a_one_line_error_and_the_next_line_is_still_answered() {
    let db = TestDb::new().await;
    import_seed(&db);

    let (code, stdout, stderr) = console(
        &db,
        &["--conference", "nbpy-2026", "--at", "2026-04-26T12:00:00Z"],
        "/dance\n/next room:Cellar\n/now\n",
    );

    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "error: unknown command \"/dance\": try /talk, /next, /now, /schedule, /speaker or /help\n\n\
         There is no room “Cellar” in this programme. Rooms: Barn.\n\n\
         Nothing is on right now. The conference is over: the last talk, Python as \
         Orchestrator: When to Glue, When to Compute — Freya Bhushan Mehta in Barn, ended \
         12 hours 50 minutes ago (16:10).\n\n"
    );
}

#[tokio::test]
async fn a_line_that_is_not_utf8_gets_an_error_and_the_session_goes_on() {
    let db = TestDb::new().await;
    import_seed(&db);

    let (code, stdout, stderr) = console(
        &db,
        &["--conference", "nbpy-2026", "--at", "2026-04-26T12:00:00Z"],
        b"/talk query:\xff\xfe\r\n/next room:Cellar\r\n",
    );

    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "error: line 1 is not valid UTF-8\n\n\
         There is no room “Cellar” in this programme. Rooms: Barn.\n\n"
    );
}

#[tokio::test]
async fn an_unknown_conference_is_an_error_naming_it() {
    let db = TestDb::new().await;

    let (code, stdout, stderr) = console(&db, &["--conference", "nope-2026"], "/help\n");

    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("no conference nope-2026: import its schedule first"),
        "{stderr}"
    );
}
