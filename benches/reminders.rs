//! Reminder delivery benchmark behind BENCHMARKS.md: `cargo bench --bench reminders`.
//!
//! The built `confbot run` (as a child process, configured through the environment)
//! delivers a generated conference's reminders to the Discord stand-in of the integration
//! tests, which enforces Discord's rate limits (50 requests/s global, 5 messages per 5 s
//! per channel, 429 with `retry_after`) and deduplicates nonces as Discord does. Scenarios:
//! 1. `one`: one process, a fan-out of `CONFBOT_BENCH_FANOUT` (default 10,000) DMs while
//!    8 rooms' channel reminders fall due every 2.5 s;
//! 2. `sigkill`: the same with `CONFBOT_BENCH_FAULT_FANOUT` (default 3,000) DMs, the process
//!    killed with SIGKILL `CONFBOT_BENCH_KILLS` (default 3) times at random points of the
//!    fan-out and restarted at once;
//! 3. `two`: two processes on one database at once, same fan-out size as `sigkill`.
//!
//! 4. the keynote scenarios (`benches/reminders/keynote.rs`): `keynote-0`, `keynote-150`,
//!    `keynote-300` (a keynote's `CONFBOT_BENCH_KEYNOTE`, default 2,000, DMs at that
//!    latency), `keynote-kill`, `three-0`, `three` (or `three-150`), `three-300` (three
//!    keynotes at one instant at that latency), `three-kill`, `rolling`, `takeover` (a
//!    standby started at half the DMs, then SIGKILL to the gateway's holder), `join`
//!    (a second process added at half the DMs), `join-late` (the same with the first process
//!    started once the keynote is due, so the fan-out goes at the full rate), and
//!    `keynote-live` (`keynote-150` with a board, talk threads and schedule updates on),
//!    `keynote-votes` (`keynote-live` with a question in the keynote's thread and
//!    `CONFBOT_BENCH_VOTERS` (2,000) members upvoting it at `CONFBOT_BENCH_VOTES_PER_SECOND`
//!    (100), see `benches/reminders/votes.rs`).
//! 5. `storm` (`benches/reminders/storm.rs`): `CONFBOT_BENCH_STORM_ATTENDEES` (default
//!    5,000) attendees each subscribing to `CONFBOT_BENCH_STORM_TALKS` (20) talks through
//!    `/subscribe` over `CONFBOT_BENCH_STORM_SECONDS` (300), while 20 rooms' reminders fall
//!    due.
//!
//! `CONFBOT_BENCH_SCENARIOS` (default `one,sigkill,two`) picks scenarios;
//! `CONFBOT_BENCH_BINARY` measures another build. Prints Markdown (also written to
//! `target/bench-data/reminders-report.md`).

#[path = "reminders/conference.rs"]
mod conference;
#[path = "common/cpu.rs"]
mod cpu;
#[path = "common/entry.rs"]
mod entry;
#[path = "reminders/keynote.rs"]
mod keynote;
#[path = "reminders/measure.rs"]
mod measure;
#[path = "reminders/restart.rs"]
mod restart;
// The stand-in: shared with the integration tests, which use all of it.
#[path = "../tests/it/discord/gateway.rs"]
mod gateway;
#[allow(dead_code)]
#[path = "../tests/it/discord/guilds.rs"]
mod guilds;
#[allow(dead_code)] // shared with the integration tests, which use all of it
#[path = "../tests/it/discord/interactions.rs"]
mod interactions;
#[path = "../tests/it/discord/limits.rs"]
mod limits;
#[allow(dead_code)]
#[path = "../tests/it/discord/messages.rs"]
mod messages;
#[allow(dead_code)] // shared with the integration tests, which read attachments
#[path = "../tests/it/discord/multipart.rs"]
mod multipart;
#[allow(dead_code)] // shared with the integration tests
#[path = "../tests/it/discord/network.rs"]
mod network;
#[allow(dead_code)]
#[path = "../tests/it/discord/payloads.rs"]
mod payloads;
#[path = "reminders/process.rs"]
mod process;
#[path = "../tests/it/discord/ratelimits.rs"]
mod ratelimits;
#[path = "reminders/report.rs"]
mod report;
#[path = "../tests/it/discord/responses.rs"]
#[allow(dead_code)] // shared with the integration tests
mod responses;
#[allow(dead_code)]
#[path = "../tests/it/discord/standin.rs"]
mod standin;
#[path = "reminders/storm.rs"]
mod storm;
#[path = "reminders/storm_layout.rs"]
mod storm_layout;
#[path = "reminders/storm_measure.rs"]
mod storm_measure;
#[path = "reminders/votes.rs"]
mod votes;
// Percentiles; the table helpers there are the command benchmark's.
#[allow(dead_code)]
#[path = "commands/stats.rs"]
mod stats;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::PgPool;

use measure::Measured;
use messages::Limits;
use process::{Bot, Launch};
use standin::StandIn;

