//! `confbot console`: the attendee commands over stdin/stdout, so organisers can check the
//! bot's answers without Discord.

use std::io::IsTerminal;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cli::connect_configured;
use crate::config::Settings;
use crate::console::{parse_line, render};
use crate::domain::commands::answer;
use crate::domain::model::ConferenceSlug;
use crate::domain::programme::Programme;
use crate::store;

/// Arguments of `confbot console`.
#[derive(Debug, clap::Args)]
pub struct ConsoleArgs {
    /// The conference's slug, e.g. `nbpy-2026`.
    #[arg(long, value_name = "SLUG")]
    pub conference: String,
    /// Answer as if it were this instant (RFC 3339, e.g. `2026-04-25T22:00:00Z`) instead of
    /// the real clock.
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub at: Option<DateTime<Utc>>,
}

pub(super) fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 instant such as 2026-04-25T22:00:00Z ({e})"))
}

/// Loads the conference's programme once, then answers each line of standard input.
pub async fn run(settings: &Settings, args: ConsoleArgs) -> anyhow::Result<()> {
    let slug = ConferenceSlug::parse(&args.conference)?;
    let pool = connect_configured(settings).await?;
    let loaded = store::programme::load(&pool, &slug).await;
    pool.close().await;
    let programme = loaded?.with_context(|| {
        format!("no conference {slug}: import its schedule first (confbot import --conference {slug} FILE)")
    })?;
    let zone = programme.conference.time_zone;
    if std::io::stdin().is_terminal() {
        eprintln!(
            "{} — times in {}. Type /help, /next, /talk query:..., Ctrl-D to quit.",
            programme.conference.name,
            zone.name()
        );
    }
    // The clock is read per line so a long session stays current; --at pins it.
    let at = args.at;
    serve(&programme, move || at.unwrap_or_else(Utc::now)).await
}

/// Answers each line of standard input with `now()` as the clock, until end of input.
pub(super) async fn serve(
    programme: &Programme,
    now: impl Fn() -> DateTime<Utc>,
) -> anyhow::Result<()> {
    let zone = programme.conference.time_zone;
    // Lines are read as bytes: one line that is not UTF-8 (a pasted binary, a wrong
    // encoding) gets an error like any other bad line instead of ending the session.
    let mut lines = BufReader::new(tokio::io::stdin()).split(b'\n');
    let mut number = 0_usize;
    while let Some(bytes) = lines.next_segment().await? {
        number += 1;
        let Ok(line) = std::str::from_utf8(&bytes) else {
            outln!("error: line {number} is not valid UTF-8\n");
            continue;
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let now = now();
        match parse_line(line) {
            Ok(None) => {}
            Ok(Some(command)) => {
                let reply = answer(programme, now, &command);
                outln!("{}", render(&reply, zone, now));
            }
            Err(error) => outln!("error: {error}\n"),
        }
    }
    Ok(())
}
