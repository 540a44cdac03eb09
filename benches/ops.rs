//! Operations benchmark behind BENCHMARKS.md: `cargo bench --bench ops`.
//!
//! Runs the built `confbot run` against the integration tests' Discord stand-in with the
//! operations endpoint on, and measures:
//! 1. startup to ready: from spawning the process to the callback of its first command
//!    (`/help`, sent as soon as the bot identified on the gateway), over several starts;
//! 2. resident memory (VmRSS) once idle: ready, one command answered, two quiet seconds;
//! 3. the cost of a scrape: `CONFBOT_BENCH_SCRAPES` (default 1,000) sequential
//!    `GET /metrics` and as many `GET /healthz`, each a new connection, p50/p99/max;
//! 4. resident memory with 10,000 talks and 100,000 subscriptions loaded (`ops/loaded.rs`):
//!    before the data, once the planner has filled the outbox, after a command, idle,
//!    through a reconciliation of the whole plan, and 200 "Remind me" clicks by new
//!    subscribers (answer latency, time until planned, bot and PostgreSQL CPU per click).
//!
//! `CONFBOT_BENCH_BINARY` measures another build (e.g. the previous release) instead of
//! this one, by the same harness.
//!
//! 5. `confbot serve-interactions` (`ops/interactions.rs`): startup to the first signed
//!    command answered, signed requests answered and forged ones refused, idle memory.
//!
//! `CONFBOT_BENCH_OPS` picks the parts (comma-separated): `endpoint` (1-3), `loaded` (4),
//! `interactions` (5); all by default.
//! Database: `CONFBOT_BENCH_DATABASE_URL`, else a private embedded server.

// The stand-in's guild and delivery routes: part of the stand-in, unused here.
#[path = "common/cpu.rs"]
mod cpu;
#[path = "common/entry.rs"]
mod entry;
// The command benchmark's programme; its input generators are unused here.
#[path = "ops/interactions.rs"]
mod endpoint_load;
#[path = "../tests/it/discord/gateway.rs"]
mod gateway;
#[allow(dead_code)]
#[path = "commands/generate.rs"]
mod generate;
#[allow(dead_code)]
#[path = "../tests/it/discord/guilds.rs"]
mod guilds;
#[allow(dead_code)] // shared with the integration tests, which use all of it
#[path = "../tests/it/discord/interactions.rs"]
mod interactions;
#[path = "../tests/it/discord/limits.rs"]
mod limits;
#[path = "ops/loaded.rs"]
mod loaded;
#[allow(dead_code)]
#[path = "../tests/it/discord/messages.rs"]
mod messages;
#[allow(dead_code)] // shared with the integration tests, which read attachments
#[path = "../tests/it/discord/multipart.rs"]
mod multipart;
#[allow(dead_code)] // shared with the integration tests
#[path = "../tests/it/discord/network.rs"]
mod network;
#[allow(dead_code)] // shared with the integration tests, which use all of it
#[path = "../tests/it/discord/payloads.rs"]
mod payloads;
#[path = "../tests/it/discord/ratelimits.rs"]
mod ratelimits;
#[path = "../tests/it/discord/responses.rs"]
#[allow(dead_code)] // shared with the integration tests
mod responses;
#[allow(dead_code)]
#[path = "../tests/it/discord/standin.rs"]
mod standin;
#[allow(dead_code)]
#[path = "commands/stats.rs"]
mod stats;
#[allow(dead_code)]
#[path = "commands/words.rs"]
mod words;

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use stats::{ms, Samples};

/// Fresh processes started for the startup measurement.
const STARTS: usize = 5;

fn main() -> ExitCode {
    entry::run_with_database(|url, _embedded| async move { bench(&url).await })
}