/// The benchmark's conference.
const SLUG: &str = "bench-reminders";
/// From storing the conference to the DMs' due time: the processes start, connect and plan.
const LEAD_IN: Duration = Duration::from_secs(20);

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    entry::run_with_database(|url, _embedded| async move { bench(&url).await })
}

/// What a scenario runs: how many subscribers, processes at once, kills.
struct Scenario {
    label: String,
    fanout: usize,
    processes: usize,
    kills: usize,
}

async fn bench(url: &str) -> anyhow::Result<()> {
    let pool = confbot::store::connect(url, 4).await?;
    confbot::store::migrate(&pool).await?;
    let fanout = env_number("CONFBOT_BENCH_FANOUT", 10_000);
    let fault_fanout = env_number("CONFBOT_BENCH_FAULT_FANOUT", 3_000);
    let kills = env_number("CONFBOT_BENCH_KILLS", 3);
    let chosen =
        std::env::var("CONFBOT_BENCH_SCENARIOS").unwrap_or_else(|_| "one,sigkill,two".to_owned());
    let subscribers = env_number("CONFBOT_BENCH_KEYNOTE", 2_000);
    let mut scenarios = Vec::new();
    let mut keynotes = Vec::new();
    let mut storms = Vec::new();
    for name in chosen.split(',').map(str::trim) {
        if name == "storm" {
            storms.push(storm::Storm {
                attendees: env_number("CONFBOT_BENCH_STORM_ATTENDEES", 5_000),
                per_attendee: env_number("CONFBOT_BENCH_STORM_TALKS", 20),
                seconds: env_number("CONFBOT_BENCH_STORM_SECONDS", 300) as u64,
            });
            continue;
        }
        if let Some(keynote) = keynote_scenario(name, subscribers) {
            keynotes.push(keynote);
            continue;
        }
        scenarios.push(match name {
            "one" => Scenario {
                label: "one process".to_owned(),
                fanout,
                processes: 1,
                kills: 0,
            },
            "sigkill" => Scenario {
                label: format!("SIGKILL x{kills}, restarted"),
                fanout: fault_fanout,
                processes: 1,
                kills,
            },
            "two" => Scenario {
                label: "two processes".to_owned(),
                fanout: fault_fanout,
                processes: 2,
                kills: 0,
            },
            other => anyhow::bail!(
                "unknown scenario {other:?} (one, sigkill, two, keynote-0, keynote-150, keynote-300, keynote-kill, three-0, three, three-300, three-kill, rolling, takeover, join, join-late, keynote-live, keynote-votes, storm)"
            ),
        });
    }
    let other = std::env::var_os("CONFBOT_BENCH_BINARY").map(PathBuf::from);
    let binary = other
        .as_deref()
        .unwrap_or(Path::new(env!("CARGO_BIN_EXE_confbot")));
    let dir = binary
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("."), |target| target.join("bench-data"));
    std::fs::create_dir_all(&dir)?;
    let mut results = Vec::new();
    for (index, scenario) in scenarios.iter().enumerate() {
        eprintln!(
            "scenario {}: {} DMs, {} process(es), {} kill(s)",
            scenario.label, scenario.fanout, scenario.processes, scenario.kills
        );
        let log = dir.join(format!("reminders-confbot-{index}.log"));
        let _ = std::fs::remove_file(&log);
        let measured = run_scenario(&pool, url, binary, scenario, log).await?;
        eprintln!("{}", report::scenario_line(&measured));
        results.push(measured);
    }
    let mut keynote_results = Vec::new();
    for (index, scenario) in keynotes.iter().enumerate() {
        eprintln!(
            "keynote scenario {}: {} x {} DMs, latency {:?}, {:?}",
            scenario.label,
            scenario.keynotes,
            scenario.subscribers,
            scenario.latency,
            scenario.fault
        );
        let log = dir.join(format!("reminders-keynote-{index}.log"));
        let _ = std::fs::remove_file(&log);
        let measured = keynote::run(&pool, url, binary, scenario, log).await?;
        eprintln!("{}", keynote::markdown(std::slice::from_ref(&measured)));
        keynote_results.push(measured);
    }
    let mut storm_results = Vec::new();
    for (index, scenario) in storms.iter().enumerate() {
        eprintln!(
            "storm: {} attendees x {} talks over {} s",
            scenario.attendees, scenario.per_attendee, scenario.seconds
        );
        let log = dir.join(format!("reminders-storm-{index}.log"));
        let _ = std::fs::remove_file(&log);
        let measured = storm::run(&pool, url, binary, scenario, log).await?;
        eprintln!(
            "{}",
            storm_measure::markdown(binary, std::slice::from_ref(&measured))
        );
        storm_results.push(measured);
    }
    let mut text = String::new();
    if !results.is_empty() {
        text.push_str(&report::markdown(&results));
    }
    if !keynote_results.is_empty() {
        text.push_str(&format!("\nKeynotes ({}):\n\n", binary.display()));
        text.push_str(&keynote::markdown(&keynote_results));
        let bursts: Vec<String> = keynote_results
            .iter()
            .filter_map(|m| Some(votes::markdown(&m.label, m.votes.as_ref()?)))
            .collect();
        if !bursts.is_empty() {
            text.push_str("\nVotes on a question in the keynote's thread:\n\n");
            text.push_str(votes::HEADER);
            text.extend(bursts);
        }
    }
    if !storm_results.is_empty() {
        text.push_str(&storm_measure::markdown(binary, &storm_results));
    }
    println!("{text}");
    std::fs::write(dir.join("reminders-report.md"), &text)?;
    Ok(())
}

