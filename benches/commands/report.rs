//! The benchmark's Markdown report.

use std::fmt::Write as _;
use std::time::Duration;

use super::inprocess::{SnapshotCost, Steps, StoreCosts};
use super::stats::{ms, table, Row, Samples};
use super::through_standin::Measured;

/// The idle memory target of the issue, in kB (40 MB).
const IDLE_RSS_TARGET_KB: u64 = 40 * 1024;

/// Everything measured.
pub struct Inputs<'a> {
    pub embedded: bool,
    pub talks: usize,
    pub import_took: Duration,
    pub in_process: &'a [(String, Steps)],
    pub store: &'a StoreCosts,
    pub snapshot: &'a SnapshotCost,
    pub through: &'a Measured,
}

/// Targets from the issue: autocomplete p50 < 2 ms and p99 < 10 ms, the rest p99 < 20 ms.
fn target(label: &str) -> (Option<Duration>, Option<Duration>) {
    if label.contains("autocomplete") {
        (
            Some(Duration::from_millis(2)),
            Some(Duration::from_millis(10)),
        )
    } else {
        (None, Some(Duration::from_millis(20)))
    }
}

fn row(what: &str, samples: &Samples) -> Row {
    Row {
        what: what.to_owned(),
        samples: samples.clone(),
        target: target(what),
    }
}

pub fn render(inputs: &Inputs<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Machine: {}", machine());
    let _ = writeln!(
        out,
        "Database: {}; {} talks stored in {:.1} s.\n",
        if inputs.embedded {
            "embedded PostgreSQL (Unix socket)"
        } else {
            "CONFBOT_BENCH_DATABASE_URL"
        },
        inputs.talks,
        inputs.import_took.as_secs_f64()
    );

    let _ = writeln!(
        out,
        "### In the process: interaction received -> response serialised\n"
    );
    let rows: Vec<Row> = inputs
        .in_process
        .iter()
        .map(|(label, steps)| row(label, &steps.total))
        .collect();
    out.push_str(&table(&rows));

    let _ = writeln!(out, "\nWhere the time goes (p50 / p99, ms):\n");
    out.push_str(
        "| Interaction | parse | cache | command logic | render + JSON | JSON bytes (mean) |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for (label, steps) in inputs.in_process {
        let both = |s: &Samples| format!("{} / {}", ms(s.p50()), ms(s.p99()));
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} |",
            both(&steps.parse),
            both(&steps.cache),
            both(&steps.logic),
            both(&steps.render),
            steps.bytes / steps.total.len().max(1)
        );
    }
    let snapshot = inputs.snapshot;
    let _ = writeln!(
        out,
        "\nBehind the cache: the version query (at most once per second) p50 {} ms, p99 {} ms; \
         the cold load of the programme (first command after a start or an import) median {} ms, \
         of which `Programme::new` {} ms (`SearchIndex::build` alone: {} ms).\n",
        ms(inputs.store.version.p50()),
        ms(inputs.store.version.p99()),
        ms(inputs.store.load.p50()),
        ms(snapshot.build.p50()),
        ms(snapshot.index.p50())
    );
    let _ = writeln!(
        out,
        "Heap held by one snapshot: {} MB in all: the talks without their long texts {} MB, the \
         long texts (compacted) and other lookups {} MB, the search index {} MB. The talks as \
         loaded take {} MB, {} MB of it abstracts, descriptions and biographies. A cold load \
         holds {} MB of heap afterwards and up to {} MB while it runs (`Programme::new` alone: \
         up to {} MB).\n",
        mib(snapshot.programme_bytes),
        mib(snapshot.kept_talks_bytes),
        mib(snapshot
            .programme_bytes
            .saturating_sub(snapshot.kept_talks_bytes + snapshot.index_bytes)),
        mib(snapshot.index_bytes),
        mib(snapshot.talks_bytes),
        mib(snapshot.long_text_bytes),
        mib(inputs.store.load_heap),
        mib(inputs.store.load_peak),
        mib(snapshot.build_peak)
    );

    let through = inputs.through;
    let _ = writeln!(
        out,
        "### Through the stand-in: `confbot run` process, INTERACTION_CREATE sent -> callback received\n"
    );
    let mut rows: Vec<Row> = through
        .batches
        .iter()
        .map(|(label, samples)| row(label, samples))
        .collect();
    rows.push(Row {
        what: "first command (`/next`, loads the programme)".to_owned(),
        samples: through.first_command.clone(),
        target: (None, None),
    });
    out.push_str(&table(&rows));
    let _ = writeln!(
        out,
        "\nResponses that had to be deferred: {}.\n",
        through.deferred
    );

    let memory = &through.memory;
    let mb = |kb: u64| format!("{:.1}", kb as f64 / 1024.0);
    let _ = writeln!(out, "### Resident memory of `confbot run`\n");
    out.push_str("| Moment | VmRSS (MB) |\n|---|---:|\n");
    let _ = writeln!(
        out,
        "| connected, commands registered, no command yet | {} |",
        mb(memory.started)
    );
    let _ = writeln!(
        out,
        "| after the first command (10,000-talk programme loaded) | {} |",
        mb(memory.after_first)
    );
    let _ = writeln!(
        out,
        "| idle, after {} measured interactions and 5 s | {} |",
        through
            .batches
            .iter()
            .map(|(_, samples)| samples.len())
            .sum::<usize>(),
        mb(memory.idle)
    );
    let _ = writeln!(out, "| peak over the run (VmHWM) | {} |", mb(memory.peak));
    let _ = writeln!(
        out,
        "\nIdle RSS target < 40 MB: {}.",
        if memory.idle < IDLE_RSS_TARGET_KB {
            "met"
        } else {
            "**not met**"
        }
    );
    out
}

/// CPU model, core count and kernel, from /proc.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name")?.split(':').nth(1))
        .map_or("unknown CPU", str::trim)
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map_or_else(String::new, |kb| format!(", {} GB RAM", kb / 1024 / 1024));
    format!("{model}, {cores} cores{memory}, Linux {}", kernel.trim())
}

fn mib(bytes: usize) -> String {
    format!("{:.1}", bytes as f64 / 1024.0 / 1024.0)
}
