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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use confbot::domain::import::Format;
use confbot::domain::model::{
    ConferenceSlug, ImportedSchedule, ScheduleScope, Slot, TalkData, TalkKind, TalkStatus,
};
use confbot::domain::reminders::{ChannelPlan, LeadTime};
use confbot::store::imports::{apply_import, ImportRequest};
use sqlx::PgPool;

use super::conference::{FIRST_USER, LEAD_MINUTES};
use super::messages::Limits;
use super::payloads;
use super::process::{Bot, Launch};
use super::standin::StandIn;
use super::stats::Samples;

const SLUG: &str = "bench-storm";
const ROOMS: usize = 20;
/// Each room's channel gets a reminder a minute, the rooms staggered by 3 s.
const LIVE_EVERY_SECS: i64 = 60;
/// Users subscribed (beforehand) to the talks falling due during the storm, and how many
/// of them each such talk has.
const PRE_USERS: u64 = 500;
const LIVE_SUBSCRIBERS: u64 = 20;
/// The talks people subscribe to during the storm: this many per room, 30 minutes apart,
/// from 40 minutes after the storm begins.
const LATER_PER_ROOM: usize = 12;
/// The storm's attendees: user ids from here on.
const FIRST_ATTENDEE: u64 = FIRST_USER + 100_000;
/// Channel ids of the 20 rooms.
const FIRST_ROOM_CHANNEL: u64 = 7_200_000_000_000_000;
/// From storing the conference to the first `/subscribe`: the bot starts, connects and
/// opens the live talks' subscribers' DM channels.
const WARM_UP: Duration = Duration::from_secs(60);
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
    wait_for_opens(pool, start).await?;

    let plan = plan_requests(storm, &stored.later);
    let storm_started = Instant::now()
        + (start - Utc::now())
            .to_std()
            .context("the bot was not ready before the storm")?;
    tokio::time::sleep_until(storm_started.into()).await;
    let cpu_before = (cpu_seconds(&database_pids()?), cpu_seconds(&[bot.pid()]));
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
    let cpu_after = (cpu_seconds(&database_pids()?), cpu_seconds(&[bot.pid()]));
    let (stored_pairs, planned) = check_stored(pool, stored.conference_id, &plan).await?;
    wait_for_live(pool, &stored).await?;
    bot.stop().await?;

    let mut answers = Samples::default();
    let (mut deferred, mut failed) = (0, plan.len().saturating_sub(answered.len()));
    for (index, at) in sent.iter().enumerate() {
        let Some((answer_at, body)) = answered.get(&token(index)) else {
            continue;
        };
        answers.push(answer_at.saturating_duration_since(*at));
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

fn token(index: usize) -> String {
    format!("storm-{index}")
}

/// The stored conference: its id, the talks people subscribe to (title -> id), and what
/// falls due during the storm.
struct Stored {
    conference_id: i64,
    later: Vec<String>,
    /// Live talks' ids.
    live: Vec<i64>,
    /// When the last live reminder falls due.
    last_due: DateTime<Utc>,
}

/// 20 rooms: a talk per room every minute whose reminders fall due during the storm (each
/// with [`LIVE_SUBSCRIBERS`] of [`PRE_USERS`] subscribed), then [`LATER_PER_ROOM`] talks
/// per room to subscribe to.
async fn store(pool: &PgPool, start: DateTime<Utc>, seconds: i64) -> anyhow::Result<Stored> {
    sqlx::query("DELETE FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM dm_channels WHERE user_id > $1")
        .bind(i64::try_from(FIRST_USER)?)
        .execute(pool)
        .await?;
    let lead = chrono::Duration::minutes(LEAD_MINUTES);
    let talk = |source: String, title: String, room: usize, start: DateTime<Utc>| TalkData {
        source_id: Some(source),
        title,
        room: Some(room_name(room)),
        slot: Some(Slot {
            start,
            end: start + chrono::Duration::minutes(25),
            all_day: false,
        }),
        status: TalkStatus::Confirmed,
        kind: TalkKind::Talk,
        ..TalkData::default()
    };
    let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
    schedule.name = Some("StormConf Bench".to_owned());
    schedule.time_zone = Some(Tz::UTC);
    let end = start + chrono::Duration::seconds(seconds);
    let mut last_due = start;
    for r in 0..ROOMS {
        for k in 0_i64.. {
            let due = start + chrono::Duration::seconds(15 + LIVE_EVERY_SECS * k + 3 * r as i64);
            if due > end - chrono::Duration::seconds(5) {
                break;
            }
            last_due = last_due.max(due);
            schedule.talks.push(talk(
                format!("live-{r}-{k}"),
                format!("{} live talk {}", room_name(r), k + 1),
                r,
                due + lead,
            ));
        }
    }
    let mut later = Vec::new();
    for k in 0..LATER_PER_ROOM {
        for r in 0..ROOMS {
            let title = format!("Storm session {:03} in {}", later.len() + 1, room_name(r));
            let starts = start + chrono::Duration::minutes(40 + 30 * k as i64);
            schedule
                .talks
                .push(talk(format!("later-{r}-{k}"), title.clone(), r, starts));
            later.push(title);
        }
    }
    let slug = ConferenceSlug::parse(SLUG)?;
    apply_import(
        pool,
        ImportRequest {
            slug: &slug,
            source: "benches/reminders/storm.rs",
            format: Format::Json,
            schedule: &schedule,
            time_zone_override: None,
            default_time_zone: Tz::UTC,
            dry_run: false,
            allow_mass_change: false,
        },
    )
    .await
    .context("storing the storm conference")?;
    let (conference_id,): (i64,) = sqlx::query_as("SELECT id FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .fetch_one(pool)
        .await?;
    let live: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM talks WHERE conference_id = $1 AND source_id LIKE 'live-%' ORDER BY id",
    )
    .bind(conference_id)
    .fetch_all(pool)
    .await?;
    // Talk i's subscribers: LIVE_SUBSCRIBERS consecutive users of the pool, wrapping.
    sqlx::query(
        "INSERT INTO subscriptions (conference_id, guild_id, user_id, talk_id)
         SELECT $1, NULL, $2 + 1 + (t.i * $4 + g) % $3, t.id
         FROM unnest($5::bigint[]) WITH ORDINALITY AS t(id, i), generate_series(0, $4 - 1) AS g",
    )
    .bind(conference_id)
    .bind(i64::try_from(FIRST_USER)?)
    .bind(i64::try_from(PRE_USERS)?)
    .bind(i64::try_from(LIVE_SUBSCRIBERS)?)
    .bind(&live)
    .execute(pool)
    .await?;
    let by_room: BTreeMap<String, u64> = (0..ROOMS)
        .map(|r| (room_name(r), FIRST_ROOM_CHANNEL + r as u64))
        .collect();
    let plan = ChannelPlan {
        by_room,
        default: None,
        lead: LeadTime::from_minutes(LEAD_MINUTES)?,
        names: BTreeMap::new(),
    };
    let mut conn = pool.acquire().await?;
    let unknown =
        confbot::store::subscriptions::set_channel_plan(&mut conn, conference_id, &plan).await?;
    anyhow::ensure!(unknown.is_empty(), "rooms not stored: {unknown:?}");
    Ok(Stored {
        conference_id,
        later,
        live,
        last_due,
    })
}

fn room_name(index: usize) -> String {
    format!("Room {}", index + 1)
}

/// One `/subscribe` of the storm: when, by whom, for which talk.
struct Request {
    at: Duration,
    user: u64,
    title: String,
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
async fn wait_for_opens(pool: &PgPool, start: DateTime<Utc>) -> anyhow::Result<()> {
    loop {
        let (opened, subscribers): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM dm_channels WHERE user_id > $1 AND user_id <= $1 + $2),
                    (SELECT count(DISTINCT user_id) FROM subscriptions
                     WHERE user_id > $1 AND user_id <= $1 + $2)",
        )
        .bind(i64::try_from(FIRST_USER)?)
        .bind(i64::try_from(PRE_USERS)?)
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

/// Every first answer to a storm `/subscribe` (token -> arrival and body), once all have
/// come or none has for 30 s.
async fn wait_for_answers(
    standin: &StandIn,
    asked: usize,
) -> anyhow::Result<HashMap<String, (Instant, serde_json::Value)>> {
    let mut last_count = 0;
    let mut last_change = Instant::now();
    loop {
        let mut answers = HashMap::new();
        for r in standin.requests() {
            if r.method != "POST" || !r.path.ends_with("/callback") {
                continue;
            }
            let Some(token) = r.path.rsplit('/').nth(1) else {
                continue;
            };
            if token.starts_with("storm-") {
                answers.entry(token.to_owned()).or_insert((r.at, r.body));
            }
        }
        if answers.len() >= asked || last_change.elapsed() > Duration::from_secs(30) {
            return Ok(answers);
        }
        if answers.len() != last_count {
            (last_count, last_change) = (answers.len(), Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The `(user, talk)` pairs asked for that are stored, and the DM reminders planned for
/// the storm's attendees.
async fn check_stored(
    pool: &PgPool,
    conference_id: i64,
    plan: &[Request],
) -> anyhow::Result<(usize, i64)> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT s.user_id, t.title FROM subscriptions s JOIN talks t ON t.id = s.talk_id
         WHERE s.conference_id = $1 AND s.user_id >= $2",
    )
    .bind(conference_id)
    .bind(i64::try_from(FIRST_ATTENDEE)?)
    .fetch_all(pool)
    .await?;
    let stored: HashSet<(u64, &str)> = rows
        .iter()
        .map(|(user, title)| (*user as u64, title.as_str()))
        .collect();
    let asked: HashSet<(u64, &str)> = plan.iter().map(|r| (r.user, r.title.as_str())).collect();
    anyhow::ensure!(
        stored.is_subset(&asked),
        "subscriptions stored that nobody asked for"
    );
    let (planned,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM outbox WHERE conference_id = $1 AND target_kind = 'dm'
         AND target_id >= $2",
    )
    .bind(conference_id)
    .bind(i64::try_from(FIRST_ATTENDEE)?)
    .fetch_one(pool)
    .await?;
    Ok((stored.len(), planned))
}

/// Until no reminder of a live talk is pending, a minute after the last fell due at most.
async fn wait_for_live(pool: &PgPool, stored: &Stored) -> anyhow::Result<()> {
    let expected = i64::try_from(stored.live.len() as u64 * (1 + LIVE_SUBSCRIBERS))?;
    loop {
        let (rows, pending): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM outbox
             WHERE conference_id = $1 AND talk_id = ANY($2)",
        )
        .bind(stored.conference_id)
        .bind(&stored.live)
        .fetch_one(pool)
        .await?;
        if rows >= expected && pending == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Utc::now() < stored.last_due + chrono::Duration::seconds(60),
            "the live talks' reminders were not all sent a minute after the last fell due \
             ({rows} of {expected} planned, {pending} pending)"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct Delivered {
    dms: usize,
    dms_on_time: usize,
    latest_dm: f64,
    channel: Samples,
    duplicates: usize,
    lost: usize,
}

/// The stand-in's messages matched by nonce to the live talks' planned reminders; any
/// other message (a later talk's reminder sent early) counts as a duplicate.
async fn match_live(
    pool: &PgPool,
    standin: &StandIn,
    stored: &Stored,
) -> anyhow::Result<Delivered> {
    let rows: Vec<(String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT o.nonce, o.target_kind, t.starts_at
         FROM outbox o JOIN talks t ON t.id = o.talk_id
         WHERE o.conference_id = $1 AND o.talk_id = ANY($2)",
    )
    .bind(stored.conference_id)
    .bind(&stored.live)
    .fetch_all(pool)
    .await?;
    let lead = chrono::Duration::minutes(LEAD_MINUTES);
    let planned: HashMap<String, (bool, DateTime<Utc>)> = rows
        .into_iter()
        .map(|(nonce, kind, starts)| (nonce, (kind == "dm", starts - lead)))
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut delivered = Delivered {
        dms: 0,
        dms_on_time: 0,
        latest_dm: f64::NEG_INFINITY,
        channel: Samples::default(),
        duplicates: 0,
        lost: 0,
    };
    let posted = standin.messages().posted();
    for post in &posted {
        let Some((nonce, (dm, due))) = post.nonce.as_deref().and_then(|n| planned.get_key_value(n))
        else {
            delivered.duplicates += 1;
            continue;
        };
        let count = seen.entry(nonce.as_str()).or_default();
        *count += 1;
        if *count > 1 {
            delivered.duplicates += 1;
            continue;
        }
        let at = DateTime::<Utc>::from(post.at);
        if *dm {
            delivered.dms += 1;
            let relative = (at - *due).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
            delivered.latest_dm = delivered.latest_dm.max(relative);
            if at <= *due {
                delivered.dms_on_time += 1;
            }
        } else {
            delivered
                .channel
                .push((at - *due).to_std().unwrap_or_default());
        }
    }
    delivered.lost = planned.len().saturating_sub(seen.len());
    Ok(delivered)
}

/// User + system CPU seconds of these processes (`/proc/<pid>/stat`, clock ticks of 1/100
/// s); a backend that exited meanwhile is missed, and the bot's pool keeps its own.
fn cpu_seconds(pids: &[u32]) -> f64 {
    let mut ticks = 0_u64;
    for pid in pids {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        for index in [11, 12] {
            ticks += fields
                .get(index)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    ticks as f64 / 100.0
}

/// Every process called `postgres` (servers and their backends).
fn database_pids() -> anyhow::Result<Vec<u32>> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|c| c.trim() == "postgres")
        {
            pids.push(pid);
        }
    }
    Ok(pids)
}

/// The storm's Markdown table.
pub fn markdown(binary: &Path, results: &[StormMeasured]) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "\nSubscription storm ({}):\n\n\
         | storm | /subscribe asked | answer p50 / p99 / max (ms) | deferred / failed | stored / planned | DMs due meanwhile: by due, latest (s) | channel lateness p50 / p99 / max (ms) | opens | 429s | duplicates / lost | database CPU per subscription (ms) | bot CPU per subscription (ms) |\n\
         |---|---:|---|---|---|---|---|---:|---:|---|---:|---:|\n",
        binary.display()
    );
    for m in results {
        let per = |cpu: f64| 1000.0 * cpu / m.asked.max(1) as f64;
        let _ = writeln!(
            out,
            "| {} ({:.0} s) | {} | {} / {} / {} | {} / {} | {} / {} | {} of {}, {:+.2} | {} / {} / {} | {} | {} | {} / {} | {:.2} | {:.2} |",
            m.label,
            m.storm_secs,
            m.asked,
            super::stats::ms(m.answers.p50()),
            super::stats::ms(m.answers.p99()),
            super::stats::ms(m.answers.max()),
            m.deferred,
            m.failed,
            m.stored,
            m.planned,
            m.dms_on_time,
            m.dms,
            m.latest_dm,
            super::stats::ms(m.channel.p50()),
            super::stats::ms(m.channel.p99()),
            super::stats::ms(m.channel.max()),
            m.opens,
            m.rate_limited,
            m.duplicates,
            m.lost,
            per(m.database_cpu),
            per(m.bot_cpu),
        );
    }
    out
}
