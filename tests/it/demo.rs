//! `confbot demo` as a newcomer runs it: nothing configured, the sample conference's
//! reminders arriving on a fast demo clock while commands are answered at its time.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::process::confbot;

/// Waits for a line of the demo's output (or log) that contains `needle`; returns it.
async fn line_with<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut tokio::io::Lines<R>,
    needle: &str,
    seen: &mut Vec<String>,
) -> String {
    line_where(lines, needle, |line| line.contains(needle), seen).await
}

/// Waits for a line of the demo's output that satisfies `wanted` (`what` names it).
async fn line_where<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut tokio::io::Lines<R>,
    what: &str,
    wanted: impl Fn(&str) -> bool,
    seen: &mut Vec<String>,
) -> String {
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("stdout readable") {
            seen.push(line.clone());
            if wanted(&line) {
                return Some(line);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(line)) => line,
        _ => panic!("no line with {what:?}; output so far:\n{}", seen.join("\n")),
    }
}

/// Like [`line_with`], but a line already read (while waiting for another) counts too:
/// for output whose order against the scheduler's posts is not fixed.
async fn seen_or_next<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut tokio::io::Lines<R>,
    needle: &str,
    seen: &mut Vec<String>,
) -> String {
    if let Some(line) = seen.iter().find(|line| line.contains(needle)) {
        return line.clone();
    }
    line_with(lines, needle, seen).await
}

#[tokio::test]
async fn the_demo_posts_the_sample_reminders_on_a_fast_clock_and_answers_commands_meanwhile() {
    let mut demo = confbot()
        .args(["demo", "--fast", "600"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("confbot demo starts");
    let mut stdin = demo.stdin.take().expect("stdin");
    let mut lines = BufReader::new(demo.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();

    let intro = line_with(&mut lines, "The demo clock now reads", &mut seen).await;
    let board = line_with(&mut lines, "#now-next: 📺 Now and next", &mut seen).await;
    let opening = line_with(&mut lines, "#barn: ⏰ Opening", &mut seen).await;
    let thread = line_with(&mut lines, "#barn › 🧵 Q&A · Opening", &mut seen).await;
    // A question to the talk whose thread is open, then the chair's list. The thread is
    // printed as it is posted, a moment before confbot records it: a question typed in that
    // moment is told no thread is open yet (as in Discord), and is asked again, as a person
    // would, once that answer is read.
    let mut asked = String::new();
    for _ in 0..20 {
        stdin
            .write_all(b"/ask question:\"Will the **slides** be online? @everyone\"\n")
            .await
            .expect("write");
        let answer = line_where(
            &mut lines,
            "the answer to /ask",
            |line| line.starts_with("Your question to") || line.starts_with("No talk takes"),
            &mut seen,
        )
        .await;
        if !answer.starts_with("No talk takes questions now") {
            asked = answer;
            break;
        }
    }
    stdin.write_all(b"/questions\n").await.expect("write");
    let card = seen_or_next(
        &mut lines,
        "🧵 Q&A · Opening: Welcome to Demo Conf: ❓",
        &mut seen,
    )
    .await;
    let listed = seen_or_next(&mut lines, "1. ▲ 0 · ", &mut seen).await;
    let edited = seen_or_next(&mut lines, "#now-next: (edited)", &mut seen).await;
    let dm = line_with(&mut lines, "DM to you: ⏰ Python 103", &mut seen).await;
    stdin.write_all(b"/next room:Barn\n").await.expect("write");
    let next = line_with(&mut lines, "starts in", &mut seen).await;
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(30), demo.wait())
        .await
        .expect("the demo ends when its input does")
        .expect("status");
    let mut stderr = String::new();
    if let Some(mut pipe) = demo.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = pipe.read_to_string(&mut stderr).await;
    }

    assert!(
        intro.contains("Sat 25 Apr 09:10:00 PDT and runs 600× real time"),
        "{intro}"
    );
    // At 600x a tenth of a real second is a demo minute: on a loaded machine a reminder may
    // be printed a few demo minutes late (saying so), but never early and never once its talk
    // has begun.
    let (printed, minutes_left) = when(&opening);
    assert!(
        ("09:20:00"..="09:29:59").contains(&printed.as_str())
            && opening.contains("Opening: Welcome to Demo Conf — Organising Team — starting in")
            && (1..=10).contains(&minutes_left)
            && opening.ends_with("[Remind me]"),
        "{opening}"
    );
    assert!(
        thread.contains("🎤 Opening: Welcome to Demo Conf With Organising Team Ends 10:00"),
        "the opening's thread starts on its reminder with its card: {thread}"
    );
    assert!(
        asked.starts_with("Your question to Opening: Welcome to Demo Conf is posted in "),
        "{asked}"
    );
    assert!(
        card.ends_with(
            "❓ Will the **slides** be online? @everyone asked by <@1> · ▲ 0 votes [Upvote]"
        ),
        "the question's card in the opening's thread, escaped for Discord: {card}"
    );
    assert!(
        listed.contains("1. ▲ 0 · Will the **slides** be online? @everyone — <@1>"),
        "{listed}"
    );
    assert!(
        board.contains("Barn · Now: nothing on · Next: Opening: Welcome to Demo Conf in "),
        "{board}"
    );
    // At the opening's start (09:30), a few demo seconds late at most on a loaded machine.
    let (printed, _) = when(&edited);
    assert!(
        ("09:30:00"..="09:31:59").contains(&printed.as_str())
            && edited.contains("#now-next: (edited) 📺 Now and next Barn · Now: Opening"),
        "the board changes when the opening starts: {edited}"
    );
    let (printed, minutes_left) = when(&dm);
    assert!(
        ("10:05:00"..="10:14:59").contains(&printed.as_str()) && (1..=10).contains(&minutes_left),
        "{dm}"
    );
    assert!(
        next.starts_with("Python 103: Memory Model & Best Practices"),
        "{next}"
    );
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Stopped the private PostgreSQL"),
        "{stderr}"
    );
}

