//! Attendee-command benchmark behind BENCHMARKS.md: `cargo bench --bench commands`.
//!
//! On a 10,000-talk conference stored in PostgreSQL (`CONFBOT_BENCH_DATABASE_URL`, else a
//! private embedded server) it measures:
//! 1. in the process, the server-side path of `/talk` autocomplete, `/talk`, `/next` and
//!    `/schedule` from a received interaction to its serialised response (see
//!    `commands/inprocess.rs`), with a per-step breakdown and the database costs behind the
//!    programme cache;
//! 2. the same four through the Discord stand-in of the integration tests, against the built
//!    `confbot run` process: INTERACTION_CREATE injected on the gateway to the callback POST
//!    arriving at the stand-in;
//! 3. that process's resident memory: connected and registered, after the first command
//!    (programme loaded), and idle after the whole run.
//!
//! It prints Markdown tables (also written to `target/bench-data/commands-report.md`).

#[path = "common/entry.rs"]
mod entry;
#[path = "commands/generate.rs"]
mod generate;
// The stand-in's guild routes (channel checks): part of the stand-in, unused here.
#[path = "../tests/it/discord/gateway.rs"]
mod gateway;
#[allow(dead_code)]
#[path = "../tests/it/discord/guilds.rs"]
mod guilds;
#[path = "commands/heap.rs"]
mod heap;
#[path = "commands/inprocess.rs"]
mod inprocess;
#[allow(dead_code)] // shared with the integration tests, which use all of it
#[path = "../tests/it/discord/interactions.rs"]
mod interactions;
#[path = "../tests/it/discord/limits.rs"]
mod limits;
#[allow(dead_code)] // shared with the integration tests, which read attachments
#[path = "../tests/it/discord/multipart.rs"]
mod multipart;
#[path = "../tests/it/discord/ratelimits.rs"]
mod ratelimits;
// The stand-in's delivery routes: part of the stand-in, unused by this benchmark.
#[allow(dead_code)]
#[path = "../tests/it/discord/messages.rs"]
mod messages;
#[allow(dead_code)] // shared with the integration tests
#[path = "../tests/it/discord/network.rs"]
mod network;
#[path = "../tests/it/discord/payloads.rs"]
#[allow(dead_code)] // shared with the integration tests, which use all of it
mod payloads;
#[path = "commands/report.rs"]
mod report;
#[path = "../tests/it/discord/responses.rs"]
#[allow(dead_code)] // shared with the integration tests
mod responses;
#[path = "../tests/it/discord/standin.rs"]
#[allow(dead_code)] // shared with the integration tests, which use all of it
mod standin;
#[path = "commands/stats.rs"]
mod stats;
#[path = "commands/through_standin.rs"]
mod through_standin;
#[path = "commands/words.rs"]
mod words;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use chrono::Utc;
use confbot::config::Settings;
use confbot::domain::model::ConferenceSlug;
use serenity::all::{CommandInteraction, Interaction};

use inprocess::{Adapter, Cache, Steps};
use through_standin::Batch;

/// The benchmark's conference.
const SLUG: &str = "bench-commands";
/// In-process iterations: autocomplete inputs, and each command's inputs.
const AUTOCOMPLETE_RUNS: usize = 2_000;
const COMMAND_RUNS: usize = 1_000;
/// Interactions per kind through the stand-in.
const STANDIN_RUNS: usize = 300;

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

fn main() -> ExitCode {
    entry::run_with_database(|url, embedded| async move { bench(&url, embedded).await })
}

