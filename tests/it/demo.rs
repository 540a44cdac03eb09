//! `confbot demo` as a newcomer runs it: nothing configured, the sample conference's
//! reminders arriving on a fast demo clock while commands are answered at its time.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::process::confbot;

/// Waits for a line of the demo's output that contains `needle`; returns it.
async fn line_with(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    needle: &str,
    seen: &mut Vec<String>,
) -> String {
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("stdout readable") {
            seen.push(line.clone());
            if line.contains(needle) {
                return Some(line);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(line)) => line,
        _ => panic!(
            "no line with {needle:?}; output so far:\n{}",
            seen.join("\n")
        ),
    }
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
    let opening = line_with(&mut lines, "#barn: ⏰ Opening", &mut seen).await;
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
    assert!(
        opening.starts_with("[09:20:")
            && opening.contains(
                "Opening: Welcome to Demo Conf — Organising Team — starting in 10 minutes in Barn"
            )
            && opening.ends_with("[Remind me]"),
        "{opening}"
    );
    assert!(
        dm.starts_with("[10:05:") && dm.contains("starting in 10 minutes in Barn"),
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
