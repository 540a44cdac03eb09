//! Chaos: exactly once while everything goes wrong at once. Two `confbot run --no-gateway`
//! processes deliver a fan-out against the stand-in with Discord's rules (a 30-second nonce
//! window, random latency, a global limit, 5 messages per channel per
//! 5 s; the workers pace at that rate too), while a plan drawn from a seed SIGKILLs and restarts workers, sends 429 storms with
//! long `retry_after`, holds back the answers of created messages past the bot's request
//! timeout (the bot sees a timeout; the message exists) and answers some sends with 502.
//!
//! After each seed: every row is sent (no loss), each row created exactly one message (no
//! duplicate), and no repeat relied on Discord remembering a nonce for longer than the bot
//! trusts it to (the bot trusts it 1 to 20 s here; a repeat later than that plus one
//! request's time would create a duplicate on Discord once its memory ends).
//!
//! Every seed is printed with what it did. `CONFBOT_CHAOS_SEED=n` replays seed n alone;
//! `CONFBOT_CHAOS_SEEDS`, `CONFBOT_CHAOS_POSTS`, `CONFBOT_CHAOS_RATE` and
//! `CONFBOT_CHAOS_PARALLEL` scale the run (BENCHMARKS.md runs 10,000 posts).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DurationRound, TimeDelta, Utc};
use confbot::store::outbox::OutboxStatus;
use tokio::sync::Mutex;

use super::{ics, ids, import, outbox_of, subscribe, Talk, BARN, LOBBY, SLUG};
use crate::discord::bot_env;
use crate::discord::messages::Limits;
use crate::discord::standin::StandIn;
use crate::harness::TestDb;
use crate::process::{confbot, Process};

/// The stand-in's nonce memory: Discord documents "a few minutes"; shorter here.
const NONCE_WINDOW: Duration = Duration::from_secs(30);
/// The workers' lease: short, so a killed worker's rows are taken over within the run.
const LEASE_SECONDS: u64 = 2;
/// The answer of a created message held back this long: past the bot's request timeout
/// (a fifth of the lease).
const HANG: Duration = Duration::from_secs(1);
const ROOMS: [&str; 4] = ["Barn", "Loft", "Hall", "Yard"];
/// Reminders an hour ahead: a reminder for a talk that has started is dropped, and the
/// largest fan-outs here take several minutes.
const LEAD_MINUTES: i64 = 60;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// One thing that goes wrong, at an offset from the seed's start.
#[derive(Debug, Clone, Copy)]
enum Trouble {
    /// SIGKILL worker `worker`, start a new one `down` later.
    Kill { worker: usize, down: Duration },
    /// The next `count` sends get a global 429 asking to wait `retry_after`.
    Storm { count: usize, retry_after: Duration },
    /// The next `count` created messages are answered after [`HANG`].
    Hang { count: usize },
    /// The next `count` sends get a 502.
    BadGateway { count: usize },
}

/// What a seed does.
#[derive(Debug)]
struct Plan {
    seed: u64,
    /// How long the workers trust Discord to remember a nonce.
    trust: Duration,
    latency: Duration,
    troubles: Vec<(Duration, Trouble)>,
}

impl Plan {
    /// The plan of `seed` for `posts` sent at `rate` a second: troubles while the fan-out
    /// (due within a second of the start) is under way, 4 to 8 for every 4 s of it.
    fn draw(seed: u64, posts: usize, rate: u64) -> Plan {
        let mut rng = fastrand::Rng::with_seed(seed);
        let trust = Duration::from_secs([1, 3, 20][rng.usize(0..3)]);
        let latency = Duration::from_millis(rng.u64(5..60));
        let span_ms = 1_000 + 1_000 * posts as u64 / rate.max(1);
        let count = rng.usize(4..9) * span_ms.div_ceil(4_000) as usize;
        let mut troubles: Vec<(Duration, Trouble)> = (0..count)
            .map(|_| {
                let at = Duration::from_millis(rng.u64(200..span_ms));
                let trouble = match rng.u8(0..4) {
                    0 => Trouble::Kill {
                        worker: rng.usize(0..2),
                        down: Duration::from_millis(rng.u64(0..1_500)),
                    },
                    1 => Trouble::Storm {
                        count: rng.usize(1..20),
                        retry_after: Duration::from_millis(rng.u64(500..3_000)),
                    },
                    2 => Trouble::Hang {
                        count: rng.usize(1..5),
                    },
                    _ => Trouble::BadGateway {
                        count: rng.usize(1..4),
                    },
                };
                (at, trouble)
            })
            .collect();
        troubles.sort_by_key(|(at, _)| *at);
        Plan {
            seed,
            trust,
            latency,
            troubles,
        }
    }
}