async fn bench(url: &str, embedded: bool) -> anyhow::Result<()> {
    let pool = confbot::store::connect(url, 4).await?;
    confbot::store::migrate(&pool).await?;
    let slug = ConferenceSlug::parse(SLUG)?;
    let now = Utc::now();
    let schedule = generate::schedule(now);
    sqlx::query("DELETE FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .execute(&pool)
        .await?;
    let started = Instant::now();
    generate::store(&pool, &slug, &schedule).await?;
    let import_took = started.elapsed();

    let autocomplete = generate::autocomplete_inputs(&schedule, AUTOCOMPLETE_RUNS);
    let talk = generate::talk_queries(&schedule, COMMAND_RUNS);
    let next = generate::next_options(COMMAND_RUNS);
    let days = generate::schedule_options(COMMAND_RUNS, generate::first_day(now));

    // 1. In the process.
    let env = [("CONFBOT__DEFAULTS__CONFERENCE".to_owned(), SLUG.to_owned())];
    let adapter = Adapter {
        cache: Cache::new(pool.clone()),
        guilds: Settings::load(None, &env)?.guilds,
    };
    let ac_interactions: Vec<CommandInteraction> = autocomplete
        .iter()
        .map(|typed| interaction(true, "talk", &[("query".to_owned(), typed.clone())]))
        .collect::<anyhow::Result<_>>()?;
    let talk_options: Vec<Vec<(String, String)>> = talk
        .iter()
        .map(|q| vec![("query".to_owned(), q.clone())])
        .collect();
    let commands = [
        ("`/talk`", "talk", &talk_options),
        ("`/next`", "next", &next),
        ("`/schedule`", "schedule", &days),
    ];
    // Warm-up: the first lookup loads the programme; caches and allocator settle.
    let mut warmup = Steps::default();
    for interaction in ac_interactions.iter().take(200) {
        adapter.autocomplete(interaction, &mut warmup).await?;
    }
    let mut ac_steps = Steps::default();
    for interaction in &ac_interactions {
        adapter.autocomplete(interaction, &mut ac_steps).await?;
    }
    let mut in_process = vec![("`/talk` autocomplete".to_owned(), ac_steps)];
    for (label, name, options) in commands {
        let interactions: Vec<CommandInteraction> = options
            .iter()
            .map(|o| interaction(false, name, o))
            .collect::<anyhow::Result<_>>()?;
        let mut steps = Steps::default();
        for interaction in &interactions {
            adapter.command(interaction, &mut steps).await?;
        }
        in_process.push((label.to_owned(), steps));
    }
    let store = inprocess::store_costs(&pool, &slug).await?;
    let snapshot = inprocess::snapshot_cost(&pool, &slug).await?;

    // 2. and 3. The built binary through the stand-in.
    let binary = Path::new(env!("CARGO_BIN_EXE_confbot"));
    let batches = vec![
        Batch {
            label: "`/talk` autocomplete".to_owned(),
            command: "talk",
            focused: Some("query"),
            options: talk_options_of(&autocomplete, STANDIN_RUNS),
        },
        Batch {
            label: "`/talk`".to_owned(),
            command: "talk",
            focused: None,
            options: talk_options_of(&talk, STANDIN_RUNS),
        },
        Batch {
            label: "`/next`".to_owned(),
            command: "next",
            focused: None,
            options: next.iter().take(STANDIN_RUNS).cloned().collect(),
        },
        Batch {
            label: "`/schedule`".to_owned(),
            command: "schedule",
            focused: None,
            options: days.iter().take(STANDIN_RUNS).cloned().collect(),
        },
    ];
    let log = through_standin::log_path(binary);
    let through = through_standin::measure(binary, url, SLUG, &batches, &log)
        .await
        .with_context(|| format!("measuring confbot run (its log: {})", log.display()))?;

    let report = report::render(&report::Inputs {
        embedded,
        talks: schedule.talks.len(),
        import_took,
        in_process: &in_process,
        store: &store,
        snapshot: &snapshot,
        through: &through,
    });
    println!("{report}");
    let path = log.with_file_name("commands-report.md");
    std::fs::write(&path, &report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

/// A deserialised interaction, as serenity hands it to the adapter.
fn interaction(
    autocomplete: bool,
    command: &str,
    options: &[(String, String)],
) -> anyhow::Result<CommandInteraction> {
    let options: Vec<(&str, &str)> = options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let payload = if autocomplete {
        payloads::autocomplete(1, "token", command, &options, "query")
    } else {
        payloads::slash(1, "token", command, &options)
    };
    match serde_json::from_value(payload)? {
        Interaction::Command(c) | Interaction::Autocomplete(c) => Ok(c),
        other => anyhow::bail!("unexpected interaction kind {:?}", other.kind()),
    }
}

fn talk_options_of(queries: &[String], count: usize) -> Vec<Vec<(String, String)>> {
    queries
        .iter()
        .take(count)
        .map(|q| vec![("query".to_owned(), q.clone())])
        .collect()
}
