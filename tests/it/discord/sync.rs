//! `/sync` end to end: an organiser re-imports the server's schedule source; the organiser
//! log gets the diff, the subscribers of a moved and a cancelled talk get their DMs (from
//! the real scheduler), and `/status overview` shows the sync and what comes next.

use std::sync::{Arc, Mutex};

use confbot::domain::model::TalkId;
use confbot::jobs::Clock;
use serde_json::{json, Value};

use super::payloads::{self, GUILD_ID, USER_ID};
use super::subscriptions::{ask, conference_id, private_text};
use super::{live_schedule, Bot, ALLOW_PRIVATE_ADDRESSES, CONFERENCE, ORCHESTRATOR};
use crate::reminders::{subscribe, Scheduler};
use crate::served::{self, Served};

pub(super) const MANAGE_GUILD: u64 = 1 << 5;
pub(super) const LOG_CHANNEL: u64 = 4_000_000_000_000_777;
const FLASK: &str = "Flask for Fun and Profit";
const LARGE_DATA: &str = "What to do when your data is large, but not big";

pub(super) fn organiser(
    command: &'static str,
    subcommand: Option<&'static str>,
) -> impl FnOnce(u64, &str) -> Value {
    move |id, token| {
        let options = subcommand
            .map(|name| vec![json!({"name": name, "type": 1, "options": []})])
            .unwrap_or_default();
        let interaction = payloads::slash_with(id, token, command, options);
        payloads::as_member_of(interaction, GUILD_ID, USER_ID, MANAGE_GUILD, &[])
    }
}

/// Serves `body` at any path; the test may change it (`served.lock().unwrap().body`).
pub(super) async fn schedule_server(body: &str) -> (Arc<Mutex<Served>>, String) {
    let served = Served::ok(body);
    let url = served::start(&served, "livecon.ics").await;
    (served, url)
}

/// The test guild follows [`CONFERENCE`] from `url`, hourly, with an organiser log.
pub(super) async fn follow_source(bot: &Bot, url: &str) {
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, source_url, refresh_minutes,
                                     organiser_log_channel, updated_by)
         VALUES ($1, $2, $3, 60, $4, 1)",
    )
    .bind(i64::try_from(GUILD_ID).expect("fits"))
    .bind(CONFERENCE)
    .bind(url)
    .bind(i64::try_from(LOG_CHANNEL).expect("fits"))
    .execute(&bot.db.pool)
    .await
    .expect("settings");
}

async fn talk_id(bot: &Bot, title: &str) -> TalkId {
    TalkId(
        sqlx::query_scalar("SELECT id FROM talks WHERE title = $1")
            .bind(title)
            .fetch_one(&bot.db.pool)
            .await
            .expect("talk"),
    )
}

#[tokio::test]
async fn sync_posts_the_diff_to_the_organiser_log_and_the_moved_and_cancelled_talks_subscribers_hear_of_it(
) {
    let bot = Bot::start_with_title(ORCHESTRATOR, &[ALLOW_PRIVATE_ADDRESSES]).await;
    bot.standin.guilds().add_text(&[LOG_CHANNEL]);
    let original = live_schedule(bot.now, ORCHESTRATOR);
    // Flask moves from the Loft to the Barn; the large-data talk disappears (cancelled).
    let flask = original.find("LIVE02@").expect("LIVE02");
    let loft = flask + original[flask..].find("LOCATION:Loft").expect("Loft");
    let mut changed = original.clone();
    changed.replace_range(loft..loft + "LOCATION:Loft".len(), "LOCATION:Barn");
    let start = changed
        .find("BEGIN:VEVENT\r\nUID:pretalx-livecon-LIVE03")
        .expect("LIVE03");
    let end =
        start + changed[start..].find("END:VEVENT\r\n").expect("end") + "END:VEVENT\r\n".len();
    changed.replace_range(start..end, "");
    let (_served, url) = schedule_server(&changed).await;
    let conference = conference_id(&bot).await;
    follow_source(&bot, &url).await;
    for title in [FLASK, LARGE_DATA] {
        subscribe(&bot.db.pool, conference, 42, talk_id(&bot, title).await).await;
    }
    let scheduler = Scheduler::start(&bot.db.url, &bot.standin, Clock::wall(), "w", |_| {}).await;

    let answer = private_text(&ask(&bot, organiser("sync", None)).await);
    scheduler.wait_for("the two notices", |c| c.sent >= 2).await;
    let overview = private_text(&ask(&bot, organiser("status", Some("overview"))).await);
    scheduler.stop().await;

    assert_eq!(answer, "Synced: 1 moved, 1 cancelled. The organiser log has the details; subscribers hear of moves and cancellations.");
    let posted = bot.standin.messages().posted();
    let log = posted
        .iter()
        .find(|p| p.channel == LOG_CHANNEL)
        .expect("the organiser log post");
    assert!(
        log.content.starts_with(
            "📅 **Live Conf** schedule sync: 1 moved, 1 cancelled (from <http://127.0.0.1:"
        ),
        "{}",
        log.content
    );
    assert!(
        log.content
            .contains(&format!("• Moved: **{FLASK}** now <t:")),
        "{}",
        log.content
    );
    assert!(log.content.contains("in Barn (was <t:"), "{}", log.content);
    assert_eq!(log.body["allowed_mentions"]["parse"], json!([]));
    let dms: Vec<&str> = posted
        .iter()
        .filter(|p| p.dm_user == Some(42))
        .map(|p| p.content.as_str())
        .collect();
    assert!(
        dms.iter()
            .any(|d| d.starts_with(&format!("Moved: **{FLASK}** now <t:"))
                && d.contains("in Barn (was ")),
        "{dms:?}"
    );
    assert!(
        dms.iter().any(
            |d| d.starts_with("Cancelled: **What to do when your data is large, but not big**")
        ),
        "{dms:?}"
    );
    assert!(overview.contains("**Live Conf** (`livecon`)"), "{overview}");
    assert!(
        overview.contains(&format!("**Schedule source:** <{url}> every 60 min")),
        "{overview}"
    );
    assert!(
        overview.contains("Last sync <t:") && overview.contains(": 1 moved, 1 cancelled"),
        "{overview}"
    );
    assert!(
        overview.contains("**Next reminders:**\n• <t:"),
        "{overview}"
    );
    assert!(
        overview.contains(&format!("DM <@42>: ⏰ {FLASK}")),
        "{overview}"
    );
    let audited: (String, Value) =
        sqlx::query_as("SELECT action, after FROM audit_log WHERE action = 'sync'")
            .fetch_one(&bot.db.pool)
            .await
            .expect("the sync is audited");
    assert_eq!(audited.1["result"], "1 moved, 1 cancelled");
}

#[tokio::test]
async fn sync_and_the_overview_are_for_organisers_only() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[LOG_CHANNEL]);

    let sync = ask(&bot, |id, token| {
        let interaction = payloads::slash_with(id, token, "sync", vec![]);
        payloads::as_member_of(interaction, GUILD_ID, USER_ID, 0, &[])
    })
    .await;
    let without_source = private_text(&ask(&bot, organiser("sync", None)).await);

    assert!(
        private_text(&sync).contains("organiser"),
        "{}",
        private_text(&sync)
    );
    assert!(
        without_source.contains("no schedule source"),
        "{without_source}"
    );
}
