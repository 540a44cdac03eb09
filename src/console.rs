//! The attendee commands over stdin/stdout: `confbot console` reads lines such as
//! `/next room:Barn` or `/talk query:"glue compute"`, answers them with the same
//! [`answer`](crate::domain::commands::answer) the Discord adapter uses, and prints each
//! reply as plain text with Discord timestamps shown in the conference's zone.
//!
//! Both halves are pure: [`parse_line`] turns a line into a [`Command`], [`render`] turns a
//! [`Reply`] into text. The shell (`crate::cli::console`) does the I/O.

use std::fmt::Write as _;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::commands::{Command, Reply};
use crate::domain::questions::QuestionsCommand;

/// Options any command knows; an unquoted value runs until the next `name:` of these.
const OPTION_NAMES: [&str; 7] = ["query", "room", "track", "day", "name", "question", "talk"];

/// Why a console line is not a command. One line, safe to print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command {0:?}: try /talk, /next, /now, /schedule, /speaker or /help")]
    UnknownCommand(String),
    #[error("/{command} has no option {option:?}; its options: {known}")]
    UnknownOption {
        command: &'static str,
        option: String,
        known: &'static str,
    },
    #[error("/{command} needs {option}:VALUE, e.g. /{command} {option}:\"...\"")]
    Missing {
        command: &'static str,
        option: &'static str,
    },
    #[error("{0}")]
    Malformed(String),
}

/// Parses one console line. Blank lines and `#` comments give `Ok(None)`.
pub fn parse_line(line: &str) -> Result<Option<Command>, ParseError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let name = word.strip_prefix('/').unwrap_or(word).to_lowercase();
    let (command, known, bare): (&'static str, &[&'static str], Option<&'static str>) =
        match name.as_str() {
            "talk" => ("talk", &["query"], Some("query")),
            "next" => ("next", &["room", "track"], None),
            "now" => ("now", &["room"], None),
            "schedule" => ("schedule", &["day", "room"], None),
            "speaker" => ("speaker", &["name"], Some("name")),
            "help" => ("help", &[], None),
            _ => return Err(ParseError::UnknownCommand(word.chars().take(40).collect())),
        };
    let options = parse_options(rest.trim(), bare)?;
    let get = |option: &str| -> Option<String> {
        options
            .iter()
            .rev()
            .find(|(n, _)| n == option)
            .map(|(_, v)| v.clone())
    };
    if let Some((option, _)) = options.iter().find(|(n, _)| !known.contains(&n.as_str())) {
        return Err(ParseError::UnknownOption {
            command,
            option: option.chars().take(40).collect(),
            known: match command {
                "talk" => "query",
                "next" => "room, track",
                "now" => "room",
                "schedule" => "day, room",
                "speaker" => "name",
                _ => "none",
            },
        });
    }
    let required = |value: Option<String>, option: &'static str| {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or(ParseError::Missing { command, option })
    };
    Ok(Some(match command {
        "talk" => Command::Talk {
            query: required(get("query"), "query")?,
        },
        "next" => Command::Next {
            room: get("room"),
            track: get("track"),
        },
        "now" => Command::Now { room: get("room") },
        "schedule" => Command::Schedule {
            day: get("day"),
            room: get("room"),
        },
        "speaker" => Command::Speaker {
            name: required(get("name"), "name")?,
        },
        _ => Command::Help,
    }))
}