/// The keynote scenario called `name`, if it is one.
fn keynote_scenario(name: &str, subscribers: usize) -> Option<keynote::Keynote> {
    use keynote::{Fault, Keynote};
    let ms = Duration::from_millis;
    let (keynotes, latency, fault) = match name {
        "keynote-0" => (1, ms(0), Fault::None),
        "keynote-150" => (1, ms(150), Fault::None),
        "keynote-300" => (1, ms(300), Fault::None),
        "keynote-kill" => (1, ms(150), Fault::Kill),
        "three-0" => (3, ms(0), Fault::None),
        "three" | "three-150" => (3, ms(150), Fault::None),
        "three-300" => (3, ms(300), Fault::None),
        "three-kill" => (3, ms(150), Fault::Kill),
        "rolling" => (1, ms(150), Fault::Rolling),
        "takeover" => (1, ms(150), Fault::Takeover),
        "join" | "join-late" => (1, ms(150), Fault::Join),
        "keynote-live" | "keynote-votes" => (1, ms(150), Fault::None),
        _ => return None,
    };
    Some(Keynote {
        label: name.to_owned(),
        keynotes,
        subscribers,
        latency,
        fault,
        live: matches!(name, "keynote-live" | "keynote-votes"),
        votes: (name == "keynote-votes").then(|| votes::Burst {
            voters: env_number("CONFBOT_BENCH_VOTERS", 2_000),
            per_second: env_number("CONFBOT_BENCH_VOTES_PER_SECOND", 100),
        }),
        late: name == "join-late",
    })
}

async fn run_scenario(
    pool: &PgPool,
    url: &str,
    binary: &Path,
    scenario: &Scenario,
    log: PathBuf,
) -> anyhow::Result<Measured> {
    let standin = StandIn::start().await;
    standin.messages().set_limits(Limits::DISCORD);
    standin.guilds().add_text(&conference::channels(1));
    // The fan-out's expected length at the allowed rate: two requests per subscriber.
    let span = chrono::Duration::milliseconds(i64::try_from(scenario.fanout)? * 2 * 20);
    let t0 = Utc::now() + chrono::Duration::from_std(LEAD_IN)?;
    let stored = conference::store(pool, SLUG, t0, span, scenario.fanout).await?;
    let launch = Launch {
        binary,
        database_url: url,
        proxy_url: standin.url(),
        conference: SLUG,
        log,
        // The pace these scenarios were first measured at (Discord's whole limit).
        rate: Some(50),
    };
    let mut bots = (0..scenario.processes)
        .map(|_| Bot::start(&launch))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Kill points: seeded, so every run kills at the same shares of the fan-out (between
    // 5 % and 95 % of the messages created).
    let mut seed = 0x5EED_2026_u64;
    let mut kill_at: Vec<usize> = (0..scenario.kills)
        .map(|_| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let share = 0.05 + 0.9 * ((seed >> 11) as f64 / (1_u64 << 53) as f64);
            (share * (scenario.fanout + stored.channel_posts) as f64) as usize
        })
        .collect();
    kill_at.sort_unstable();
    kill_at.reverse();
    let deadline = Instant::now() + LEAD_IN + span.to_std()? * 3 + Duration::from_secs(180);
    // The wait's tick kills and restarts; the cells let it borrow the bots between ticks.
    let bots_cell = std::cell::RefCell::new(&mut bots);
    let kill_at_cell = std::cell::RefCell::new(&mut kill_at);
    let (bots_ref, kill_ref, launch_ref, standin_ref) =
        (&bots_cell, &kill_at_cell, &launch, &standin);
    measure::wait_until_done(pool, &stored, deadline, move || async move {
        let created = standin_ref.messages().counts().created;
        let due = kill_ref
            .borrow()
            .last()
            .is_some_and(|&point| created >= point);
        if due {
            kill_ref.borrow_mut().pop();
            let bot = bots_ref.borrow_mut().remove(0);
            bot.kill().await?;
            eprintln!("  SIGKILL after {created} messages created; restarting");
            bots_ref.borrow_mut().push(Bot::start(launch_ref)?);
        }
        for bot in bots_ref.borrow_mut().iter_mut() {
            if let Some(status) = bot.exited() {
                anyhow::bail!(
                    "confbot exited by itself ({status}); see {:?}",
                    launch_ref.log
                );
            }
        }
        Ok(())
    })
    .await?;
    for bot in bots {
        bot.stop().await?;
    }
    measure::measure(&scenario.label, pool, &standin, &stored).await
}
