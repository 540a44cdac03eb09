//! `confbot console`: the attendee commands over stdin/stdout, so organisers can check the
//! bot's answers without Discord.

use std::io::IsTerminal;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::cli::connect_configured;
use crate::config::Settings;
use crate::console::{parse_line, parse_questions_line, render};
use crate::domain::commands::answer;
use crate::domain::model::ConferenceSlug;
use crate::domain::programme::Programme;
use crate::domain::questions::QuestionsCommand;
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
        note!(
            "{} — times in {}. Type /help, /next, /talk query:..., Ctrl-D to quit.",
            programme.conference.name,
            zone.name()
        );
    }
    // The clock is read per line so a long session stays current; --at pins it.
    let at = args.at;
    serve(&programme, move || at.unwrap_or_else(Utc::now), &NoDesk).await
}

/// Who answers `/ask` and `/questions` in a console: they need a server's threads.
pub(super) trait Desk {
    /// The text to print for `command` at `now`.
    fn answer(
        &self,
        command: QuestionsCommand,
        now: DateTime<Utc>,
    ) -> impl std::future::Future<Output = String>;
}

/// `confbot console` reads the programme only: no server, no threads.
struct NoDesk;

impl Desk for NoDesk {
    async fn answer(&self, _command: QuestionsCommand, _now: DateTime<Utc>) -> String {
        "/ask and /questions need a server's Q&A threads: try them in `confbot demo`, or on \
         Discord.\n"
            .to_owned()
    }
}

/// Answers each line of standard input with `now()` as the clock, until end of input.
pub(super) async fn serve(
    programme: &Programme,
    now: impl Fn() -> DateTime<Utc>,
    desk: &impl Desk,
) -> anyhow::Result<()> {
    let zone = programme.conference.time_zone;
    let mut lines = stdin_lines();
    let mut number = 0_usize;
    while let Some(bytes) = lines.recv().await {
        let bytes = bytes.context("reading standard input")?;
        number += 1;
        let Ok(line) = std::str::from_utf8(&bytes) else {
            outln!("error: line {number} is not valid UTF-8\n");
            continue;
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let now = now();
        match parse_questions_line(line) {
            Some(Ok(command)) => {
                outln!("{}", desk.answer(command, now).await);
                continue;
            }
            Some(Err(error)) => {
                outln!("error: {error}\n");
                continue;
            }
            None => {}
        }
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

/// The lines of standard input, read on a thread of their own. Not tokio's stdin: its read
/// blocks a runtime thread that the runtime waits for when it shuts down, so a demo told
/// to stop by a signal would hang until the next Enter. A plain thread blocked in `read`
/// does not keep the process alive. Lines are bytes: one line that is not UTF-8 (a pasted
/// binary, a wrong encoding) gets an error like any other bad line instead of ending the
/// session.
fn stdin_lines() -> tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>> {
    use std::io::BufRead;
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            loop {
                let mut line = Vec::new();
                let line = match input.read_until(b'\n', &mut line) {
                    Ok(0) => return,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                        }
                        Ok(line)
                    }
                    Err(error) => Err(error),
                };
                let failed = line.is_err();
                if sender.blocking_send(line).is_err() || failed {
                    return;
                }
            }
        });
    if let Err(error) = spawned {
        let (sender, receiver) = tokio::sync::mpsc::channel(1);
        let _ = sender.try_send(Err(error));
        return receiver;
    }
    receiver
}
