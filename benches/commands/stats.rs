//! Latency samples and their percentiles.

use std::time::Duration;

/// The durations measured for one thing.
#[derive(Default, Clone)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn push(&mut self, took: Duration) {
        self.0.push(took);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The nearest-rank percentile `p` (0-100); zero without samples.
    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    pub fn p50(&self) -> Duration {
        self.percentile(50.0)
    }

    pub fn p99(&self) -> Duration {
        self.percentile(99.0)
    }

    pub fn max(&self) -> Duration {
        self.0.iter().copied().max().unwrap_or_default()
    }
}

/// A duration in milliseconds with three decimals (microsecond resolution).
pub fn ms(took: Duration) -> String {
    format!("{:.3}", took.as_secs_f64() * 1000.0)
}

/// One latency row: the thing, its sample count, p50, p99, max, target and verdict.
pub struct Row {
    pub what: String,
    pub samples: Samples,
    /// (p50 limit, p99 limit); `None` where the issue sets none.
    pub target: (Option<Duration>, Option<Duration>),
}

impl Row {
    /// Whether every limit the issue sets holds.
    pub fn met(&self) -> bool {
        let (p50, p99) = self.target;
        p50.map_or(true, |limit| self.samples.p50() < limit)
            && p99.map_or(true, |limit| self.samples.p99() < limit)
    }

    fn target_text(&self) -> String {
        match self.target {
            (Some(p50), Some(p99)) => format!("p50 < {} ms, p99 < {} ms", ms0(p50), ms0(p99)),
            (None, Some(p99)) => format!("p99 < {} ms", ms0(p99)),
            (Some(p50), None) => format!("p50 < {} ms", ms0(p50)),
            (None, None) => "-".to_owned(),
        }
    }
}

fn ms0(took: Duration) -> String {
    format!("{}", took.as_millis())
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Interaction | n | p50 (ms) | p99 (ms) | max (ms) | Target | Met |\n\
         |---|---:|---:|---:|---:|---|---|\n",
    );
    for row in rows {
        let verdict = match row.target {
            (None, None) => "-",
            _ if row.met() => "yes",
            _ => "**no**",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            row.what,
            row.samples.len(),
            ms(row.samples.p50()),
            ms(row.samples.p99()),
            ms(row.samples.max()),
            row.target_text(),
            verdict
        ));
    }
    out
}