/// Parses a line that is `/ask` or `/questions` (answered with the store, where there is
/// one: the demo); `None` for any other line.
pub fn parse_questions_line(line: &str) -> Option<Result<QuestionsCommand, ParseError>> {
    let line = line.trim();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let (command, bare) = match word
        .strip_prefix('/')
        .unwrap_or(word)
        .to_lowercase()
        .as_str()
    {
        "ask" => ("ask", "question"),
        "questions" => ("questions", "talk"),
        _ => return None,
    };
    let parsed = parse_options(rest.trim(), Some(bare)).and_then(|options| {
        let known = ["question", "talk"];
        if let Some((option, _)) = options.iter().find(|(n, _)| {
            !known.contains(&n.as_str()) || (command == "questions" && n == "question")
        }) {
            return Err(ParseError::UnknownOption {
                command,
                option: option.chars().take(40).collect(),
                known: if command == "ask" {
                    "question, talk"
                } else {
                    "talk"
                },
            });
        }
        let get = |option: &str| {
            options
                .iter()
                .rev()
                .find(|(n, _)| n == option)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.trim().is_empty())
        };
        Ok(match command {
            "ask" => QuestionsCommand::Ask {
                question: get("question").ok_or(ParseError::Missing {
                    command,
                    option: "question",
                })?,
                talk: get("talk"),
            },
            _ => QuestionsCommand::List { talk: get("talk") },
        })
    });
    Some(parsed)
}

/// Reads `name:value` / `name:"quoted value"` pairs. A command with one text option
/// (`bare`) also takes plain words as its value: `/talk glue compute`.
fn parse_options(rest: &str, bare: Option<&str>) -> Result<Vec<(String, String)>, ParseError> {
    let mut options = Vec::new();
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_len);
        let Some(after) = after.strip_prefix(':').filter(|_| !name.is_empty()) else {
            match bare {
                Some(option) if options.is_empty() => {
                    options.push((option.to_owned(), rest.trim().to_owned()));
                    break;
                }
                _ => {
                    return Err(ParseError::Malformed(format!(
                        "expected name:value, found {:?}",
                        rest.chars().take(40).collect::<String>()
                    )))
                }
            }
        };
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            read_quoted(quoted)?
        } else {
            read_unquoted(after)
        };
        options.push((name.to_lowercase(), value));
        rest = remaining.trim_start();
    }
    Ok(options)
}

fn read_quoted(text: &str) -> Result<(String, &str), ParseError> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, text.get(i + 1..).unwrap_or(""))),
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    value.push(next);
                }
            }
            _ => value.push(c),
        }
    }
    Err(ParseError::Malformed(
        "a quoted value is missing its closing \"".to_owned(),
    ))
}

/// An unquoted value runs up to the next ` option:` (so `room:Main Hall track:Web` works).
fn read_unquoted(text: &str) -> (String, &str) {
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            let next = text.get(i..).unwrap_or("").trim_start();
            if OPTION_NAMES.iter().any(|n| {
                next.len() > n.len()
                    && next.starts_with(n)
                    && next.get(n.len()..n.len() + 1) == Some(":")
            }) {
                end = i;
                break;
            }
        }
    }
    let (value, rest) = text.split_at(end);
    (value.trim().to_owned(), rest)
}