impl Plan {
    /// The seed's settings and how many of each trouble.
    fn summary(&self) -> String {
        let count =
            |kind: fn(&Trouble) -> bool| self.troubles.iter().filter(|(_, t)| kind(t)).count();
        format!(
            "seed {}: trust {:?}, latency < {:?}, {} troubles ({} kills, {} storms, {} hangs, {} 502s)",
            self.seed,
            self.trust,
            self.latency,
            self.troubles.len(),
            count(|t| matches!(t, Trouble::Kill { .. })),
            count(|t| matches!(t, Trouble::Storm { .. })),
            count(|t| matches!(t, Trouble::Hang { .. })),
            count(|t| matches!(t, Trouble::BadGateway { .. })),
        )
    }
}

impl std::fmt::Display for Plan {
    /// The summary, and every trouble with its moment when there are few enough to read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())?;
        if self.troubles.len() <= 20 {
            write!(f, ": {:?}", self.troubles)?;
        }
        Ok(())
    }
}

/// Every request about `nonce`'s message (its sends, and the reads of its channel), with
/// its arrival after the first: what a failing seed's duplicate went through.
fn history(standin: &StandIn, nonce: &str) -> String {
    let requests = standin.requests();
    let sends: Vec<_> = requests
        .iter()
        .filter(|r| r.body["nonce"].as_str() == Some(nonce))
        .collect();
    let Some(first) = sends.first() else {
        return format!("{nonce}: no request");
    };
    let channel = first.path.clone();
    let lines: Vec<String> = requests
        .iter()
        .filter(|r| {
            r.body["nonce"].as_str() == Some(nonce) || (r.method == "GET" && r.path == channel)
        })
        .map(|r| {
            let after = r.at.saturating_duration_since(first.at);
            format!("  +{after:.3?} {} {}", r.method, r.path)
        })
        .collect();
    let made: Vec<String> = standin
        .messages()
        .posted()
        .iter()
        .filter(|p| p.nonce.as_deref() == Some(nonce))
        .map(|p| {
            format!(
                "{:?}",
                p.at.duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
            )
        })
        .collect();
    format!("{nonce} (made at {made:?}):\n{}", lines.join("\n"))
}

/// The two worker slots; a killed worker's slot is empty until its successor starts.
type Workers = Arc<Mutex<[Option<Process>; 2]>>;

fn worker(db: &TestDb, standin: &StandIn, trust: Duration, rate: u64) -> Process {
    let rooms = format!(
        "[{{conference = \"{SLUG}\", default_channel = {LOBBY}, rooms = {{ Barn = {BARN} }} }}]"
    );
    Process::spawn(
        confbot()
            .args(["run", "--no-gateway"])
            .envs(bot_env(db, standin, SLUG))
            .env("CONFBOT__REMINDERS__CONFERENCES", rooms)
            .env(
                "CONFBOT__REMINDERS__LEASE_SECONDS",
                LEASE_SECONDS.to_string(),
            )
            .env(
                "CONFBOT__REMINDERS__NONCE_TRUST_SECONDS",
                trust.as_secs().to_string(),
            )
            .env("CONFBOT__REMINDERS__RATE_PER_SECOND", rate.to_string())
            .env("CONFBOT__DEFAULTS__LEAD_MINUTES", LEAD_MINUTES.to_string())
            .env(
                "CONFBOT__REMINDERS__CHANNEL_LEAD_MINUTES",
                LEAD_MINUTES.to_string(),
            )
            .env("CONFBOT__DATABASE__MAX_CONNECTIONS", "2"),
        Duration::from_secs(30),
    )
}

