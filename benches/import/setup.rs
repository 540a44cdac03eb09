//! Benchmark setup: where the files go, how many talks, and a check that the generated
//! formats agree.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use confbot::domain::import::{self, Format, ImportOptions};

use super::Input;

/// The three timetable formats describe the same programme: the same talks at the same UTC
/// instants in the same rooms. A mismatch means a generator (or importer) bug, and numbers
/// measured on different data would not be comparable.
pub fn check_formats_agree(inputs: &[Input]) -> anyhow::Result<()> {
    let mut reference: Option<(Format, Vec<String>)> = None;
    for input in inputs.iter().filter(|i| i.format != Format::Text) {
        let schedule =
            match import::parse(&input.bytes, Some(input.format), &ImportOptions::default()) {
                Ok(schedule) => schedule,
                Err(e) => bail!("{} does not import: {e}", input.path.display()),
            };
        let mut talks: Vec<String> = schedule
            .talks
            .iter()
            .map(|t| {
                let slot = t.slot.map(|s| format!("{} {}", s.start, s.end));
                format!(
                    "{} | {slot:?} | {:?} | {}",
                    t.title,
                    t.room,
                    t.speakers.len()
                )
            })
            .collect();
        talks.sort();
        match &reference {
            None => reference = Some((input.format, talks)),
            Some((first, expected)) => {
                if let Some((a, b)) = expected.iter().zip(&talks).find(|(a, b)| a != b) {
                    bail!("{first} and {} disagree: {a:?} vs {b:?}", input.format);
                }
            }
        }
    }
    Ok(())
}

/// Where cargo puts its output: the bench runs as `target/release/deps/import-HASH`.
pub fn target_dir() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("locating the benchmark executable")?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .context("the benchmark is not inside a cargo target directory")
}

/// `CONFBOT_BENCH_TALKS`, else the first argument that is not a flag (cargo passes
/// `--bench`), else 10,000.
pub fn talk_count() -> anyhow::Result<usize> {
    if let Some(n) = env_number("CONFBOT_BENCH_TALKS")? {
        return Ok(n.max(1));
    }
    match std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        Some(arg) => arg
            .parse()
            .with_context(|| format!("the talk count {arg:?} is not a number")),
        None => Ok(10_000),
    }
}

pub fn env_number(name: &str) -> anyhow::Result<Option<usize>> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("{name}={value:?} is not a number")),
        _ => Ok(None),
    }
}
