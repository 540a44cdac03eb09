//! The benchmark's Markdown report, ready to paste into BENCHMARKS.md.

use std::fmt::Write as _;
use std::time::Duration;

use super::measure::{megabytes, secs};
use super::{Enrichment, FormatResult};

/// The targets.
const STORE_TARGET: Duration = Duration::from_secs(1);
const REIMPORT_TARGET: Duration = Duration::from_millis(300);
const MEMORY_TARGET: u64 = 100_000_000;

/// What the report is made of.
pub struct Context<'a> {
    pub talks: usize,
    pub runs: usize,
    pub database: String,
    pub machine: Vec<(String, String)>,
    pub results: &'a [FormatResult],
    pub enrichment: Option<&'a Enrichment>,
}

pub fn markdown(ctx: &Context<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Import of {} talks ({} runs each, min / median)\n",
        ctx.talks, ctx.runs
    );
    for (key, value) in &ctx.machine {
        let _ = writeln!(out, "- {key}: {value}");
    }
    let _ = writeln!(out, "- database: {}\n", ctx.database);

    out.push_str(
        "| format | file | parse | parse + store (first import) | re-import (unchanged) | \
         peak RSS, whole `confbot import` (first / re-import) | CLI wall time (first / re-import) |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in ctx.results {
        let (rss, wall) = match r.process {
            Some((a, b)) => (
                format!("{} / {}", megabytes(a.peak_rss), megabytes(b.peak_rss)),
                format!("{} / {} s", secs(a.wall), secs(b.wall)),
            ),
            None => ("n/a".into(), "n/a".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {rss} | {wall} |",
            r.format,
            megabytes(r.file_bytes as u64),
            r.parse.cell(),
            r.first.cell(),
            r.reimport.cell(),
        );
    }
    if let Some(e) = ctx.enrichment {
        let _ = writeln!(
            out,
            "| text after ics (enriches {} talks) | | | {} | {} | | |",
            e.changed,
            e.first.cell(),
            e.reimport.cell()
        );
    }

    out.push_str(
        "\n#### Where the time goes (one run each, seconds)\n\n\
         | format | import | parse | upsert | load stored | plan (diff) | write (SQL) | diff JSON | commit | sum |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in ctx.results {
        for (label, p) in [
            ("first", &r.first_phases),
            ("re-import", &r.reimport_phases),
        ] {
            let _ = writeln!(
                out,
                "| {} | {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.format,
                secs(p.parse),
                secs(p.upsert),
                secs(p.load),
                secs(p.plan),
                secs(p.write),
                secs(p.diff_json),
                secs(p.commit),
                secs(p.total())
            );
        }
    }

    out.push_str("\n#### Targets (medians; memory: the larger of first and re-import)\n\n");
    out.push_str("| target | worst format | result |\n|---|---|---|\n");
    let worst = |pick: fn(&FormatResult) -> Duration| {
        ctx.results
            .iter()
            .map(|r| (pick(r), r.format.as_str()))
            .max_by_key(|(d, _)| *d)
    };
    if let Some((d, f)) = worst(|r| r.first.median()) {
        let _ = writeln!(
            out,
            "| parse + store < 1 s | {f}: {} s | {} |",
            secs(d),
            verdict(d, STORE_TARGET)
        );
    }
    if let Some((d, f)) = worst(|r| r.reimport.median()) {
        let _ = writeln!(
            out,
            "| re-import unchanged < 0.3 s | {f}: {} s | {} |",
            secs(d),
            verdict(d, REIMPORT_TARGET)
        );
    }
    let memory = ctx
        .results
        .iter()
        .filter_map(|r| {
            r.process
                .map(|(a, b)| (a.peak_rss.max(b.peak_rss), r.format.as_str()))
        })
        .max_by_key(|(m, _)| *m);
    if let Some((m, f)) = memory {
        let result = if m < MEMORY_TARGET {
            "met".to_owned()
        } else {
            format!(
                "**not met** ({:.1}x the target)",
                m as f64 / MEMORY_TARGET as f64
            )
        };
        let _ = writeln!(
            out,
            "| import memory < 100 MB | {f}: {} | {result} |",
            megabytes(m)
        );
    }
    out
}

fn verdict(measured: Duration, target: Duration) -> String {
    if measured < target {
        "met".into()
    } else {
        format!(
            "**not met** ({:.1}x the target)",
            measured.as_secs_f64() / target.as_secs_f64()
        )
    }
}
