//! Resident memory of `confbot run` with a 10,000-talk conference and 100,000 subscriptions:
//! the planner plans them into the outbox, and one command loads the Discord side's
//! programme cache. Every step waits on something the database or the stand-in shows, never
//! on a fixed sleep; the short pauses before reading `/proc` only let the process settle.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Timelike as _, Utc};
use confbot::domain::model::ConferenceSlug;
use confbot::domain::reminders::{ChannelPlan, LeadTime};
use sqlx::PgPool;

use super::cpu::{cpu_seconds, database_pids};
use super::{generate, memory, payloads, Bot};

const SLUG: &str = "bench-ops-loaded";
/// 20,000 users x 5 talks each = 100,000 talk subscriptions, 10 per talk.
const USERS: i64 = 20_000;
const TALKS_PER_USER: i64 = 5;
/// Rooms with a reminder channel (500 talks each): 2,500 channel reminders.
const CHANNEL_ROOMS: usize = 5;
const FIRST_USER: i64 = 7_000_000_000_000_000;
const FIRST_CHANNEL: u64 = 7_100_000_000_000_000;
/// Longest wait for any condition below.
const PATIENCE: Duration = Duration::from_secs(300);

/// One run's figures, kB (`/proc/<pid>/status`) and seconds.
pub struct Loaded {
    pub rows: Vec<(&'static str, u64, u64)>,
    pub peak: u64,
    pub sweep_max: u64,
    pub plan_took: Duration,
    pub sweep_took: Option<Duration>,
    pub expected: i64,
    pub first_command_kind: u64,
    pub clicks: Clicks,
}

/// "Remind me" clicks by new subscribers while the plan is loaded.
pub struct Clicks {
    /// Sent to the bot -> its answer at the stand-in, per click.
    pub answers: Vec<Duration>,
    /// The last answer -> every click's reminder in the outbox.
    pub planned_after: Duration,
    /// CPU time (user + system) of the bot and of every PostgreSQL process over the clicks
    /// until all were planned, seconds.
    pub bot_cpu: f64,
    pub database_cpu: f64,
}

/// How many new subscribers click, and how many click at once.
pub const CLICKS: usize = 200;
pub const CLICKS_AT_ONCE: usize = 8;

pub async fn measure(binary: &Path, url: &str) -> anyhow::Result<Loaded> {
    // The measured binary migrates: an earlier build (`CONFBOT_BENCH_BINARY`) would refuse a
    // database carrying migrations it does not know.
    super::migrate(binary, url).await?;
    let pool = confbot::store::connect(url, 2).await?;
    sqlx::query("DELETE FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .execute(&pool)
        .await?;
    let log = super::bench_data(binary).join("ops-loaded-confbot.log");
    let mut bot = Bot::spawn(
        binary,
        url,
        &[
            ("CONFBOT__DEFAULTS__CONFERENCE", SLUG),
            ("CONFBOT__LOG__LEVEL", "info"),
        ],
        Some(&log),
    )
    .await?;
    let pid = bot.pid;
    let rss = |label: &'static str| -> anyhow::Result<(&'static str, u64, u64)> {
        Ok((label, memory(pid, "VmRSS")?, memory(pid, "RssAnon")?))
    };
    let mut rows = Vec::new();
    tokio::time::sleep(Duration::from_secs(2)).await;
    rows.push(rss("connected, `/help` answered, no conference")?);

    // Starts tomorrow (Europe/Amsterdam): every reminder lies in the future, none is sent.
    let schedule = generate::schedule(Utc::now() + chrono::Duration::days(3));
    let slug = ConferenceSlug::parse(SLUG)?;
    generate::store(&pool, &slug, &schedule).await?;
    let talks = i64::try_from(schedule.talks.len())?;
    drop(schedule);
    let conference_id: i64 = sqlx::query_scalar("SELECT id FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .fetch_one(&pool)
        .await?;
    // The import's notification makes the planner load its programme snapshot and plan
    // nothing yet; it marks the import's change notices planned in that replan.
    wait_until("the planner replans the import", || async {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM imports WHERE conference_id = $1 AND notices_planned_at IS NULL",
        )
        .bind(conference_id)
        .fetch_one(&pool)
        .await?;
        Ok(pending == 0)
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    rows.push(rss(
        "10,000 talks imported and planned (no subscriptions yet)",
    )?);

    // Clear of the minute sweep (second 0), so the first plan is measured alone.
    let second = Utc::now().second();
    if second > 25 {
        tokio::time::sleep(Duration::from_secs(u64::from(62 - second))).await;
    }
    let expected = subscribe(&pool, conference_id, talks).await?;
    let planning = Instant::now();
    wait_until("the planner fills the outbox", || async {
        Ok(pending_rows(&pool, conference_id).await? == expected)
    })
    .await?;
    let plan_took = planning.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    rows.push(rss("100,000 subscriptions planned (outbox filled)")?);

    // One command: the Discord side loads its own programme snapshot.
    bot.standin
        .send_interaction(payloads::slash(2, "bench-loaded", "next", &[]))
        .await;
    let callback = bot
        .standin
        .wait_for("the /next callback", |r| {
            r.path.ends_with("/bench-loaded/callback")
        })
        .await;
    let first_command_kind = callback
        .body
        .get("type")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if first_command_kind == 5 {
        // Deferred: the answer follows as an edit of the original response.
        bot.standin
            .wait_for("the /next answer", |r| {
                r.method == "PATCH" && r.path.contains("/bench-loaded/messages/@original")
            })
            .await;
    }
    let answered = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    rows.push(rss("after `/next` (Discord-side programme cache loaded)")?);

    // Idle: 10 s after the command, then watched through a reconciliation of the whole plan
    // (what the minute sweep does every 10 minutes), asked for as a channel-plan change
    // asks: the notification `<id>:all` (a process before incremental planning replans
    // everything on it, as it did on every sweep).
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(answered.elapsed())).await;
    rows.push(rss("idle, 10 s after the command")?);
    sqlx::query("SELECT pg_notify('confbot_plan', $1)")
        .bind(format!("{conference_id}:all"))
        .execute(&pool)
        .await?;
    let (sweep_max, sweep_took) = watch_planning(&pool, pid).await?;
    rows.push(rss("idle, after a reconciliation of the whole plan")?);

    let clicks = clicks(&bot, &pool, conference_id, pid, expected).await?;
    rows.push(rss("after 200 \"Remind me\" clicks, planned")?);
    let peak = memory(pid, "VmHWM")?;

    let statuses: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM outbox WHERE conference_id = $1 GROUP BY status",
    )
    .bind(conference_id)
    .fetch_all(&pool)
    .await?;
    let expected = expected + CLICKS as i64;
    anyhow::ensure!(
        statuses == [("pending".to_owned(), expected)],
        "outbox: {statuses:?}, expected {expected} pending rows"
    );
    bot.stop().await?;
    sqlx::query("DELETE FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .execute(&pool)
        .await?;
    Ok(Loaded {
        rows,
        peak,
        sweep_max,
        plan_took,
        sweep_took,
        expected,
        first_command_kind,
        clicks,
    })
}

/// 100,000 talk subscriptions (each user 5 talks spread over the programme, every talk 10
/// subscribers) and a channel for the first rooms, in one transaction: the rows
/// `subscriptions::subscribe` writes (made in the guild), bulk-inserted, and the plan
/// `/channel` stores. Returns the outbox rows the planner must make of them.
async fn subscribe(pool: &PgPool, conference_id: i64, talks: i64) -> anyhow::Result<i64> {
    let mut tx = pool.begin().await?;
    // User u's k-th talk: (u * 7919 + k * 2003) mod talks. 7919 is prime to 10,000, so each
    // talk gets the same number of users; k * 2003 keeps a user's five talks apart.
    let inserted = sqlx::query(
        "INSERT INTO subscriptions (conference_id, guild_id, user_id, talk_id)
         SELECT $1, $2, $3 + u, t.id
         FROM generate_series(1, $4::bigint) AS u
         CROSS JOIN generate_series(0, $5::bigint - 1) AS k
         JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i
               FROM talks WHERE conference_id = $1) AS t
           ON t.i = (u * 7919 + k * 2003) % $6",
    )
    .bind(conference_id)
    .bind(payloads::GUILD_ID as i64)
    .bind(FIRST_USER)
    .bind(USERS)
    .bind(TALKS_PER_USER)
    .bind(talks)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    anyhow::ensure!(
        inserted == (USERS * TALKS_PER_USER) as u64,
        "{inserted} subscriptions"
    );
    let plan = ChannelPlan {
        by_room: (0..CHANNEL_ROOMS)
            .map(|r| (generate::room(r), FIRST_CHANNEL + r as u64))
            .collect(),
        default: None,
        lead: LeadTime::from_minutes(10)?,
        names: Default::default(),
    };
    let unknown =
        confbot::store::subscriptions::set_channel_plan(&mut tx, conference_id, &plan).await?;
    anyhow::ensure!(unknown.is_empty(), "rooms not stored: {unknown:?}");
    tx.commit().await?;
    let channel_posts = talks * CHANNEL_ROOMS as i64 / generate::ROOMS as i64;
    Ok(USERS * TALKS_PER_USER + channel_posts)
}

async fn pending_rows(pool: &PgPool, conference_id: i64) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE conference_id = $1 AND status = 'pending'",
    )
    .bind(conference_id)
    .fetch_one(pool)
    .await?)
}