async fn bench(url: &str) -> anyhow::Result<()> {
    // Another build (a previous release) can be measured by the same harness, side by side.
    let other = std::env::var_os("CONFBOT_BENCH_BINARY").map(PathBuf::from);
    let binary = other
        .as_deref()
        .unwrap_or(Path::new(env!("CARGO_BIN_EXE_confbot")));
    let parts = std::env::var("CONFBOT_BENCH_OPS").unwrap_or_default();
    let wanted = |part: &str| parts.is_empty() || parts.split(',').any(|p| p.trim() == part);
    if wanted("endpoint") {
        endpoint(binary, url).await?;
    }
    if wanted("loaded") {
        let loaded = loaded::measure(binary, url).await?;
        report_loaded(&loaded);
    }
    if wanted("interactions") {
        endpoint_load::bench(binary, url).await?;
    }
    Ok(())
}

/// Startup to ready, idle memory and scrape cost (parts 1-3).
async fn endpoint(binary: &Path, url: &str) -> anyhow::Result<()> {
    let scrapes: usize = std::env::var("CONFBOT_BENCH_SCRAPES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    migrate(binary, url).await?;

    let mut startup = Samples::default();
    let mut idle_rss = 0;
    let mut metrics = Samples::default();
    let mut health = Samples::default();
    let mut page_bytes = 0;
    for start in 0..STARTS {
        let mut bot = Bot::spawn(binary, url, &[], None).await?;
        startup.push(bot.ready_after);
        if start == 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            idle_rss = memory(bot.pid, "VmRSS")?;
            let client = reqwest::Client::builder().no_proxy().build()?;
            for _ in 0..scrapes {
                let took = Instant::now();
                let page = get(&client, bot.port, "/metrics").await?;
                metrics.push(took.elapsed());
                page_bytes = page.len();
            }
            for _ in 0..scrapes {
                let took = Instant::now();
                get(&client, bot.port, "/healthz").await?;
                health.push(took.elapsed());
            }
        }
        bot.stop().await?;
    }

    println!("## confbot run: operations ({STARTS} starts, {scrapes} scrapes)\n");
    print_latencies(&[
        ("startup to first command answered", &startup),
        ("GET /metrics (new connection each)", &metrics),
        ("GET /healthz (new connection each)", &health),
    ]);
    println!("\nRSS idle (ready, one command answered, 2 s quiet): {idle_rss} kB");
    println!("/metrics page: {page_bytes} bytes");
    Ok(())
}

fn report_loaded(loaded: &loaded::Loaded) {
    let mb = |kb: u64| format!("{:.1}", kb as f64 / 1024.0);
    println!("\n## confbot run: memory with 10,000 talks and 100,000 subscriptions\n");
    println!("| moment | VmRSS (MB) | of which RssAnon (MB) |");
    println!("| --- | ---: | ---: |");
    for (moment, rss, anon) in &loaded.rows {
        println!("| {moment} | {} | {} |", mb(*rss), mb(*anon));
    }
    println!(
        "| highest VmRSS sampled (every 20 ms) during the reconciliation | {} | |",
        mb(loaded.sweep_max)
    );
    println!("| peak over the run (VmHWM) | {} | |", mb(loaded.peak));
    println!(
        "\nOutbox rows planned: {} (pending, none sent); subscriptions committed -> outbox \
         filled: {:.2} s; reconciliation of the whole plan seen for {}; first command's \
         response type {}.",
        loaded.expected,
        loaded.plan_took.as_secs_f64(),
        loaded.sweep_took.map_or("-".to_owned(), |took| format!(
            "{:.2} s",
            took.as_secs_f64()
        )),
        loaded.first_command_kind
    );
    let clicks = &loaded.clicks;
    let mut answers = Samples::default();
    for took in &clicks.answers {
        answers.push(*took);
    }
    println!(
        "\n{} \"Remind me\" clicks by new subscribers, {} at a time:\n",
        loaded::CLICKS,
        loaded::CLICKS_AT_ONCE
    );
    print_latencies(&[("click -> answer at the stand-in", &answers)]);
    let per_click = |seconds: f64| seconds * 1000.0 / loaded::CLICKS as f64;
    println!(
        "\nLast answer -> every click's reminder in the outbox: {:.2} s. CPU per click until \
         then: bot {:.1} ms, PostgreSQL {:.1} ms.",
        clicks.planned_after.as_secs_f64(),
        per_click(clicks.bot_cpu),
        per_click(clicks.database_cpu)
    );
}

