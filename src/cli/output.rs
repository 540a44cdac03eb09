//! Plain-text renderings for the terminal: import reports, conference lists and the
//! programme. Times are shown in the conference's own zone, days are its local days.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike as _, Utc};
use chrono_tz::Tz;

use crate::domain::diff::{DiffEntry, ImportDiff, Placement};
use crate::domain::model::{Conference, StoredTalk, TalkKind, TalkStatus};
use crate::store::conferences::ConferenceSummary;

/// Standard output was closed by its reader (`confbot export … | head`). Not a failure of
/// the command: whatever it did (an import's commit included) is done, and the reader chose
/// to stop reading. `main` ends quietly with status 0 on it, as ripgrep and git do, so a
/// committed import is never reported as failed (exit 141, the shell's SIGPIPE status,
/// would fail the pipeline under `set -o pipefail`).
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// Writes `text` to standard output and flushes it. A closed pipe becomes [`StdoutClosed`]
/// instead of `print!`'s panic; any other write error is returned as it is.
pub fn emit(text: &str) -> anyhow::Result<()> {
    emit_fmt(format_args!("{text}"))
}

/// Writes `args` to standard output as they are formatted, through a buffer, and flushes it:
/// a long text made by a `Display` (the report of a 100,000-talk import, 9 MB) is never held
/// whole, and no text is copied into a second string to be printed. Errors as [`emit`].
pub fn emit_fmt(args: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    emit_to(std::io::stdout().lock(), args)
}

/// [`emit_fmt`] to `out`.
fn emit_to(out: impl std::io::Write, args: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        result => Ok(result?),
    }
}

/// `print!` that ends the command with [`StdoutClosed`] instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::emit_fmt(format_args!($($arg)*))?
    };
}

/// `eprintln!` that never panics: with stderr closed (`confbot demo 2>&1 | head`) the line is
/// lost and the command goes on to end cleanly (the demo still removes its files).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that ends the command with [`StdoutClosed`] instead of panicking.
macro_rules! outln {
    () => {
        $crate::cli::output::emit("\n")?
    };
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        $crate::cli::output::emit(&line)?
    }};
}

/// A local time, with its year when that is not `year` (the conference's): a talk typed
/// into the wrong year must not look like it is on the right day.
fn local(instant: DateTime<Utc>, zone: Tz, year: Option<i32>) -> String {
    let local = instant.with_timezone(&zone);
    let format = if year == Some(local.year()) {
        "%a %d %b %H:%M %Z"
    } else {
        "%a %d %b %Y %H:%M %Z"
    };
    local.format(format).to_string()
}

/// The conference's year as the report sees it: the local year of the middle start of the
/// talks it lists (one talk in a mistyped year does not move it).
fn report_year(diff: &ImportDiff, zone: Tz) -> Option<i32> {
    let mut years: Vec<i32> = diff
        .added
        .iter()
        .chain(&diff.changed)
        .filter_map(|entry| entry.after.start)
        .map(|start| start.with_timezone(&zone).year())
        .collect();
    years.sort_unstable();
    years.get(years.len() / 2).copied()
}

fn placement(p: &Placement, zone: Tz, year: Option<i32>) -> String {
    let when = p
        .start
        .map_or_else(|| "unscheduled".to_owned(), |s| local(s, zone, year));
    let placed = match &p.room {
        Some(room) => format!("{when}, {room}"),
        None => when,
    };
    if p.status == TalkStatus::Cancelled {
        format!("{placed}, cancelled")
    } else {
        placed
    }
}

/// What an import changed: a summary line, then one line per added, changed or cancelled
/// talk. Written as it is printed ([`emit_fmt`]): a 100,000-talk first import's report was a
/// string of 9 MB, made while the import's freed talks were still being given back.
pub fn import_report<'a>(
    conference: &'a Conference,
    diff: &'a ImportDiff,
    dry_run: bool,
) -> ImportReport<'a> {
    ImportReport {
        conference,
        diff,
        dry_run,
    }
}

/// See [`import_report`].
pub struct ImportReport<'a> {
    conference: &'a Conference,
    diff: &'a ImportDiff,
    dry_run: bool,
}

impl std::fmt::Display for ImportReport<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (conference, diff) = (self.conference, self.diff);
        write_import_report(out, conference, diff, self.dry_run)
    }
}

