//! The recorders behind `/metrics`, on the official `prometheus-client` crate (OpenMetrics
//! text). The Discord adapter and the scheduler record here; `ops::page` registers what they
//! hold and encodes it at each scrape.
//!
//! On the hot paths (a command answered, a post sent) every series is resolved when its
//! recorder is made, from a fixed set of names: recording is a lookup in a small map and the
//! crate's `inc` and `observe` (tens of nanoseconds, BENCHMARKS.md; `observe` takes the
//! series' own short lock), never `Family::get_or_create`, so nothing a client sends can add
//! a series either. The crate writes label values unescaped: every one here is a fixed name.
//!
//! A leaf module.

use std::collections::BTreeMap;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Upper bounds (seconds) for answer latencies: Discord's deadline is 3 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0,
];
/// Upper bounds (seconds) for how late a post went out: within a second is the promise,
/// minutes means downtime or rate limits.
pub const LATENESS_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// The content type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Histograms with fixed upper bounds (plus the implicit `+Inf`), as a family makes them.
#[derive(Debug, Clone, Copy)]
pub struct Buckets(pub &'static [f64]);

impl Buckets {
    pub fn histogram(self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        self.histogram()
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabel {
    command: &'static str,
}

/// One command's series: answered, and how long each answer took.
#[derive(Debug, Clone)]
struct Series {
    answered: Counter,
    took: Histogram,
}

/// Counts and latencies keyed by a name from a fixed set (the registered commands); names
/// outside it count as `other`.
#[derive(Debug)]
pub struct ByCommand {
    answered: Family<CommandLabel, Counter>,
    took: Family<CommandLabel, Histogram, Buckets>,
    /// The families' series, resolved once: the hot path never takes the families' locks.
    series: BTreeMap<&'static str, Series>,
    other: Series,
}

impl ByCommand {
    pub fn new(names: impl IntoIterator<Item = &'static str>, bounds: &'static [f64]) -> Self {
        let answered = Family::<CommandLabel, Counter>::default();
        let took = Family::new_with_constructor(Buckets(bounds));
        // Every series exists from the start, so a command never used reads 0, not absent.
        let resolve = |command: &'static str| {
            let label = CommandLabel { command };
            let series = Series {
                answered: answered.get_or_create(&label).clone(),
                took: took.get_or_create(&label).clone(),
            };
            (command, series)
        };
        let series: BTreeMap<_, _> = names.into_iter().map(resolve).collect();
        let (_, other) = resolve("other");
        Self {
            answered,
            took,
            series,
            other,
        }
    }

    pub fn observe(&self, name: &str, took: Duration) {
        let series = self.series.get(name).unwrap_or(&self.other);
        series.answered.inc();
        series.took.observe(took.as_secs_f64());
    }

    /// How many of each were answered, by name, `other` last.
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        let named = self
            .series
            .iter()
            .map(|(name, s)| (*name, s.answered.get()));
        named
            .chain(std::iter::once(("other", self.other.answered.get())))
            .collect()
    }

    /// Registers the counter as `<answered.0>_total` and the histogram as
    /// `<took.0>_seconds`, both labelled `command`, each with its help text.
    pub fn register(&self, registry: &mut Registry, answered: [&str; 2], took: [&str; 2]) {
        let [name, help] = answered;
        registry.register(name, help, self.answered.clone());
        let [name, help] = took;
        registry.register_with_unit(name, help, Unit::Seconds, self.took.clone());
    }
}

/// The registry's OpenMetrics text, ended by `# EOF`.
pub fn encode(registry: &Registry) -> String {
    let mut text = String::new();
    // Writing into a `String` cannot fail; the encoder reports only the writer's errors.
    let _ = prometheus_client::encoding::text::encode(&mut text, registry);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_counts_from_zero_and_unknown_names_count_as_other() {
        let commands = ByCommand::new(["talk", "next"], LATENCY_BUCKETS);
        commands.observe("talk", Duration::from_millis(3));
        commands.observe("drop table", Duration::from_millis(3));

        assert_eq!(commands.counts(), [("next", 0), ("talk", 1), ("other", 1)]);
    }

    #[test]
    fn the_page_has_a_counter_and_a_cumulative_histogram_per_command() {
        let commands = ByCommand::new(["talk"], &[0.1, 1.0]);
        for millis in [50, 100, 700, 3_000] {
            commands.observe("talk", Duration::from_millis(millis));
        }
        let mut registry = Registry::with_prefix("x");
        let answered = ["commands", "Answered"];
        commands.register(&mut registry, answered, ["command_duration", "Took"]);
        let text = encode(&registry);

        let lines: Vec<&str> = text.lines().collect();
        for expected in [
            "# TYPE x_commands counter",
            "x_commands_total{command=\"talk\"} 4",
            "x_commands_total{command=\"other\"} 0",
            "# TYPE x_command_duration_seconds histogram",
            "# UNIT x_command_duration_seconds seconds",
            "x_command_duration_seconds_bucket{le=\"0.1\",command=\"talk\"} 2",
            "x_command_duration_seconds_bucket{le=\"1.0\",command=\"talk\"} 3",
            "x_command_duration_seconds_bucket{le=\"+Inf\",command=\"talk\"} 4",
            "x_command_duration_seconds_sum{command=\"talk\"} 3.85",
            "x_command_duration_seconds_count{command=\"talk\"} 4",
        ] {
            assert!(lines.contains(&expected), "{expected} in\n{text}");
        }
        assert_eq!(lines.last(), Some(&"# EOF"));
    }
}