/// Prints a reply as text: markdown escapes removed, timestamps in `zone` relative to
/// `now`, embeds as indented blocks, buttons as `[Label]`.
pub fn render(reply: &Reply, zone: Tz, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    for message in &reply.messages {
        if !message.content.is_empty() {
            out.push_str(&render_text(&message.content, zone, now));
            out.push('\n');
        }
        for embed in &message.embeds {
            let mut block = String::new();
            let _ = writeln!(block, "{}", render_text(&embed.title, zone, now));
            if let Some(url) = &embed.url {
                let _ = writeln!(block, "{url}");
            }
            if !embed.description.is_empty() {
                let _ = writeln!(block, "{}", render_text(&embed.description, zone, now));
            }
            for field in &embed.fields {
                let value = render_text(&field.value, zone, now);
                let name = render_text(&field.name, zone, now);
                if value.contains('\n') {
                    let _ = writeln!(block, "{name}:");
                    for line in value.lines() {
                        let _ = writeln!(block, "  {line}");
                    }
                } else {
                    let _ = writeln!(block, "{name}: {value}");
                }
            }
            if let Some(footer) = &embed.footer {
                let _ = writeln!(block, "— {footer}");
            }
            for line in block.lines() {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        if !message.buttons.is_empty() {
            let labels: Vec<String> = message
                .buttons
                .iter()
                .map(|b| format!("[{}]", b.label))
                .collect();
            out.push_str(&labels.join(" "));
            out.push('\n');
        }
    }
    out
}

/// Discord markdown to plain text: `\x` escapes become `x`, `**` and `~~` go, the
/// zero-width spaces that defuse mentions go, and `<t:UNIX:STYLE>` becomes a local time.
pub fn render_text(text: &str, zone: Tz, now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let width = c.len_utf8();
        if c == '\\' {
            let escaped = rest.get(1..).and_then(|r| r.chars().next());
            if let Some(next) = escaped {
                out.push(next);
                rest = rest.get(1 + next.len_utf8()..).unwrap_or("");
                continue;
            }
        } else if rest.starts_with("**") || rest.starts_with("~~") {
            rest = rest.get(2..).unwrap_or("");
            continue;
        } else if c == '\u{200b}' {
            rest = rest.get(width..).unwrap_or("");
            continue;
        } else if rest.starts_with("-# ") && (out.is_empty() || out.ends_with('\n')) {
            // Discord's small "subtext" line: plain text here.
            rest = rest.get(3..).unwrap_or("");
            continue;
        } else if let Some((shown, used)) = timestamp(rest, zone, now) {
            out.push_str(&shown);
            rest = rest.get(used..).unwrap_or("");
            continue;
        }
        out.push(c);
        rest = rest.get(width..).unwrap_or("");
    }
    out
}

/// Reads `<t:UNIX>` or `<t:UNIX:STYLE>` at the start of `text`: the rendering and the bytes
/// it used.
fn timestamp(text: &str, zone: Tz, now: DateTime<Utc>) -> Option<(String, usize)> {
    let body = text.strip_prefix("<t:")?;
    let close = body.find('>')?;
    let inner = body.get(..close)?;
    let (seconds, style) = inner.split_once(':').unwrap_or((inner, "f"));
    let instant = Utc.timestamp_opt(seconds.parse().ok()?, 0).single()?;
    let local = instant.with_timezone(&zone);
    let shown = match style {
        "t" => local.format("%H:%M").to_string(),
        "T" => local.format("%H:%M:%S").to_string(),
        "d" => local.format("%d/%m/%Y").to_string(),
        "D" => local.format("%-d %B %Y").to_string(),
        "f" => local.format("%a %-d %b %Y %H:%M %Z").to_string(),
        "F" => local.format("%A %-d %B %Y %H:%M %Z").to_string(),
        "R" => relative(instant, now),
        _ => return None,
    };
    Some((shown, "<t:".len() + close + 1))
}

/// "in 45 minutes", "1 hour 10 minutes ago", "in 2 days 3 hours": precise enough for an
/// organiser checking a schedule.
pub fn relative(instant: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (instant - now).num_seconds();
    if seconds == 0 {
        return "now".to_owned();
    }
    let total = seconds.unsigned_abs();
    let unit = |n: u64, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let span = if total < 60 {
        unit(total, "second")
    } else if (total + 30) / 60 < 60 {
        // To the nearest minute, as Discord shows it: 9 min 59 s is "in 10 minutes".
        unit((total + 30) / 60, "minute")
    } else if total < 86_400 {
        // 59 min 30 s and more rounds up to the hour.
        let total = total.max(3600);
        let (hours, minutes) = (total / 3600, total % 3600 / 60);
        if minutes == 0 {
            unit(hours, "hour")
        } else {
            format!("{} {}", unit(hours, "hour"), unit(minutes, "minute"))
        }
    } else {
        let (days, hours) = (total / 86_400, total % 86_400 / 3600);
        if hours == 0 {
            unit(days, "day")
        } else {
            format!("{} {}", unit(days, "day"), unit(hours, "hour"))
        }
    };
    if seconds > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

#[cfg(test)]
mod tests;