fn write_import_report(
    out: &mut std::fmt::Formatter<'_>,
    conference: &Conference,
    diff: &ImportDiff,
    dry_run: bool,
) -> std::fmt::Result {
    let zone = conference.time_zone;
    let year = report_year(diff, zone);
    writeln!(
        out,
        "{}{} ({}): {} added, {} changed, {} cancelled, {} unchanged",
        if dry_run {
            "[dry run, nothing saved] "
        } else {
            ""
        },
        conference.slug,
        zone.name(),
        diff.added.len(),
        diff.changed.len(),
        diff.cancelled.len(),
        diff.unchanged
    )?;
    let line = |out: &mut std::fmt::Formatter<'_>, mark: char, entry: &DiffEntry, detail: &str| {
        writeln!(out, "  {mark} {}: {detail}", entry.title)
    };
    for entry in &diff.added {
        line(out, '+', entry, &placement(&entry.after, zone, year))?;
    }
    for entry in &diff.changed {
        let fields: Vec<&str> = entry.fields.iter().map(|f| f.as_str()).collect();
        let mut detail = format!("changed {}", fields.join(", "));
        if entry.fields.iter().any(|f| f.affects_schedule()) {
            if let Some(before) = &entry.before {
                let _ = write!(
                    detail,
                    " (was {}; now {})",
                    placement(before, zone, year),
                    placement(&entry.after, zone, year),
                );
            }
        }
        line(out, '~', entry, &detail)?;
    }
    for entry in &diff.cancelled {
        line(out, '-', entry, "cancelled")?;
    }
    for entry in &diff.kept {
        line(
            out,
            '=',
            entry,
            "kept as it was: its event could not be read this time (see the warnings)",
        )?;
    }
    Ok(())
}

/// One line per stored conference.
pub fn conference_list(list: &[ConferenceSummary]) -> String {
    if list.is_empty() {
        return "No conferences yet: `confbot import SOURCE --conference SLUG` creates one.\n"
            .to_owned();
    }
    let mut out = String::new();
    for c in list {
        let zone = c.conference.time_zone;
        let span = match (c.first_start, c.last_end) {
            (Some(first), Some(last)) => {
                format!("{} – {}", local(first, zone, None), local(last, zone, None))
            }
            _ => "no scheduled talks".to_owned(),
        };
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{} {} ({} cancelled)\t{}",
            c.conference.slug,
            c.conference.name,
            zone.name(),
            c.talks,
            if c.talks == 1 { "talk" } else { "talks" },
            c.cancelled,
            span
        );
    }
    out
}

/// The programme grouped by the conference's local days, then unscheduled catalogue entries.
pub fn programme(conference: &Conference, talks: &[StoredTalk]) -> String {
    let zone = conference.time_zone;
    let mut out = format!("{} — times in {}\n", conference.name, zone.name());
    let mut current_day = None;
    let mut unscheduled = Vec::new();
    for talk in talks {
        let data = &talk.data;
        let Some(slot) = data.slot else {
            unscheduled.push(talk);
            continue;
        };
        let start = slot.start.with_timezone(&zone);
        let day = start.date_naive();
        if current_day != Some(day) {
            let _ = writeln!(out, "\n{}", start.format("%A %d %B %Y"));
            current_day = Some(day);
        }
        let when = if slot.all_day || data.kind == TalkKind::Other {
            "all day    ".to_owned()
        } else {
            format!(
                "{}–{}",
                start.format("%H:%M"),
                slot.end.with_timezone(&zone).format("%H:%M")
            )
        };
        let speakers: Vec<&str> = data.speakers.iter().map(|s| s.name.as_str()).collect();
        let _ = writeln!(
            out,
            "  {when}  {:<8} {}{}{}",
            data.room.as_deref().unwrap_or("-"),
            data.title,
            if speakers.is_empty() {
                String::new()
            } else {
                format!(" — {}", speakers.join(", "))
            },
            if data.status == TalkStatus::Cancelled {
                "  [CANCELLED]"
            } else {
                ""
            }
        );
    }
    if !unscheduled.is_empty() {
        let _ = writeln!(out, "\nNot scheduled yet");
        for talk in unscheduled {
            let _ = writeln!(out, "  {}", talk.data.title);
        }
    }
    out
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
