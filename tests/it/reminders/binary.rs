//! The built `confbot run` delivers reminders as an operator runs it: one process with the
//! gateway and the scheduler, the channel plan from the environment, Discord reached
//! through `discord.proxy_url`, stopped with SIGTERM.

use chrono::{DurationRound, TimeDelta, Utc};

use super::{ics, ids, import, subscribe, Talk, BARN, SLUG, WAIT};
use crate::discord::bot_env;
use crate::harness::TestDb;
use crate::process::{confbot, Process};

/// `confbot run` on `db` through `standin`, with Barn's reminders in [`BARN`].
fn run_with_barn(db: &TestDb, standin: &crate::discord::standin::StandIn) -> Process {
    Process::spawn(
        confbot().arg("run").envs(bot_env(db, standin, SLUG)).env(
            "CONFBOT__REMINDERS__CONFERENCES",
            format!("[{{conference = \"{SLUG}\", rooms = {{ Barn = {BARN} }} }}]"),
        ),
        WAIT,
    )
}

/// Now, in whole seconds (as Discord timestamps are).
fn whole_second() -> chrono::DateTime<Utc> {
    Utc::now()
        .duration_trunc(TimeDelta::seconds(1))
        .expect("trunc")
}

#[tokio::test]
async fn confbot_run_posts_a_due_reminder_in_the_rooms_channel_and_by_dm_then_stops_on_sigterm() {
    let db = TestDb::new().await;
    // Due three seconds from now.
    let now = whole_second();
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
    let bot = run_with_barn(&db, &standin);

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

#[tokio::test]
async fn confbot_run_keeps_a_board_starts_a_thread_and_posts_schedule_updates() {
    const BOARD: u64 = 7_300_000_000_000_001;
    const UPDATES: u64 = 7_300_000_000_000_002;
    let db = TestDb::new().await;
    let now = whole_second();
    let start = now + TimeDelta::minutes(10) + TimeDelta::seconds(3);
    let talk = |title| Talk {
        uid: "live",
        title,
        room: "Barn",
        start,
        cancelled: false,
    };
    import(&db.pool, &ics(&[talk("Live From The Binary")])).await;
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, board_channel, updates_channel,
                                     threads, updated_by)
         VALUES (5, $1, $2, $3, true, 1)",
    )
    .bind(SLUG)
    .bind(i64::try_from(BOARD).expect("small"))
    .bind(i64::try_from(UPDATES).expect("small"))
    .execute(&db.pool)
    .await
    .expect("settings");
    let standin = super::standin().await;
    standin.guilds().add_text(&[BOARD, UPDATES]);
    let bot = run_with_barn(&db, &standin);
    let messages = standin.messages();

    // The reminder, the board and the thread's card.
    let first = messages.wait_for_created(3, WAIT).await;
    let board = first.iter().find(|p| p.channel == BOARD).expect("board");
    // A moderator deletes the board; an import renames the talk and adds one.
    messages.delete_message(board.id);
    let extra = Talk {
        uid: "extra",
        title: "Extra Session",
        room: "Loft",
        start: now + TimeDelta::hours(2),
        cancelled: false,
    };
    import(&db.pool, &ics(&[talk("Renamed From The Binary"), extra])).await;
    // Barn's panel again, the new Loft's panel, and the update.
    let all = messages.wait_for_created(6, WAIT).await;
    let exit = bot.stop().await;
    let stderr = exit.log();

    assert_eq!(exit.code, Some(0), "clean exit; log:\n{stderr}");
    let reminder = all.iter().find(|p| p.channel == BARN).expect("reminder");
    let threads = messages.threads();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].id, reminder.id, "the thread is on the reminder");
    assert_eq!(threads[0].name, "Q&A · Live From The Binary");
    let card = all
        .iter()
        .find(|p| p.channel == reminder.id)
        .expect("the card");
    assert!(
        card.content.starts_with("🎤 **Live From The Binary**"),
        "{}",
        card.content
    );
    let barn: Vec<&str> = all
        .iter()
        .filter(|p| p.channel == BOARD && p.content.starts_with("📍 **Barn**"))
        .map(|p| p.content.as_str())
        .collect();
    assert_eq!(barn.len(), 2, "re-created after the deletion: {barn:?}");
    assert!(
        barn[1].contains("Next: **Renamed From The Binary**"),
        "{barn:?}"
    );
    assert!(
        all.iter()
            .any(|p| p.channel == BOARD && p.content.starts_with("📍 **Loft**")),
        "a panel for the room that has a talk now"
    );
    let update = all.iter().find(|p| p.channel == UPDATES).expect("update");
    assert_eq!(
        update.content,
        format!(
            "📅 **Schedule update**\nNew: **Extra Session** <t:{}:F> in Loft",
            (now + TimeDelta::hours(2)).timestamp()
        )
    );
}

/// `(channel, custom id)` as sent by the member `user` of the stand-in's guild: an
/// interaction typed (or clicked) in `channel`.
fn in_channel(mut payload: serde_json::Value, channel: u64, user: u64) -> serde_json::Value {
    payload["channel_id"] = serde_json::json!(channel.to_string());
    crate::discord::payloads::as_member_of(
        payload,
        crate::discord::payloads::GUILD_ID,
        user,
        0,
        &[],
    )
}

