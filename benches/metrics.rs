//! What recording one event costs, behind BENCHMARKS.md: `cargo bench --bench metrics`.
//!
//! Issue 15 asks for the official `prometheus-client` crate for the metrics page unless it
//! costs the command or delivery hot path more than a microsecond per event. An event there
//! is one latency observed into a histogram chosen by command name (a command answered, a
//! post delivered). This measures, per event, in this process, no I/O:
//! - confbot's recorder (`confbot::metrics::ByCommand::observe`: a lookup by name in a fixed
//!   map of series resolved at start, then `prometheus-client`'s `Counter::inc` and
//!   `Histogram::observe`);
//! - `prometheus-client`'s `Family` used directly: `get_or_create` by the command label then
//!   `observe` (a read lock on the family, a write lock on the series);
//! - `prometheus-client`'s `Histogram::observe` alone, the series resolved beforehand;
//!
//! (Before the move to `prometheus-client`, the first row was confbot's hand-written
//! recorder; BENCHMARKS.md has both builds side by side.)
//!
//! each on one thread, and on two threads recording into the same series at once (the
//! machine's two cores: the contended case). `CONFBOT_BENCH_EVENTS` (default 2,000,000)
//! events per measurement, five runs each; the median run is reported.

use std::time::{Duration, Instant};

use confbot::discord::registry;
use confbot::metrics::{ByCommand, LATENCY_BUCKETS};
use prometheus_client::metrics::family::Family as ClientFamily;
use prometheus_client::metrics::histogram::Histogram as ClientHistogram;

type Labels = Vec<(&'static str, &'static str)>;

const RUNS: usize = 5;

fn main() {
    let events: usize = std::env::var("CONFBOT_BENCH_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000_000);
    let took = Duration::from_micros(1_500);

    // The registered commands, as the bot's telemetry keys them.
    let commands: Vec<&'static str> = registry::commands().iter().map(|c| c.name).collect();
    let own = ByCommand::new(commands.iter().copied(), LATENCY_BUCKETS);
    let client: ClientFamily<Labels, ClientHistogram, fn() -> ClientHistogram> =
        ClientFamily::new_with_constructor(|| {
            ClientHistogram::new(LATENCY_BUCKETS.iter().copied())
        });
    let labels: Vec<(&str, Labels)> = commands
        .iter()
        .map(|name| (*name, vec![("command", *name)]))
        .collect();
    for (_, label) in &labels {
        let _ = client.get_or_create(label);
    }
    let talk = labels
        .iter()
        .find(|(name, _)| *name == "talk")
        .map(|(_, label)| label.clone())
        .unwrap_or_default();
    let resolved = client.get_or_create(&talk).clone();

    let own_event = || own.observe("talk", took);
    let client_event = || {
        let label = labels
            .iter()
            .find(|(name, _)| *name == "talk")
            .map(|(_, label)| label);
        if let Some(label) = label {
            client.get_or_create(label).observe(took.as_secs_f64());
        }
    };
    let resolved_event = || resolved.observe(took.as_secs_f64());

    println!("## Recording one latency event ({events} events per run, median of {RUNS} runs)\n");
    println!("| recorder | 1 thread, ns/event | 2 threads on one series, ns/event |");
    println!("| --- | ---: | ---: |");
    row("confbot::metrics::ByCommand::observe", events, &own_event);
    row(
        "prometheus-client Family::get_or_create + observe",
        events,
        &client_event,
    );
    row(
        "prometheus-client Histogram::observe (series resolved)",
        events,
        &resolved_event,
    );
}

fn row(name: &str, events: usize, event: &(impl Fn() + Sync)) {
    let single = median(|| {
        let started = Instant::now();
        for _ in 0..events {
            event();
        }
        started.elapsed()
    });
    let pair = median(|| {
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    for _ in 0..events / 2 {
                        event();
                    }
                });
            }
        });
        started.elapsed()
    });
    let per = |took: Duration| took.as_nanos() as f64 / events as f64;
    println!("| {name} | {:.1} | {:.1} |", per(single), per(pair));
}

fn median(mut run: impl FnMut() -> Duration) -> Duration {
    let mut runs: Vec<Duration> = (0..RUNS).map(|_| run()).collect();
    runs.sort_unstable();
    runs[RUNS / 2]
}
