//! The subscription storm of issue 13: thousands of attendees each subscribing to many
//! talks through `/subscribe` over a few minutes (5,000 x 20 over 5 minutes by default),
//! through the gateway of the stand-in with Discord's limits and latency, while other
//! talks' reminders fall due in 20 rooms' channels and by DM.
//!
//! What counts: how long each `/subscribe` waits for its answer (sent by the stand-in ->
//! the bot's callback arriving there, before the stand-in's latency), whether every
//! subscription is stored and planned, whether the reminders falling due meanwhile still
//! arrive on time and exactly once, and what the database spends per subscription.
//!
//! The talks people subscribe to start from 40 minutes after the storm, so their own DMs
//! do not fall due during it; those due within two hours get their DM channels opened
//! ahead meanwhile, as the bot does for any subscriber. The talks whose reminders fall due
//! during the storm have subscribers stored beforehand (with their DM channels opened
//! before the storm starts).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use sqlx::PgPool;

use super::conference::FIRST_USER;
use super::cpu::{cpu_seconds, database_pids};
use super::messages::Limits;
use super::payloads;
use super::process::{Bot, Launch};
use super::standin::StandIn;
use super::stats::Samples;
use super::storm_layout::{
    store, FIRST_ATTENDEE, FIRST_ROOM_CHANNEL, LATER_PER_ROOM, PRE_USERS, ROOMS, SLUG,
};
use super::storm_measure::{check_stored, match_live, wait_for_answers, wait_for_live};

/// From storing the conference to the first `/subscribe`: the bot starts, connects and
/// opens the live talks' subscribers' DM channels.
const WARM_UP: Duration = Duration::from_secs(60);
/// An answer slower than this is listed by when it was asked.
const SLOW: Duration = Duration::from_millis(20);

/// Discord's latency for every request the bot makes.
const LATENCY: Duration = Duration::from_millis(150);

pub struct Storm {
    pub attendees: usize,
    pub per_attendee: usize,
    pub seconds: u64,
}

/// What one storm measured.
pub struct StormMeasured {
    pub label: String,
    pub asked: usize,
    /// `/subscribe` sent -> its first answer at the stand-in.
    pub answers: Samples,
    /// First answers that were deferrals (the answer came as an edit later).
    pub deferred: usize,
    /// Answers saying something went wrong, or never sent.
    pub failed: usize,
    /// `(user, talk)` pairs stored as asked, and DM reminders planned for them.
    pub stored: usize,
    pub planned: i64,
    /// The reminders due during the storm: DMs, and how many arrived by their due instant;
    /// the latest DM against its due instant (s); channel posts' arrival minus due.
    pub dms: usize,
    pub dms_on_time: usize,
    pub latest_dm: f64,
    pub channel: Samples,
    pub opens: usize,
    pub rate_limited: usize,
    pub duplicates: usize,
    pub lost: usize,
    /// CPU seconds over the storm (first `/subscribe` to the last answer).
    pub database_cpu: f64,
    pub bot_cpu: f64,
    pub storm_secs: f64,
}

