//! The binary at the edges a person meets: over-long fields, a closed stdout, a dead database.

use std::process::Stdio;

use crate::cli::{confbot, fixture, run, talk_count};
use crate::harness::TestDb;

/// A pipe whose reader is already gone: every write to it fails with EPIPE, as when
/// `| head -1` has read its line and exited.
fn closed_stdout() -> Stdio {
    use std::os::fd::{FromRawFd as _, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe(2) writes two new descriptors into the array it is given.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both descriptors were just created and are owned by nothing else.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    Stdio::from(writer)
}

#[tokio::test]
async fn an_import_whose_stdout_is_closed_commits_and_exits_quietly_with_status_0() {
    let db = TestDb::new().await;

    let output = confbot(Some(&db.url))
        .args(["import", "--conference", "nbpy-2026"])
        .arg(fixture("seed000-nbpy-pretalx.ics"))
        .stdout(closed_stdout())
        .output()
        .expect("confbot runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(talk_count(&db).await > 0, "the import was committed");
}

#[tokio::test]
async fn an_export_whose_stdout_is_closed_exits_quietly_with_status_0() {
    let db = TestDb::new().await;
    let (code, _, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "nbpy-2026"])
        .arg(fixture("seed000-nbpy-pretalx.ics")));
    assert_eq!(code, 0, "{stderr}");

    let output = confbot(Some(&db.url))
        .args(["export", "--conference", "nbpy-2026", "--format", "ics"])
        .stdout(closed_stdout())
        .output()
        .expect("confbot runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

#[tokio::test]
async fn a_demo_whose_stdout_and_stderr_are_closed_still_ends_cleanly_and_removes_its_files() {
    // `confbot demo 2>&1 | head`: both streams gone once head has its lines.
    let temp = tempfile::tempdir().expect("temp dir");

    let status = confbot(None)
        .arg("demo")
        .env("TMPDIR", temp.path())
        .stdin(Stdio::null())
        .stdout(closed_stdout())
        .stderr(closed_stdout())
        .status()
        .expect("confbot runs");

    assert_eq!(status.code(), Some(0));
    let left: Vec<_> = std::fs::read_dir(temp.path())
        .expect("read")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "the demo's files are gone: {left:?}");
}

#[tokio::test]
async fn an_over_long_title_is_refused_once_by_the_domain_and_nothing_is_stored() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("long.ics");
    let title = "x".repeat(3_000);
    std::fs::write(
        &path,
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:long@example\r\n\
             DTSTART:20260425T100000Z\r\nDTEND:20260425T103000Z\r\nSUMMARY:{title}\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    .expect("write");

    let (code, stdout, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--conference", "long-2026"])
        .arg(&path));

    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("line 5: talk \"xxxx")
            && stderr.contains("the title is 3000 characters long, over the limit of 500"),
        "{stderr}"
    );
    assert!(!stderr.contains("index row size"), "{stderr}");
    assert_eq!(talk_count(&db).await, 0);
}

/// A loopback port with nothing listening on it: bound, then released.
fn closed_loopback_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[test]
fn a_dead_database_is_named_with_its_address_and_cause_at_once_and_only_once() {
    let port = closed_loopback_port();
    let url = format!("postgres://confbot@127.0.0.1:{port}/confbot");
    let started = std::time::Instant::now();

    let (code, stdout, stderr) = run(confbot(Some(&url)).arg("conferences"));

    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        format!("error: cannot reach the database at 127.0.0.1:{port}: connection refused\n")
    );
}

#[tokio::test]
async fn a_failed_fetch_is_printed_once_and_without_colour_codes() {
    let db = TestDb::new().await;
    let port = closed_loopback_port();
    let source = format!("http://127.0.0.1:{port}/schedule.ics");

    let (code, _, stderr) = run(confbot(Some(&db.url)).env("RUST_LOG", "info").args([
        "import",
        "--allow-private-addresses",
        "--conference",
        "x-2026",
        &source,
    ]));

    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr.to_lowercase().matches("connection refused").count(),
        1,
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}

#[tokio::test]
async fn importing_dev_zero_is_refused_at_the_cap_naming_it_and_the_file() {
    let db = TestDb::new().await;
    let before = seeded(&db, "nbpy-2026").await;
    let started = std::time::Instant::now();

    let (code, _, stderr) = run(confbot(Some(&db.url))
        .env("CONFBOT__IMPORT__MAX_BYTES", "100000")
        .args(["import", "--conference", "nbpy-2026", "/dev/zero"]));

    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("/dev/zero is larger than the 100000-byte limit (import.max_bytes)"),
        "{stderr}"
    );
    // Reading 100 kB takes milliseconds; an unbounded read would not end at all.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(talk_count(&db).await, before);
}

#[tokio::test]
async fn a_pipe_longer_than_the_cap_is_refused_and_changes_nothing() {
    let db = TestDb::new().await;
    let before = seeded(&db, "nbpy-2026").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("schedule.ics");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    // The writer blocks in open() until confbot opens the pipe for reading; then it writes
    // more than the cap and gets EPIPE once confbot has stopped reading.
    let writer_path = fifo.clone();
    std::thread::spawn(move || {
        use std::io::Write;
        if let Ok(mut pipe) = std::fs::OpenOptions::new().write(true).open(writer_path) {
            let _ = pipe.write_all(&vec![b'x'; 50_000]);
        }
    });

    let (code, _, stderr) = run(confbot(Some(&db.url))
        .env("CONFBOT__IMPORT__MAX_BYTES", "10000")
        .args(["import", "--conference", "nbpy-2026"])
        .arg(&fifo));

    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("is larger than the 10000-byte limit (import.max_bytes)"),
        "{stderr}"
    );
    assert!(stderr.contains("schedule.ics"), "{stderr}");
    assert_eq!(talk_count(&db).await, before);
}

/// Imports the seed calendar into `slug`, so a refused import can be shown to change nothing.
async fn seeded(db: &TestDb, slug: &str) -> i64 {
    let (code, _, stderr) = run(confbot(Some(&db.url))
        .args(["import", "--conference", slug])
        .arg(fixture("seed000-nbpy-pretalx.ics")));
    assert_eq!(code, 0, "{stderr}");
    talk_count(db).await
}