/// Polls `done` every 50 ms until it holds.
async fn wait_until<F, Fut>(what: &str, done: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let started = Instant::now();
    while !done().await? {
        anyhow::ensure!(
            started.elapsed() < PATIENCE,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Samples VmRSS every 20 ms while the bot plans: from now until no other session of the
/// database has been active or inside a transaction for a second. Returns the highest sample
/// and how long the planning was seen (first to last activity).
async fn watch_planning(pool: &PgPool, pid: u32) -> anyhow::Result<(u64, Option<Duration>)> {
    let started = Instant::now();
    let mut max = 0;
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    loop {
        max = max.max(memory(pid, "VmRSS")?);
        let busy: bool = sqlx::query_scalar(
            "SELECT coalesce(bool_or(state <> 'idle'), false)
             FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND backend_type = 'client backend' AND query NOT LIKE 'LISTEN%'",
        )
        .fetch_one(pool)
        .await?;
        let now = Instant::now();
        if busy {
            first.get_or_insert(now);
            last = Some(now);
        }
        match last {
            Some(at) if now - at > Duration::from_secs(1) => {
                return Ok((max, first.map(|first| at - first)));
            }
            None if now - started > Duration::from_secs(30) => return Ok((max, None)),
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// [`CLICKS`] new subscribers each click "Remind me" on a talk, [`CLICKS_AT_ONCE`] at a
/// time, through the gateway; then waits until the outbox holds every click's reminder.
async fn clicks(
    bot: &Bot,
    pool: &PgPool,
    conference_id: i64,
    pid: u32,
    planned_before: i64,
) -> anyhow::Result<Clicks> {
    let talks: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM talks WHERE conference_id = $1 ORDER BY id")
            .bind(conference_id)
            .fetch_all(pool)
            .await?;
    anyhow::ensure!(!talks.is_empty(), "no talks");
    let cpu_before = (cpu_seconds(&[pid])?, cpu_seconds(&database_pids()?)?);
    let mut answers = Vec::with_capacity(CLICKS);
    for batch in (0..CLICKS).collect::<Vec<_>>().chunks(CLICKS_AT_ONCE) {
        let mut sent = Vec::new();
        for &i in batch {
            let talk = talks[(i * 7919) % talks.len()];
            let token = format!("bench-click-{i}");
            let click = payloads::as_member_of(
                payloads::button(20_000 + i as u64, &token, &format!("remind:{talk}")),
                payloads::GUILD_ID,
                (FIRST_USER + USERS + 1 + i as i64) as u64,
                0,
                &[],
            );
            sent.push((token, bot.standin.send_interaction(click).await));
        }
        for (token, at) in sent {
            let path = format!("/{token}/callback");
            let callback = bot
                .standin
                .wait_for("a click's answer", |r| r.path.ends_with(&path))
                .await;
            answers.push(callback.at.saturating_duration_since(at));
        }
    }
    let answered = Instant::now();
    let all = planned_before + CLICKS as i64;
    wait_until("every click's reminder is planned", || async {
        Ok(pending_rows(pool, conference_id).await? == all)
    })
    .await?;
    let planned_after = answered.elapsed();
    // What the bot and the database still do for the clicks after the rows exist (a
    // replan under way) counts too.
    let _ = watch_planning(pool, pid).await?;
    let cpu_after = (cpu_seconds(&[pid])?, cpu_seconds(&database_pids()?)?);
    Ok(Clicks {
        answers,
        planned_after,
        bot_cpu: cpu_after.0 - cpu_before.0,
        database_cpu: cpu_after.1 - cpu_before.1,
    })
}