/// Runs the storm against `binary`.
pub async fn run(
    pool: &PgPool,
    url: &str,
    binary: &Path,
    storm: &Storm,
    log: PathBuf,
) -> anyhow::Result<StormMeasured> {
    anyhow::ensure!(
        storm.per_attendee <= ROOMS * LATER_PER_ROOM,
        "at most {} talks per attendee",
        ROOMS * LATER_PER_ROOM
    );
    let standin = StandIn::start().await;
    standin.messages().set_limits(Limits::DISCORD);
    let channels: Vec<u64> = (0..ROOMS as u64).map(|r| FIRST_ROOM_CHANNEL + r).collect();
    standin.guilds().add_text(&channels);
    standin.set_latency(LATENCY..LATENCY + Duration::from_millis(1), 17);
    let start = Utc::now() + chrono::Duration::from_std(WARM_UP)?;
    let seconds = i64::try_from(storm.seconds)?;
    let stored = store(pool, start, seconds).await?;
    let launch = Launch {
        binary,
        database_url: url,
        proxy_url: standin.url(),
        conference: SLUG,
        log,
        rate: None,
    };
    let mut bot = Bot::start(&launch)?;
    wait_for_opens(pool, stored.conference_id, start).await?;

    let plan = plan_requests(storm, &stored.later);
    let storm_started = Instant::now()
        + (start - Utc::now())
            .to_std()
            .context("the bot was not ready before the storm")?;
    tokio::time::sleep_until(storm_started.into()).await;
    let storm_wall = Utc::now();
    let cpu_before = (cpu_seconds(&database_pids()?)?, cpu_seconds(&[bot.pid()])?);
    let mut sent = Vec::with_capacity(plan.len());
    for (index, request) in plan.iter().enumerate() {
        tokio::time::sleep_until((storm_started + request.at).into()).await;
        let interaction = payloads::as_member_of(
            payloads::slash(
                60_000_000 + index as u64,
                &token(index),
                "subscribe",
                &[("talk", &request.title)],
            ),
            payloads::GUILD_ID,
            request.user,
            0,
            &[],
        );
        sent.push(standin.send_interaction(interaction).await);
        if index % 10_000 == 9_999 {
            eprintln!("  {} /subscribe sent", index + 1);
        }
    }
    if let Some(status) = bot.exited() {
        anyhow::bail!("confbot exited by itself ({status}); see {:?}", launch.log);
    }
    let answered = wait_for_answers(&standin, plan.len()).await?;
    let storm_secs = storm_started.elapsed().as_secs_f64();
    let cpu_after = (cpu_seconds(&database_pids()?)?, cpu_seconds(&[bot.pid()])?);
    let (stored_pairs, planned) = check_stored(pool, stored.conference_id, &plan).await?;
    wait_for_live(pool, &stored).await?;
    bot.stop().await?;

    let mut answers = Samples::default();
    let (mut deferred, mut failed) = (0, plan.len().saturating_sub(answered.len()));
    let mut slow = std::collections::BTreeMap::<u64, usize>::new();
    for (index, at) in sent.iter().enumerate() {
        let Some((answer_at, body)) = answered.get(&token(index)) else {
            continue;
        };
        let took = answer_at.saturating_duration_since(*at);
        if took > SLOW {
            let second = at.saturating_duration_since(storm_started).as_secs();
            *slow.entry(second).or_default() += 1;
        }
        answers.push(took);
        match body["type"].as_u64() {
            Some(4) => {
                let content = body["data"]["content"].as_str().unwrap_or_default();
                if content.contains("went wrong") {
                    failed += 1;
                }
            }
            Some(5) => deferred += 1,
            _ => failed += 1,
        }
    }
    // Where the slow answers fall, to tell a periodic stall from queueing under load.
    eprintln!("  answers over {SLOW:?} by second of the storm (started {storm_wall}): {slow:?}");
    let delivered = match_live(pool, &standin, &stored).await?;
    let opens = standin
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/users/@me/channels"))
        .count();
    Ok(StormMeasured {
        label: format!(
            "{} x {} over {} s",
            storm.attendees, storm.per_attendee, storm.seconds
        ),
        asked: plan.len(),
        answers,
        deferred,
        failed,
        stored: stored_pairs,
        planned,
        dms: delivered.dms,
        dms_on_time: delivered.dms_on_time,
        latest_dm: delivered.latest_dm,
        channel: delivered.channel,
        opens,
        rate_limited: standin.messages().counts().rate_limited,
        duplicates: delivered.duplicates,
        lost: delivered.lost,
        database_cpu: cpu_after.0 - cpu_before.0,
        bot_cpu: cpu_after.1 - cpu_before.1,
        storm_secs,
    })
}

pub fn token(index: usize) -> String {
    format!("storm-{index}")
}

/// One `/subscribe` of the storm: when, by whom, for which talk.
pub struct Request {
    at: Duration,
    pub user: u64,
    pub title: String,
}

/// Every attendee's talks (distinct, seeded) at seeded random instants over the storm,
/// in the order they are sent.
fn plan_requests(storm: &Storm, later: &[String]) -> Vec<Request> {
    let mut seed = 0x5707_2026_u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed >> 11
    };
    let span = storm.seconds as f64;
    let mut plan = Vec::with_capacity(storm.attendees * storm.per_attendee);
    let mut choices: Vec<usize> = (0..later.len()).collect();
    for attendee in 0..storm.attendees {
        // A partial Fisher-Yates shuffle: the first `per_attendee` are distinct talks.
        for i in 0..storm.per_attendee {
            let j = i + (next() as usize) % (choices.len() - i);
            choices.swap(i, j);
            let at = (next() as f64 / (1_u64 << 53) as f64) * span;
            plan.push(Request {
                at: Duration::from_secs_f64(at),
                user: FIRST_ATTENDEE + attendee as u64,
                title: later[choices[i]].clone(),
            });
        }
    }
    plan.sort_by_key(|r| r.at);
    plan
}

/// Until the live talks' subscribers have their DM channels (opened ahead by the bot).
async fn wait_for_opens(
    pool: &PgPool,
    conference_id: i64,
    start: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    loop {
        let (opened, subscribers): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM dm_channels WHERE user_id > $1 AND user_id <= $1 + $2),
                    (SELECT count(DISTINCT user_id) FROM subscriptions
                     WHERE conference_id = $3 AND user_id > $1 AND user_id <= $1 + $2)",
        )
        .bind(i64::try_from(FIRST_USER)?)
        .bind(i64::try_from(PRE_USERS)?)
        .bind(conference_id)
        .fetch_one(pool)
        .await?;
        if opened >= subscribers {
            return Ok(());
        }
        anyhow::ensure!(
            Utc::now() < start,
            "only {opened} of {subscribers} DM channels opened before the storm"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
