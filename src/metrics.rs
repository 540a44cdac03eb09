//! Metric primitives and the Prometheus text format, by hand: counters are atomics and
//! histograms have fixed buckets, so recording costs a few relaxed atomic adds and no lock
//! on the hot paths (a command answered, a reminder sent). A crate (`prometheus-client`)
//! would add a registry and label machinery that a dozen fixed series do not need.
//!
//! A leaf module: the Discord adapter and the scheduler record here, `ops` renders.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) for answer latencies: Discord's deadline is 3 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0,
];
/// Upper bounds (seconds) for how late a post went out: within a second is the promise,
/// minutes means downtime or rate limits.
pub const LATENESS_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// A histogram with fixed upper bounds (plus the implicit `+Inf`).
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound plus `+Inf`; not cumulative (the encoder sums them).
    buckets: Box<[AtomicU64]>,
    /// Sum of observations in microseconds: integer atomics, exact enough for seconds.
    sum_micros: AtomicU64,
}

/// A point-in-time copy of a histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    pub bounds: &'static [f64],
    /// Cumulative counts per bound, then the total (`+Inf`).
    pub cumulative: Vec<u64>,
    pub sum_seconds: f64,
}

impl HistogramSnapshot {
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: Duration) {
        let seconds = value.as_secs_f64();
        let index = self
            .bounds
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(self.bounds.len());
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The counts now. Buckets are read one by one, so a scrape racing an observation may
    /// see it in `sum` and not yet in a bucket; Prometheus tolerates that.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut total = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|bucket| {
                total += bucket.load(Ordering::Relaxed);
                total
            })
            .collect();
        HistogramSnapshot {
            bounds: self.bounds,
            cumulative,
            #[allow(clippy::cast_precision_loss)] // microseconds: exact below 2^53
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// Latency histograms keyed by a name from a fixed set (the registered commands), so
/// nothing a client sends can grow the set of series; names outside it count as `other`.
#[derive(Debug)]
pub struct Family {
    series: BTreeMap<&'static str, Histogram>,
    other: Histogram,
}

impl Family {
    pub fn new(names: impl IntoIterator<Item = &'static str>, bounds: &'static [f64]) -> Self {
        Self {
            series: names
                .into_iter()
                .map(|name| (name, Histogram::new(bounds)))
                .collect(),
            other: Histogram::new(bounds),
        }
    }

    pub fn observe(&self, name: &str, value: Duration) {
        self.series.get(name).unwrap_or(&self.other).observe(value);
    }

    /// Every series by name, `other` last.
    pub fn snapshot(&self) -> Vec<(&'static str, HistogramSnapshot)> {
        self.series
            .iter()
            .map(|(name, histogram)| (*name, histogram.snapshot()))
            .chain(std::iter::once(("other", self.other.snapshot())))
            .collect()
    }
}

/// Writes the Prometheus text exposition format (version 0.0.4).
#[derive(Debug, Default)]
pub struct Encoder {
    text: String,
}

/// The content type of [`Encoder`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Encoder {
    /// `# HELP` and `# TYPE` lines; call once per metric, before its samples.
    pub fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", help.replace('\n', " "));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    /// One sample line.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (index, (key, value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{key}=\"{}\"", escape(value));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
    }

    /// A histogram's `_bucket`, `_sum` and `_count` samples.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], value: &HistogramSnapshot) {
        let bucket = format!("{name}_bucket");
        for (index, count) in value.cumulative.iter().enumerate() {
            let le = value
                .bounds
                .get(index)
                .map_or_else(|| "+Inf".to_owned(), |bound| number(*bound));
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
            self.sample(&bucket, &with_le, *count as f64);
        }
        self.sample(&format!("{name}_sum"), labels, value.sum_seconds);
        #[allow(clippy::cast_precision_loss)]
        self.sample(&format!("{name}_count"), labels, value.count() as f64);
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// Label values escape backslash, quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Integers without a fraction, others as Rust prints them (shortest round-trip form).
fn number(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_each_observation_in_its_bucket_and_renders_cumulatively() {
        let histogram = Histogram::new(&[0.1, 1.0]);
        histogram.observe(Duration::from_millis(50));
        histogram.observe(Duration::from_millis(100));
        histogram.observe(Duration::from_millis(700));
        histogram.observe(Duration::from_secs(3));

        let mut encoder = Encoder::default();
        encoder.header("x_seconds", "histogram", "test");
        encoder.histogram("x_seconds", &[("command", "talk")], &histogram.snapshot());
        let text = encoder.finish();

        assert_eq!(
            text,
            "# HELP x_seconds test\n# TYPE x_seconds histogram\n\
             x_seconds_bucket{command=\"talk\",le=\"0.1\"} 2\n\
             x_seconds_bucket{command=\"talk\",le=\"1\"} 3\n\
             x_seconds_bucket{command=\"talk\",le=\"+Inf\"} 4\n\
             x_seconds_sum{command=\"talk\"} 3.85\n\
             x_seconds_count{command=\"talk\"} 4\n"
        );
    }

    #[test]
    fn a_family_keeps_unknown_names_in_other() {
        let family = Family::new(["talk", "next"], LATENCY_BUCKETS);
        family.observe("talk", Duration::from_millis(3));
        family.observe("drop table", Duration::from_millis(3));

        let counts: Vec<(&str, u64)> = family
            .snapshot()
            .iter()
            .map(|(name, snapshot)| (*name, snapshot.count()))
            .collect();

        assert_eq!(counts, [("next", 0), ("talk", 1), ("other", 1)]);
    }

    #[test]
    fn label_values_are_escaped() {
        let mut encoder = Encoder::default();
        encoder.sample("m", &[("l", "a\"b\\c\nd")], 1.5);
        assert_eq!(encoder.finish(), "m{l=\"a\\\"b\\\\c\\nd\"} 1.5\n");
    }
}
