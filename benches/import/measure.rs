//! Timing statistics, the peak memory of a child `confbot import`, and what machine ran it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The runs of one measurement.
#[derive(Debug, Clone, Default)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    pub fn min(&self) -> Duration {
        self.0.iter().copied().min().unwrap_or_default()
    }

    /// The median (the lower middle one for an even count: never flattered by averaging).
    pub fn median(&self) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted
            .get(sorted.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or_default()
    }

    /// `0.412 / 0.430 s`.
    pub fn cell(&self) -> String {
        if self.0.is_empty() {
            return "n/a".into();
        }
        format!("{} / {} s", secs(self.min()), secs(self.median()))
    }
}

pub fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Times an async step.
pub async fn timed<T, F: std::future::Future<Output = T>>(f: F) -> (T, Duration) {
    let start = Instant::now();
    let value = f.await;
    (value, start.elapsed())
}

/// What one `confbot import` process used.
#[derive(Debug, Clone, Copy)]
pub struct ProcessCost {
    /// Peak resident set size in bytes.
    pub peak_rss: u64,
    pub wall: Duration,
}

/// The flag that turns the benchmark executable into the small spawner of [`spawner_main`].
pub const SPAWNER_FLAG: &str = "--spawn-and-measure";

/// Runs the release binary as `confbot import FILE --conference SLUG` against `database_url`
/// and returns its peak RSS (`ru_maxrss` from `wait4`): the whole process, runtime and
/// connection pool included, not just the parser's allocations.
///
/// Why through a spawner: on Linux a process's `ru_maxrss` starts from the high-water mark
/// of the memory image it replaced at `exec`, i.e. of the process that forked it. Spawned
/// from this benchmark, which holds all generated files in memory, confbot would be charged
/// for them. So a fresh, small copy of this executable ([`spawner_main`]) forks confbot and
/// reports its rusage.
pub fn import_process(
    binary: &Path,
    file: &Path,
    slug: &str,
    database_url: &str,
) -> anyhow::Result<ProcessCost> {
    let exe = std::env::current_exe().context("locating the benchmark executable")?;
    let output = Command::new(exe)
        .arg(SPAWNER_FLAG)
        .arg(binary)
        .arg("import")
        // The full path even for the re-import: an identical source would be skipped.
        .arg("--force")
        .arg(file)
        .args(["--conference", slug])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .env_remove("CONFBOT_CONFIG")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("starting the measuring spawner")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "`confbot import {}` failed: {}",
            file.display(),
            text.trim()
        );
    }
    let mut words = text.split_whitespace();
    let (Some(kib), Some(micros)) = (
        words.next().and_then(|w| w.parse::<u64>().ok()),
        words.next().and_then(|w| w.parse::<u64>().ok()),
    ) else {
        bail!("the spawner printed {text:?}, not \"KIB MICROSECONDS\"");
    };
    Ok(ProcessCost {
        peak_rss: kib * 1024,
        wall: Duration::from_micros(micros),
    })
}

/// `import --spawn-and-measure PROGRAM ARGS...`: runs PROGRAM (stdout discarded), waits for
/// it with `wait4` and prints `PEAK_RSS_KIB WALL_MICROSECONDS`. Exits non-zero when PROGRAM
/// fails.
pub fn spawner_main(mut args: impl Iterator<Item = std::ffi::OsString>) -> anyhow::Result<()> {
    let program = args.next().context("no program to measure")?;
    let start = Instant::now();
    let child = Command::new(&program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", program.to_string_lossy()))?;
    let pid = libc::pid_t::try_from(child.id()).context("child pid out of range")?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data, so an all-zero value is valid; `wait4` writes into
    // the two locals only, and `pid` is our own unreaped child (std's `Child` does not reap
    // on drop, so nothing else waits for it).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if waited != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("exited with wait status {status}");
    }
    // Linux reports ru_maxrss in KiB.
    println!("{} {}", usage.ru_maxrss, wall.as_micros());
    Ok(())
}

/// `nproc`, the CPU model, the kernel and the compiler: enough to compare runs.
pub fn machine() -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map_or_else(String::new, |v| v.trim().to_owned());
    let command_line = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned())
    };
    vec![
        ("CPU".into(), format!("{model} ({cores} cores available)")),
        ("memory".into(), memory),
        ("kernel".into(), command_line("uname", &["-sr"])),
        ("rustc".into(), command_line("rustc", &["--version"])),
    ]
}

/// Bytes as `12.3 MB` (decimal megabytes, as the 100 MB target is stated).
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
