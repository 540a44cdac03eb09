//! The built `confbot run`, started as an operator would, against the stand-in.

use chrono::Utc;

use super::payloads::{self, APP_ID, GUILD_ID};
use super::standin::{StandIn, WAIT};
use super::{bot_env, data, import_ics, live_schedule, CONFERENCE, ORCHESTRATOR};
use crate::harness::TestDb;
use crate::process::{confbot, Process};

#[tokio::test]
async fn confbot_run_registers_answers_help_and_exits_cleanly_on_sigterm() {
    let db = TestDb::new().await;
    import_ics(&db, &live_schedule(Utc::now(), ORCHESTRATOR)).await;
    let standin = StandIn::start().await;
    let bot = Process::spawn(
        confbot()
            .arg("run")
            .envs(bot_env(&db, &standin, CONFERENCE))
            .env("CONFBOT__DISCORD__GUILD_IDS", format!("[{GUILD_ID}]")),
        WAIT,
    );

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
    let exit = bot.stop().await;
    let stderr = exit.log();

    assert_eq!(registration.body.as_array().map(Vec::len), Some(19));
    assert_eq!(help.body["type"], 4);
    let help = data(&help)["content"].as_str().unwrap_or_default();
    assert!(
        help.contains("`/talk query`") && help.contains("Live Conf"),
        "{help}"
    );
    assert_eq!(exit.code, Some(0), "clean exit; log:\n{stderr}");
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
