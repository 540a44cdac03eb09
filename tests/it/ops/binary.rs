//! The built `confbot run` with `[http] listen` and JSON logs, as an operator runs it.

use chrono::{DurationRound, TimeDelta, Utc};
use serde_json::Value;

use crate::discord::bot_env;
use crate::discord::guilds::Channel;
use crate::discord::payloads::{self, APP_ID, GUILD_ID, USER_ID};
use crate::harness::TestDb;
use crate::process::{confbot, Process};
use crate::reminders::{ics, ids, import, subscribe, Talk, BARN, SLUG, WAIT};

use super::{get, scrape_until, SUBSCRIBER};

#[tokio::test]
async fn confbot_run_serves_health_and_metrics_and_logs_json_without_secrets_or_bodies() {
    let db = TestDb::new().await;
    let now = Utc::now()
        .duration_trunc(TimeDelta::seconds(1))
        .expect("trunc");
    let start = now + TimeDelta::minutes(10) + TimeDelta::seconds(3);
    let talk = Talk {
        uid: "bin-ops",
        title: "Secretive Talk",
        room: "Barn",
        start,
        cancelled: false,
    };
    import(&db.pool, &ics(&[talk])).await;
    let (conference, talk) = ids(&db.pool, "bin-ops").await;
    subscribe(&db.pool, conference, SUBSCRIBER, talk).await;
    let standin = crate::reminders::standin().await;
    let mut bot = Process::spawn_json(
        confbot()
            .arg("run")
            .envs(bot_env(&db, &standin, SLUG))
            .env("CONFBOT__DISCORD__GUILD_IDS", format!("[{GUILD_ID}]"))
            .env(
                "CONFBOT__REMINDERS__CONFERENCES",
                format!("[{{conference = \"{SLUG}\", rooms = {{ Barn = {BARN} }} }}]"),
            )
            .env("CONFBOT__WEB__LISTEN", "127.0.0.1:0"),
        WAIT,
    );
    // The endpoint's port is in the first lines.
    let addr = bot.bound("web surface listening (web.listen)").await;

    let path = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
    standin
        .wait_for("registration", |r| r.is("PUT", &path))
        .await;
    standin
        .send_interaction(payloads::slash(31, "ops-bin-help", "help", &[]))
        .await;
    standin
        .wait_for("the /help answer", |r| {
            r.path.ends_with("/ops-bin-help/callback")
        })
        .await;
    standin.messages().wait_for_created(2, WAIT).await;
    let page = scrape_until(addr, "/help and both reminders counted", |page| {
        page.value("confbot_commands_total{command=\"help\"}") >= 1.0
            && page.value("confbot_deliveries_total{kind=\"reminder\",outcome=\"sent\"}") >= 2.0
    })
    .await;
    let (status, body) = get(addr, "/healthz").await;
    let check = confbot()
        .args(["healthcheck", "--addr", &addr.to_string()])
        .output()
        .await
        .expect("confbot healthcheck runs");
    let exit = bot.stop().await;
    let log_text = exit.log();

    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    assert_eq!(String::from_utf8_lossy(&check.stdout), "ok\n");
    assert_eq!(page.value("confbot_commands_total{command=\"help\"}"), 1.0);
    assert_eq!(
        page.value("confbot_deliveries_total{kind=\"reminder\",outcome=\"sent\"}"),
        2.0
    );
    // The subscriber's DM channel, opened once (ahead, or at the send).
    assert_eq!(page.value("confbot_dm_channels_opened_total"), 1.0);
    assert_eq!(page.value("confbot_discord_invalid_requests_total"), 0.0);
    assert_eq!(page.value("confbot_discord_invalid_requests_window"), 0.0);
    assert_eq!(exit.code, Some(0), "clean exit; log:\n{log_text}");
    for line in &exit.lines {
        let entry: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            entry["level"].is_string() && entry["fields"].is_object(),
            "{line}"
        );
    }
    assert!(log_text.contains("SIGTERM received"), "{log_text}");
    assert!(
        !log_text.contains("stand-in-token"),
        "the token is never logged"
    );
    assert!(
        !log_text.contains(&db.url),
        "the database URL is never logged"
    );
    // Message bodies stay out of the log: neither the reminder's text nor /help's answer.
    assert!(!log_text.contains("Secretive Talk"), "{log_text}");
    assert!(!log_text.contains("`/talk query`"), "{log_text}");
}

#[tokio::test]
async fn a_refused_channel_check_counts_as_an_invalid_request() {
    let db = TestDb::new().await;
    let start = Utc::now() + TimeDelta::days(1);
    import(
        &db.pool,
        &ics(&[Talk::new("bin-hidden", "Later", "Barn", start)]),
    )
    .await;
    let standin = crate::reminders::standin().await;
    let hidden = 18_000_000_000_000_000_901;
    standin.guilds().set(hidden, Channel::Hidden);
    let mut bot = Process::spawn_json(
        confbot()
            .arg("run")
            .envs(bot_env(&db, &standin, SLUG))
            .env("CONFBOT__DISCORD__GUILD_IDS", format!("[{GUILD_ID}]"))
            // The old name of web.listen still works, with a warning.
            .env("CONFBOT__HTTP__LISTEN", "127.0.0.1:0"),
        WAIT,
    );
    let addr = bot.bound("web surface listening (http.listen)").await;
    bot.logged("http.listen is an old name of web.listen").await;

    let options = serde_json::json!({"name": "channel", "type": 1, "options": [
        payloads::option("kind", 3, serde_json::json!("organiser-log")),
        payloads::option("channel", 7, serde_json::json!(hidden.to_string())),
    ]});
    let interaction = payloads::slash_with(41, "ops-bin-hidden", "setup", vec![options]);
    // Manage Server: an organiser.
    let interaction = payloads::as_member_of(interaction, GUILD_ID, USER_ID, 1 << 5, &[]);
    let interaction = payloads::resolved_channel(interaction, hidden, "hidden");
    standin.send_interaction(interaction).await;
    let answer = standin
        .wait_for("the /setup answer", |r| {
            r.path.ends_with("/ops-bin-hidden/callback")
        })
        .await;
    let page = scrape_until(addr, "the refused channel check counted", |page| {
        page.value("confbot_discord_invalid_requests_total") >= 1.0
    })
    .await;
    let exit = bot.stop().await;

    let content = answer.body["data"]["content"].as_str().unwrap_or_default();
    assert!(content.contains("I cannot see it"), "{content}");
    assert_eq!(page.value("confbot_discord_invalid_requests_total"), 1.0);
    assert_eq!(page.value("confbot_discord_invalid_requests_window"), 1.0);
    assert_eq!(exit.code, Some(0), "{}", exit.log());
}
