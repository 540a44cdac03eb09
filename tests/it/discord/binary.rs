//! The built `confbot run`, started as an operator would, against the stand-in.

use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use tokio::io::AsyncReadExt;

use super::payloads::{self, APP_ID, GUILD_ID};
use super::standin::{StandIn, WAIT};
use super::{data, import_ics, live_schedule, ORCHESTRATOR};
use crate::harness::{confbot_bin, TestDb};

/// The binary with none of the tester's own confbot settings in its environment.
pub fn confbot() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(confbot_bin());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CONFBOT") || key == "DATABASE_URL" || key.starts_with("DISCORD_") {
            command.env_remove(key);
        }
    }
    command
}

#[tokio::test]
async fn confbot_run_registers_answers_help_and_exits_cleanly_on_sigterm() {
    let db = TestDb::new().await;
    import_ics(&db, &live_schedule(Utc::now(), ORCHESTRATOR)).await;
    let standin = StandIn::start().await;
    let mut bot = confbot()
        .arg("run")
        .env("DISCORD_TOKEN", "stand-in-token")
        .env("DATABASE_URL", &db.url)
        .env("CONFBOT__DISCORD__PROXY_URL", standin.url())
        .env("CONFBOT__DISCORD__GUILD_IDS", format!("[{GUILD_ID}]"))
        .env("CONFBOT__DEFAULTS__CONFERENCE", super::CONFERENCE)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("confbot starts");
    // Read the log as it comes, so a full pipe never blocks the bot.
    let mut pipe = bot.stderr.take().expect("stderr piped");
    let log = tokio::spawn(async move {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text).await;
        text
    });

    let path = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
    let registration = standin
        .wait_for("registration", |r| r.is("PUT", &path))
        .await;
    let token = "binary-help";
    standin
        .send_interaction(payloads::slash(77, token, "help", &[]))
        .await;
    let help = standin
        .wait_for("the /help answer", |r| {
            r.path.ends_with("/binary-help/callback")
        })
        .await;
    let pid = bot.id().expect("running") as libc::pid_t;
    // SAFETY: sends a signal to the child this test started and still owns.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = tokio::time::timeout(WAIT, bot.wait())
        .await
        .expect("confbot exits after SIGTERM")
        .expect("exit status");
    let stderr = tokio::time::timeout(Duration::from_secs(5), log)
        .await
        .expect("the log ends with the process")
        .expect("log reader");

    assert_eq!(registration.body.as_array().map(Vec::len), Some(16));
    assert_eq!(help.body["type"], 4);
    let help = data(&help)["content"].as_str().unwrap_or_default();
    assert!(
        help.contains("`/talk query`") && help.contains("Live Conf"),
        "{help}"
    );
    assert_eq!(status.code(), Some(0), "clean exit; log:\n{stderr}");
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
    assert!(
        !stderr.contains("stand-in-token"),
        "the token is never logged"
    );
}

#[tokio::test]
async fn confbot_run_without_a_token_says_how_to_set_one() {
    let output = confbot().arg("run").output().await.expect("confbot runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("error: no Discord bot token: set DISCORD_TOKEN"),
        "{stderr}"
    );
}