/// Runs one seed; returns its report line, or why it failed.
async fn run_seed(plan: Plan, posts: usize, rate: u64) -> Result<String, String> {
    let started = Instant::now();
    let db = TestDb::new().await;
    // Due a second from now, in whole seconds as Discord timestamps are.
    let now = Utc::now()
        .duration_trunc(TimeDelta::seconds(1))
        .expect("whole seconds");
    let start = now + TimeDelta::minutes(LEAD_MINUTES) + TimeDelta::seconds(1);
    let uids: Vec<String> = (0..ROOMS.len()).map(|i| format!("talk-{i}")).collect();
    let talks: Vec<Talk<'_>> = ROOMS
        .iter()
        .zip(&uids)
        .map(|(room, uid)| Talk {
            uid,
            title: "Everything Fails",
            room,
            start,
            cancelled: false,
        })
        .collect();
    import(&db.pool, &ics(&talks)).await;
    let mut talk_ids = Vec::new();
    for uid in &uids {
        talk_ids.push(ids(&db.pool, uid).await);
    }
    let subscribers = posts.saturating_sub(ROOMS.len()).max(1);
    for user in 0..subscribers {
        let (conference, talk) = talk_ids[user % talk_ids.len()];
        subscribe(&db.pool, conference, 1 + user as u64, talk).await;
    }
    let conference = talk_ids[0].0;
    let expected = ROOMS.len() + subscribers;

    let standin = super::standin().await;
    standin.messages().set_nonce_window(NONCE_WINDOW);
    standin.messages().set_limits(Limits {
        // Exactly the workers' own rate: their overlap (a new worker, a dead one still
        // counted) draws real 429s.
        global_per_second: u32::try_from(rate).unwrap_or(u32::MAX),
        ..Limits::DISCORD
    });
    standin.set_latency(Duration::ZERO..plan.latency, plan.seed);
    let workers: Workers = Arc::new(Mutex::new([
        Some(worker(&db, &standin, plan.trust, rate)),
        Some(worker(&db, &standin, plan.trust, rate)),
    ]));

    // The troubles, each at its moment.
    let begun = tokio::time::Instant::now();
    let mut kills = 0;
    let done = async {
        for (at, trouble) in &plan.troubles {
            tokio::time::sleep_until(begun + *at).await;
            match *trouble {
                Trouble::Kill { worker: slot, down } => {
                    let killed = workers.lock().await[slot].take();
                    if let Some(killed) = killed {
                        killed.kill().await;
                        kills += 1;
                    }
                    tokio::time::sleep(down).await;
                    workers.lock().await[slot] = Some(worker(&db, &standin, plan.trust, rate));
                }
                Trouble::Storm { count, retry_after } => {
                    standin.messages().storm(count, retry_after);
                }
                Trouble::Hang { count } => standin.messages().hang_after_create(count, HANG),
                Trouble::BadGateway { count } => standin.messages().fail_next(count),
            }
        }
    };
    done.await;
    // Then until every row is recorded: sent, or anything else (a loss).
    let deadline = Duration::from_secs(60 + 4 * expected as u64 / rate.max(1));
    let settled = tokio::time::timeout(deadline, async {
        loop {
            // Counted in the database: reading 10,000 rows ten times a second would load
            // the machine the workers run on.
            let (rows, open): (i64, i64) = sqlx::query_as(
                "SELECT count(*), count(*) FILTER (WHERE status = 'pending')
                 FROM outbox WHERE conference_id = $1",
            )
            .bind(conference)
            .fetch_one(&db.pool)
            .await
            .expect("outbox counts");
            if rows >= expected as i64 && open == 0 {
                return outbox_of(&db.pool, conference).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let settled_after = started.elapsed();
    let mut workers = workers.lock().await;
    let mut logs = String::new();
    for process in workers.iter_mut().filter_map(Option::take) {
        let exit = process.stop().await;
        if exit.code != Some(0) {
            let _ = writeln!(
                logs,
                "a worker exited with {:?}:\n{}",
                exit.code,
                exit.log()
            );
        }
    }
    let rows = settled.map_err(|_| {
        format!(
            "{plan}: not every row was recorded within {deadline:?}: stand-in {:?}\n{logs}",
            standin.messages().counts()
        )
    })?;
    let stray = rows.iter().find(|r| r.status != OutboxStatus::Sent);
    if let Some(row) = stray {
        return Err(format!(
            "{plan}: a row ended {:?} (a loss): {:?}\n{logs}",
            row.status, row.post.key
        ));
    }
    if !logs.is_empty() {
        return Err(format!("{plan}: {logs}"));
    }

    // One message per row, and none without a row.
    let posted = standin.messages().posted();
    let mut created: HashMap<String, usize> = HashMap::new();
    for post in &posted {
        let nonce = post.nonce.clone().ok_or("a message without a nonce")?;
        *created.entry(nonce).or_default() += 1;
    }
    let duplicated: Vec<&String> = created
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(nonce, _)| nonce)
        .collect();
    if !duplicated.is_empty() {
        let story: Vec<String> = duplicated
            .iter()
            .take(3)
            .map(|nonce| history(&standin, nonce))
            .collect();
        return Err(format!(
            "{plan}: {} nonces created two messages; the first ones' requests:\n{}",
            duplicated.len(),
            story.join("\n")
        ));
    }
    let sent: HashSet<&str> = rows.iter().map(|r| r.nonce.as_str()).collect();
    let messages: HashSet<&str> = created.keys().map(String::as_str).collect();
    if sent != messages || rows.len() != expected {
        return Err(format!(
            "{plan}: {} rows, {} messages: rows without a message: {:?}, messages without a row: {:?}",
            rows.len(),
            messages.len(),
            sent.difference(&messages).collect::<Vec<_>>(),
            messages.difference(&sent).collect::<Vec<_>>()
        ));
    }
    // A repeat may reach Discord up to one request's time after the bot decided on it.
    let request = Duration::from_secs(LEASE_SECONDS) / 5;
    let repeats = standin.messages().repeats();
    let oldest = repeats.iter().map(|r| r.age).max().unwrap_or_default();
    if oldest >= plan.trust + request {
        return Err(format!(
            "{plan}: a repeat came {oldest:?} after its message, trusting Discord for {:?}",
            plan.trust
        ));
    }
    let lookups = standin
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/messages"))
        .count();
    let counts = standin.messages().counts();
    let times = posted.iter().map(|p| p.at);
    let span = match (times.clone().min(), times.max()) {
        (Some(first), Some(last)) => last.duration_since(first).unwrap_or_default(),
        _ => Duration::ZERO,
    };
    let per_second = posted.len() as f64 / span.as_secs_f64().max(0.001);
    Ok(format!(
        "{}: {kills} kills made, {} rows sent, {} messages, {} repeats answered with the first message (oldest {oldest:.1?}), {lookups} looks, {} 429s, first to last message {span:.1?} ({per_second:.1}/s), settled {settled_after:.1?}, in {:.1?}",
        plan.summary(),
        rows.len(),
        counts.created,
        repeats.len(),
        counts.rate_limited,
        started.elapsed()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_under_kills_storms_timeouts_and_a_short_nonce_memory_send_each_row_once() {
    let seeds: Vec<u64> = match std::env::var("CONFBOT_CHAOS_SEED") {
        Ok(seed) => vec![seed.parse().expect("CONFBOT_CHAOS_SEED is a number")],
        Err(_) => (1..=env_number("CONFBOT_CHAOS_SEEDS", 20)).collect(),
    };
    let posts = env_number("CONFBOT_CHAOS_POSTS", 60) as usize;
    let parallel = env_number("CONFBOT_CHAOS_PARALLEL", 10).max(1) as usize;
    // Slow enough that a fan-out of the default size lasts through its troubles.
    let rate = env_number("CONFBOT_CHAOS_RATE", 20);
    let started = Instant::now();
    // At most `parallel` seeds at once, each starting as soon as another ends.
    let slots = Arc::new(tokio::sync::Semaphore::new(parallel));
    let runs: Vec<_> = seeds
        .iter()
        .map(|&seed| {
            let slots = Arc::clone(&slots);
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.expect("semaphore open");
                run_seed(Plan::draw(seed, posts, rate), posts, rate).await
            })
        })
        .collect();
    let mut failures = Vec::new();
    for (seed, run) in seeds.iter().zip(runs) {
        match run.await {
            Ok(Ok(report)) => eprintln!("{report}"),
            Ok(Err(failure)) => failures.push(format!(
                "seed {seed} (replay: CONFBOT_CHAOS_SEED={seed}): {failure}"
            )),
            Err(panic) => failures.push(format!(
                "seed {seed} (replay: CONFBOT_CHAOS_SEED={seed}) panicked: {panic}"
            )),
        }
    }
    eprintln!(
        "{} seeds of {posts} posts in {:.1?}",
        seeds.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