#[tokio::test]
async fn confbot_run_takes_a_question_in_a_talks_thread_and_counts_a_vote_on_its_card() {
    use crate::discord::payloads;
    let db = TestDb::new().await;
    let now = whole_second();
    let start = now + TimeDelta::minutes(10) + TimeDelta::seconds(2);
    let talk = Talk {
        uid: "live",
        title: "Live From The Binary",
        room: "Barn",
        start,
        cancelled: false,
    };
    import(&db.pool, &ics(&[talk])).await;
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, threads, updated_by)
         VALUES ($1, $2, true, 1)",
    )
    .bind(i64::try_from(payloads::GUILD_ID).expect("small"))
    .bind(SLUG)
    .execute(&db.pool)
    .await
    .expect("settings");
    let standin = super::standin().await;
    let bot = run_with_barn(&db, &standin);
    let messages = standin.messages();
    // The reminder and its thread's card.
    messages.wait_for_created(2, WAIT).await;
    let thread = messages.threads()[0].id;

    let ask = |id: u64, token: &str, text: &str| {
        let options = vec![payloads::option("question", 3, serde_json::json!(text))];
        in_channel(payloads::slash_with(id, token, "ask", options), thread, 61)
    };
    standin
        .send_interaction(ask(801, "binary-ask", "Does it **scale**?"))
        .await;
    standin
        .send_interaction(ask(802, "binary-long", &"x".repeat(501)))
        .await;
    let asked = callback(&standin, "binary-ask").await;
    let long = callback(&standin, "binary-long").await;
    let posted = messages.wait_for_created(3, WAIT).await;
    let card = posted
        .iter()
        .find(|p| p.content.starts_with("❓"))
        .expect("the card")
        .clone();
    let question = card.body["components"][0]["components"][0]["custom_id"]
        .as_str()
        .expect("the Upvote button")
        .to_owned();
    let click = payloads::button(803, "binary-vote", &question);
    standin
        .send_interaction(in_channel(click, thread, 62))
        .await;
    let voted = callback(&standin, "binary-vote").await;
    let edits = messages.wait_for_edits(1, WAIT).await;
    let exit = bot.stop().await;
    let stderr = exit.log();

    assert_eq!(exit.code, Some(0), "clean exit; log:\n{stderr}");
    let text = |r: &crate::discord::standin::Recorded| {
        r.body["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        text(&asked).starts_with("Your question to **Live From The Binary** is posted in "),
        "{}",
        text(&asked)
    );
    assert!(text(&long).contains("501 characters"), "{}", text(&long));
    assert_eq!(card.channel, thread);
    assert!(
        card.content
            .starts_with("❓ Does it \\*\\*scale\\*\\*?\n-# asked by <@61> · ▲ 0 votes"),
        "{}",
        card.content
    );
    assert_eq!(
        card.body["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    assert_eq!(
        text(&voted),
        "Upvoted: the question has 1 vote now. Click again to take your vote back."
    );
    assert_eq!(edits[0].id, card.id);
    assert!(
        edits[0].content.contains("▲ 1 vote"),
        "{}",
        edits[0].content
    );
    let cards = messages
        .posted()
        .iter()
        .filter(|p| p.content.starts_with("❓"))
        .count();
    assert_eq!(cards, 1, "one question, one card");
}

async fn callback(
    standin: &crate::discord::standin::StandIn,
    token: &str,
) -> crate::discord::standin::Recorded {
    let suffix = format!("/{token}/callback");
    standin
        .wait_for("an interaction's answer", |r| {
            r.method == "POST" && r.path.ends_with(&suffix)
        })
        .await
}

#[tokio::test]
async fn confbot_run_keeps_a_talks_discord_event_cancels_it_and_logs_a_refusal() {
    use crate::discord::guilds::{CANCELED, MANAGE_EVENTS};
    use crate::discord::payloads::GUILD_ID;
    let db = TestDb::new().await;
    let now = whole_second();
    let talk = |uid, title, hours, cancelled| Talk {
        uid,
        title,
        room: "Barn",
        start: now + TimeDelta::hours(hours),
        cancelled,
    };
    import(&db.pool, &ics(&[talk("a", "Eventful", 2, false)])).await;
    super::events::events_on(&db, GUILD_ID).await;
    let standin = super::standin().await;
    standin.guilds().grant_bot(MANAGE_EVENTS);
    let events = standin.guilds().events();
    let bot = run_with_barn(&db, &standin);

    events
        .wait_until(GUILD_ID, "the talk's event", |e| e.len() == 1)
        .await;
    // The talk is cancelled.
    let cancelled = talk("a", "Eventful", 2, true);
    import(&db.pool, &ics(&[cancelled])).await;
    events
        .wait_until(GUILD_ID, "the cancellation", |e| {
            e.iter()
                .any(|(event, status)| event.name == "Eventful" && *status == CANCELED)
        })
        .await;
    // A new talk while confbot lacks the permission; another once it has it again.
    standin.guilds().grant_bot(0);
    let refused = talk("b", "Refused", 3, false);
    import(&db.pool, &ics(&[talk("a", "Eventful", 2, true), refused])).await;
    // Answered (not only received) before the permission comes back.
    events
        .wait_for_answer("the refused create", |request, status| {
            request.starts_with("POST") && status == 403
        })
        .await;
    standin.guilds().grant_bot(MANAGE_EVENTS);
    let all = [
        talk("a", "Eventful", 2, true),
        talk("b", "Refused", 3, false),
        talk("c", "Allowed Again", 4, false),
    ];
    import(&db.pool, &ics(&all)).await;
    events
        .wait_until(GUILD_ID, "the next event", |e| e.len() == 2)
        .await;
    let exit = bot.stop().await;
    let stderr = exit.log();

    assert_eq!(exit.code, Some(0), "clean exit; log:\n{stderr}");
    assert!(
        stderr.contains("Missing Permissions"),
        "the refusal is in the log:\n{stderr}"
    );
    let names: Vec<String> = events
        .of(GUILD_ID)
        .into_iter()
        .map(|(e, _)| e.name)
        .collect();
    // The refused one waits ten minutes for its next try (see the events tests).
    assert_eq!(names, ["Eventful", "Allowed Again"]);
}
