//! The built `confbot run` delivers reminders as an operator runs it: one process with the
//! gateway and the scheduler, the channel plan from the environment, Discord reached
//! through `discord.proxy_url`, stopped with SIGTERM.

use chrono::{DurationRound, TimeDelta, Utc};

use super::{ics, ids, import, subscribe, Talk, BARN, SLUG, WAIT};
use crate::discord::bot_env;
use crate::harness::TestDb;
use crate::process::{confbot, Process};

#[tokio::test]
async fn confbot_run_posts_a_due_reminder_in_the_rooms_channel_and_by_dm_then_stops_on_sigterm() {
    let db = TestDb::new().await;
    // Due three seconds from now (whole seconds, as Discord timestamps are).
    let now = Utc::now()
        .duration_trunc(TimeDelta::seconds(1))
        .expect("trunc");
    let start = now + TimeDelta::minutes(10) + TimeDelta::seconds(3);
    import(
        &db.pool,
        &ics(&[Talk {
            uid: "live",
            title: "Live From The Binary",
            room: "Barn",
            start,
            cancelled: false,
        }]),
    )
    .await;
    let (conference, talk) = ids(&db.pool, "live").await;
    subscribe(&db.pool, conference, 42, talk).await;
    let standin = super::standin().await;
    let bot = Process::spawn(
        confbot().arg("run").envs(bot_env(&db, &standin, SLUG)).env(
            "CONFBOT__REMINDERS__CONFERENCES",
            format!("[{{conference = \"{SLUG}\", rooms = {{ Barn = {BARN} }} }}]"),
        ),
        WAIT,
    );

    let posted = standin.messages().wait_for_created(2, WAIT).await;
    let exit = bot.stop().await;
    let stderr = exit.log();

    let expected = format!(
        "⏰ **Live From The Binary** — starting in 10 minutes in Barn (<t:{}:R>)",
        start.timestamp()
    );
    let channel = posted
        .iter()
        .find(|p| p.channel == BARN)
        .expect("Barn post");
    let dm = posted.iter().find(|p| p.dm_user == Some(42)).expect("DM");
    assert_eq!(channel.content, expected);
    assert_eq!(dm.content, expected);
    assert_eq!(exit.code, Some(0), "clean exit; log:\n{stderr}");
    assert!(
        !stderr.contains("stand-in-token"),
        "the token is never logged"
    );
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(sent, 2, "both recorded as sent before exit; log:\n{stderr}");
}