/// A printed reminder's `[HH:MM:SS]` and the N of its "starting in N minutes" (0 if none).
fn when(line: &str) -> (String, u32) {
    let printed = line
        .strip_prefix('[')
        .and_then(|rest| rest.get(..8))
        .unwrap_or_default()
        .to_owned();
    let minutes = line
        .split("starting in ")
        .nth(1)
        .and_then(|rest| rest.split_once(" minute"))
        .and_then(|(number, _)| number.parse().ok())
        .unwrap_or(0);
    (printed, minutes)
}

/// A demo started as a person starts it in a terminal: in a process group of its own, its
/// input held open (nothing typed), its stderr read as it comes.
struct Running {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    stderr: tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    log: Vec<String>,
    /// The server directory the demo said it started in.
    dir: std::path::PathBuf,
}

impl Running {
    async fn start(command: &mut tokio::process::Command) -> Running {
        let mut child = command
            .args(["demo", "--fast", "60"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("confbot demo starts");
        let mut running = Running {
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().expect("stdout")).lines(),
            stderr: BufReader::new(child.stderr.take().expect("stderr")).lines(),
            child,
            log: Vec::new(),
            dir: std::path::PathBuf::new(),
        };
        let started = running
            .log_line_with("Started a private throwaway PostgreSQL in ")
            .await;
        let dir = started
            .split(" in ")
            .nth(1)
            .and_then(|rest| rest.split(" (removed on exit)").next())
            .expect("the line names the directory");
        running.dir = dir.into();
        let mut seen = Vec::new();
        line_with(&mut running.stdout, "The demo clock now reads", &mut seen).await;
        running
    }

    async fn log_line_with(&mut self, needle: &str) -> String {
        line_with(&mut self.stderr, needle, &mut self.log).await
    }

    /// Sends `signal` to the demo's whole process group, as a terminal does for Ctrl-C.
    fn signal_group(&self, signal: libc::c_int) {
        let pid = self.child.id().expect("running") as libc::pid_t;
        // SAFETY: signals the process group this test started (the demo is its leader).
        assert_eq!(unsafe { libc::kill(-pid, signal) }, 0);
    }

    /// The exit code and the rest of the log, once the demo ended by itself.
    async fn ended(mut self) -> (Option<i32>, String, std::path::PathBuf) {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the demo ends")
            .expect("status");
        while let Ok(Some(line)) = self.stderr.next_line().await {
            self.log.push(line);
        }
        drop(self.stdin);
        (status.code(), self.log.join("\n"), self.dir)
    }
}

async fn a_signal_ends_the_demo_at_once_and_removes_its_server(signal: libc::c_int) {
    let running = Running::start(&mut confbot()).await;
    assert!(running.dir.is_dir(), "{}", running.dir.display());

    running.signal_group(signal);
    let (code, log, dir) = running.ended().await;

    assert_eq!(code, Some(0), "{log}");
    assert!(!dir.exists(), "{} is left behind", dir.display());
    assert!(log.contains("Stopped the private PostgreSQL"), "{log}");
    assert!(
        !log.contains("WARN") && !log.contains("ERROR") && !log.contains("error"),
        "{log}"
    );
}

#[tokio::test]
async fn ctrl_c_ends_the_demo_at_once_without_waiting_for_enter() {
    a_signal_ends_the_demo_at_once_and_removes_its_server(libc::SIGINT).await;
}

#[tokio::test]
async fn sigterm_ends_the_demo_and_removes_its_server() {
    a_signal_ends_the_demo_at_once_and_removes_its_server(libc::SIGTERM).await;
}

#[tokio::test]
async fn a_closed_terminal_ends_the_demo_and_removes_its_server() {
    a_signal_ends_the_demo_at_once_and_removes_its_server(libc::SIGHUP).await;
}

#[tokio::test]
async fn the_demo_never_writes_to_a_configured_database() {
    let db = crate::harness::TestDb::new().await;

    let running = Running::start(confbot().env("DATABASE_URL", &db.url)).await;
    running.signal_group(libc::SIGTERM);
    let (code, log, _) = running.ended().await;

    let conferences: i64 = sqlx::query_scalar("SELECT count(*) FROM conferences")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(conferences, 0, "the demo wrote into DATABASE_URL");
    assert!(
        log.contains("the configured database is left alone"),
        "{log}"
    );
}

#[tokio::test]
async fn a_demo_removes_the_files_of_one_that_was_killed() {
    let mut killed = Running::start(&mut confbot()).await;
    let postmaster = std::fs::read_to_string(killed.dir.join("data/postmaster.pid"))
        .expect("the server runs")
        .lines()
        .next()
        .and_then(|pid| pid.trim().parse::<u32>().ok())
        .expect("a pid");
    killed.child.kill().await.expect("SIGKILL");
    let orphan = killed.dir.clone();
    // Looked at while its server may still run: once the server is gone, any demo starting
    // meanwhile (other tests start some) may rightly remove it first.
    let left_behind = orphan.is_dir();
    // The server follows its killed parent (parent-death signal); wait for that, as a
    // person would start the next demo some time later.
    let gone = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{postmaster}/stat"));
            if stat.map_or(true, |s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('Z'))
            }) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    gone.expect("the killed demo's server exits");
    assert!(left_behind, "SIGKILL leaves the directory behind");

    let next = Running::start(&mut confbot()).await;
    let orphan_left = orphan.exists();
    next.signal_group(libc::SIGTERM);
    let (code, log, _) = next.ended().await;

    assert!(!orphan_left, "{} was not removed", orphan.display());
    assert_eq!(code, Some(0), "{log}");
}
