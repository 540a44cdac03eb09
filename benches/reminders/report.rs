//! The benchmark's Markdown: one row per scenario for lateness, the fan-out and the
//! stand-in's counts.

use std::fmt::Write as _;

use super::measure::{Measured, ALLOWED_PER_SECOND};
use super::stats::ms;

/// A one-line summary, printed as each scenario ends.
pub fn scenario_line(m: &Measured) -> String {
    format!(
        "  {}: channel lateness p50 {} ms p99 {} ms max {} ms; {} DMs in {:.1} s (bound {:.1} s, {:.1} % of allowed); {} duplicates, {} lost; {:?}; outbox {:?}",
        m.label,
        ms(m.lateness.p50()),
        ms(m.lateness.p99()),
        ms(m.lateness.max()),
        m.fanout,
        m.span.as_secs_f64(),
        m.bound().as_secs_f64(),
        100.0 * m.share_of_allowed(),
        m.duplicates,
        m.lost,
        m.counts,
        m.statuses,
    )
}

pub fn markdown(results: &[Measured]) -> String {
    let mut out = String::new();
    out.push_str("Channel reminder lateness (stand-in arrival minus due time):\n\n");
    out.push_str("| scenario | channel posts | p50 (ms) | p99 (ms) | max (ms) |\n");
    out.push_str("|---|---:|---:|---:|---:|\n");
    for m in results {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            m.label,
            m.lateness.len(),
            ms(m.lateness.p50()),
            ms(m.lateness.p99()),
            ms(m.lateness.max())
        );
    }
    out.push_str(
        "\nFan-out (first and last DM in seconds after their due time, negative when sent early; \
         bound = requests needed / 50 per s: a message per DM, plus the DM-channel opens and \
         channel posts made between the first and the last DM):\n\n",
    );
    out.push_str(
        "| scenario | DMs | first DM (s) | last DM (s) | span (s) | requests needed | bound (s) | achieved rate (req/s) | % of allowed | requests received (429s incl.) |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for m in results {
        let secs = m.span.as_secs_f64().max(1e-9);
        let _ = writeln!(
            out,
            "| {} | {} | {:+.2} | {:+.1} | {:.1} | {} | {:.1} | {:.1} | {:.1} % | {} |",
            m.label,
            m.fanout,
            m.first_dm,
            m.last_dm,
            secs,
            m.needed,
            m.bound().as_secs_f64(),
            m.needed as f64 / secs,
            100.0 * m.share_of_allowed(),
            m.received,
        );
    }
    let _ = writeln!(
        out,
        "\nCounted by the stand-in and the outbox (allowed rate {ALLOWED_PER_SECOND} req/s):\n"
    );
    out.push_str(
        "| scenario | planned posts | created | duplicates | lost | resends deduplicated (nonce) | 429s | DM-channel opens | message POSTs | outbox rows |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for m in results {
        let statuses: Vec<String> = m
            .statuses
            .iter()
            .map(|(status, n)| format!("{status} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            m.label,
            m.fanout + m.channel_posts,
            m.counts.created,
            m.duplicates,
            m.lost,
            m.counts.deduplicated,
            m.counts.rate_limited,
            m.counts.dm_opens,
            m.counts.attempts,
            statuses.join(", "),
        );
    }
    out
}
