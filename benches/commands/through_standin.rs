//! The built `confbot run` against the Discord stand-in of the integration tests, started as
//! an operator would start it: latency from INTERACTION_CREATE on the websocket to the
//! callback POST at the stand-in, and the process's resident memory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::Value;

use super::payloads::{self, APP_ID, GUILD_ID};
use super::standin::StandIn;
use super::stats::Samples;

/// The least time between two interactions, and how long the stand-in's request log is left
/// alone after sending one. Both keep the stand-in out of the measurement:
/// - its request log is one mutex, and `wait_for` clones the whole log while holding it; a
///   callback arriving meanwhile gets its arrival time only after the clone (milliseconds
///   once the log holds thousands of requests);
/// - its gateway socket does not set TCP_NODELAY, and the bot acknowledges a dispatch with a
///   (delayed, 40 ms) TCP ACK only: a second dispatch sent sooner waits for that ACK (Nagle).
///
/// `CONFBOT_BENCH_GAP_MS` overrides it (0 shows both effects).
const GAP: Duration = Duration::from_millis(50);

fn gap() -> Duration {
    std::env::var("CONFBOT_BENCH_GAP_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(GAP, Duration::from_millis)
}

/// One kind of interaction to send, with the options of each one sent.
pub struct Batch {
    pub label: String,
    pub command: &'static str,
    /// `Some(option)`: autocomplete requests with that option focused.
    pub focused: Option<&'static str>,
    pub options: Vec<Vec<(String, String)>>,
}

/// Resident memory of the process, in kB, at three moments.
pub struct Memory {
    /// Connected and commands registered, before any interaction.
    pub started: u64,
    /// Just after the first command (which loads the programme).
    pub after_first: u64,
    /// After every measured interaction and five idle seconds.
    pub idle: u64,
    /// The peak (VmHWM) over the whole run.
    pub peak: u64,
}

/// What the run measured.
pub struct Measured {
    pub first_command: Samples,
    pub batches: Vec<(String, Samples)>,
    /// Responses that were deferrals (type 5) rather than answers.
    pub deferred: usize,
    pub memory: Memory,
}

/// Runs `binary` against a fresh stand-in and measures `batches` one interaction at a time.
pub async fn measure(
    binary: &Path,
    database_url: &str,
    conference: &str,
    batches: &[Batch],
    log: &Path,
) -> anyhow::Result<Measured> {
    let standin = StandIn::start().await;
    let log_file = std::fs::File::create(log).with_context(|| format!("creating {log:?}"))?;
    let mut bot = tokio::process::Command::new(binary);
    // None of the caller's own confbot settings: only what an operator would set here.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CONFBOT") || key == "DATABASE_URL" || key == "DISCORD_TOKEN" {
            bot.env_remove(key);
        }
    }
    let mut bot = bot
        .arg("run")
        .env_remove("RUST_LOG")
        .env("DISCORD_TOKEN", "stand-in-token")
        .env("DATABASE_URL", database_url)
        .env("CONFBOT__DISCORD__PROXY_URL", standin.url())
        .env("CONFBOT__DISCORD__GUILD_IDS", format!("[{GUILD_ID}]"))
        .env("CONFBOT__DEFAULTS__CONFERENCE", conference)
        .stdout(Stdio::null())
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {binary:?}"))?;
    let pid = bot.id().context("confbot exited at once")?;

    let registration = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
    standin
        .wait_for("command registration", |r| r.is("PUT", &registration))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = memory(pid, "VmRSS")?;

    let mut next_id = 100_000_u64;
    let mut deferred = 0;
    let mut first_command = Samples::default();
    let (latency, kind) = exchange(&standin, &mut next_id, "next", None, &[]).await;
    first_command.push(latency);
    deferred += usize::from(kind == 5);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_first = memory(pid, "VmRSS")?;

    let mut measured = Vec::new();
    for batch in batches {
        let mut samples = Samples::default();
        for options in &batch.options {
            let (latency, kind) = exchange(
                &standin,
                &mut next_id,
                batch.command,
                batch.focused,
                options,
            )
            .await;
            samples.push(latency);
            deferred += usize::from(kind == 5);
            // A paged /schedule sends follow-ups after its response: let them go out before
            // the next interaction, so each one is measured alone.
            if batch.command == "schedule" {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        measured.push((batch.label.clone(), samples));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = memory(pid, "VmRSS")?;
    let peak = memory(pid, "VmHWM")?;

    stop(&mut bot, pid).await?;
    Ok(Measured {
        first_command,
        batches: measured,
        deferred,
        memory: Memory {
            started,
            after_first,
            idle,
            peak,
        },
    })
}

/// Sends one interaction and waits for its callback; returns the time from injection to the
/// callback's arrival (both taken by the stand-in) and the callback's response type.
async fn exchange(
    standin: &StandIn,
    next_id: &mut u64,
    command: &str,
    focused: Option<&str>,
    options: &[(String, String)],
) -> (Duration, u64) {
    *next_id += 1;
    let id = *next_id;
    let token = format!("bench-{id}");
    let options: Vec<(&str, &str)> = options
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let payload = match focused {
        Some(option) => payloads::autocomplete(id, &token, command, &options, option),
        None => payloads::slash(id, &token, command, &options),
    };
    let sent = standin.send_interaction(payload).await;
    // Not looking before GAP: see its docs.
    tokio::time::sleep(gap()).await;
    let suffix = format!("/{token}/callback");
    let callback = standin
        .wait_for("interaction callback", |r| {
            r.method == "POST" && r.path.ends_with(&suffix)
        })
        .await;
    let kind = callback.body.get("type").and_then(Value::as_u64);
    (callback.at.duration_since(sent), kind.unwrap_or(0))
}

/// A `/proc/<pid>/status` memory line (`VmRSS`, `VmHWM`) in kB.
fn memory(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// SIGTERM, as `docker stop` sends it; the bot must exit cleanly within ten seconds.
async fn stop(bot: &mut tokio::process::Child, pid: u32) -> anyhow::Result<()> {
    let pid = libc::pid_t::try_from(pid)?;
    // SAFETY: signals the child this benchmark started and still owns.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        bail!("could not signal confbot");
    }
    let status = tokio::time::timeout(Duration::from_secs(10), bot.wait())
        .await
        .context("confbot did not exit within 10 s of SIGTERM")??;
    if !status.success() {
        bail!("confbot exited with {status}");
    }
    Ok(())
}

/// Where the bot's log goes: next to the other benchmark output.
pub fn log_path(binary: &Path) -> PathBuf {
    let dir = binary
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("."), |target| target.join("bench-data"));
    let _ = std::fs::create_dir_all(&dir);
    dir.join("commands-confbot.log")
}