/// A markdown table of latencies: count, p50, p99 and maximum in milliseconds.
fn print_latencies(rows: &[(&str, &Samples)]) {
    println!("| measurement | n | p50 ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (what, samples) in rows {
        println!(
            "| {what} | {} | {} | {} | {} |",
            samples.len(),
            ms(samples.p50()),
            ms(samples.p99()),
            ms(samples.max())
        );
    }
}

/// `target/bench-data`, next to the other benchmarks' output.
fn bench_data(binary: &Path) -> PathBuf {
    let dir = binary
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("."), |target| target.join("bench-data"));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// A running `confbot run` with its endpoint on `port`.
struct Bot {
    child: tokio::process::Child,
    pid: u32,
    port: u16,
    ready_after: Duration,
    standin: standin::StandIn,
}

impl Bot {
    /// Starts the binary (with `extra` settings, logging to `log` or nowhere) and returns
    /// once its first command was answered.
    async fn spawn(
        binary: &Path,
        url: &str,
        extra: &[(&str, &str)],
        log: Option<&Path>,
    ) -> anyhow::Result<Bot> {
        let standin = standin::StandIn::start().await;
        // A free port: bound, read, released (nothing else on this machine races for it).
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = clean_command(binary);
        let stderr = match log {
            Some(path) => Stdio::from(
                std::fs::File::create(path).with_context(|| format!("creating {path:?}"))?,
            ),
            None => Stdio::null(),
        };
        let spawned = Instant::now();
        let child = command
            .arg("run")
            .env_remove("RUST_LOG")
            .env("DISCORD_TOKEN", "stand-in-token")
            .env("DATABASE_URL", url)
            .env("CONFBOT__DISCORD__PROXY_URL", standin.url())
            .env(
                "CONFBOT__DISCORD__GUILD_IDS",
                format!("[{}]", payloads::GUILD_ID),
            )
            .env("CONFBOT__HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .env("CONFBOT__LOG__LEVEL", "warn")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .context("starting confbot run")?;
        let pid = child.id().context("confbot exited at once")?;
        // Queued right after the bot identifies, so it is handled right after READY.
        standin
            .send_interaction(payloads::slash(1, "bench-first", "help", &[]))
            .await;
        standin
            .wait_for("the first callback", |r| {
                r.path.ends_with("/bench-first/callback")
            })
            .await;
        Ok(Bot {
            child,
            pid,
            port,
            ready_after: spawned.elapsed(),
            standin,
        })
    }

    async fn stop(&mut self) -> anyhow::Result<()> {
        terminate(&mut self.child, self.pid, "confbot run").await
    }
}

/// Applies the migrations once, so every start measured afterwards is a start, not a
/// first migrate.
async fn migrate(binary: &Path, url: &str) -> anyhow::Result<()> {
    let status = clean_command(binary)
        .arg("migrate")
        .env("DATABASE_URL", url)
        .stdout(Stdio::null())
        .status()
        .await?;
    anyhow::ensure!(status.success(), "confbot migrate failed");
    Ok(())
}

/// The binary with none of this shell's confbot, database or Discord settings.
fn clean_command(binary: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(binary);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CONFBOT") || key == "DATABASE_URL" || key.starts_with("DISCORD_") {
            command.env_remove(key);
        }
    }
    command
}

/// SIGTERM, then a clean exit within 10 s or an error naming `what`.
async fn terminate(child: &mut tokio::process::Child, pid: u32, what: &str) -> anyhow::Result<()> {
    let pid = libc::pid_t::try_from(pid)?;
    // SAFETY: signals the child this benchmark started and still owns.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await??;
    if !status.success() {
        bail!("{what} exited with {status}");
    }
    Ok(())
}

async fn get(client: &reqwest::Client, port: u16, path: &str) -> anyhow::Result<String> {
    let response = client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    Ok(response.text().await?)
}

fn memory(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}
