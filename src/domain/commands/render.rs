//! Shared pieces of replies: talk lines, timestamps, paging, and the last pass that holds
//! every reply to Discord's limits.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{escape_markdown, limits, truncate, Embed, EmbedField, Message, Reply, Visibility};
use crate::domain::model::{StoredTalk, TalkStatus};
use crate::domain::time::{discord_timestamp, TimestampStyle};

/// The most messages one reply sends (the answer plus follow-ups): more is spam; narrow
/// the question instead.
pub(super) const MAX_MESSAGES: usize = 10;

/// The longest user query the commands look at: enough for any title, and bounded work.
pub(super) const MAX_QUERY_CHARS: usize = 300;

/// An ephemeral one-message reply.
pub(super) fn ephemeral(content: String) -> Reply {
    Reply {
        visibility: Visibility::Ephemeral,
        messages: vec![Message {
            content,
            ..Message::default()
        }],
    }
}

/// `<t:UNIX:R>`: "in 45 minutes", in each reader's own language.
pub(super) fn relative(instant: DateTime<Utc>) -> String {
    discord_timestamp(instant, TimestampStyle::Relative)
}

/// `<t:UNIX:F>`: the full date and time in each reader's zone.
pub(super) fn full(instant: DateTime<Utc>) -> String {
    discord_timestamp(instant, TimestampStyle::LongDateTime)
}

/// `<t:UNIX:t>`: the time of day in each reader's zone.
pub(super) fn time_of_day(instant: DateTime<Utc>) -> String {
    discord_timestamp(instant, TimestampStyle::ShortTime)
}

/// The time of day when `instant` is within 20 hours of `now`, else date and time
/// (`<t:UNIX:f>`), so a talk days away does not look like today's.
pub(super) fn when(instant: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if (instant - now).abs() < Duration::hours(20) {
        time_of_day(instant)
    } else {
        format!("<t:{}:f>", instant.timestamp())
    }
}

/// A programme day as people say it: "Saturday 25 April".
pub(super) fn day_name(date: NaiveDate) -> String {
    date.format("%A %-d %B").to_string()
}

/// The talk's title, escaped, at most `max` characters.
pub(super) fn title(talk: &StoredTalk, max: usize) -> String {
    truncate(&escape_markdown(&talk.data.title), max)
}

/// The speakers' names, escaped and joined ("Ann, Bob"); empty when none are known.
pub(super) fn speakers(talk: &StoredTalk) -> String {
    let names: Vec<String> = talk
        .data
        .speakers
        .iter()
        .map(|s| escape_markdown(&s.name))
        .collect();
    truncate(&names.join(", "), 200)
}

/// "**Title** — Ann, Bob", cancelled talks struck through and marked.
pub(super) fn headline(talk: &StoredTalk) -> String {
    let title = title(talk, 200);
    let speakers = speakers(talk);
    let mut line = if talk.data.status == TalkStatus::Cancelled {
        format!("~~**{title}**~~ (cancelled)")
    } else {
        format!("**{title}**")
    };
    if !speakers.is_empty() {
        line.push_str(" — ");
        line.push_str(&speakers);
    }
    line
}

/// " in Barn" (escaped), or nothing when the talk has no room.
pub(super) fn in_room(talk: &StoredTalk) -> String {
    talk.data
        .room
        .as_deref()
        .map(|r| format!(" in {}", truncate(&escape_markdown(r), 100)))
        .unwrap_or_default()
}

/// Names for an error message ("Barn, Loft"), escaped, short enough for one message.
pub(super) fn name_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<String> = names.map(escape_markdown).collect();
    if all.is_empty() {
        return "none yet".to_owned();
    }
    truncate(&all.join(", "), 1500)
}

/// The user's own words quoted back, harmless and short.
pub(super) fn quoted(text: &str) -> String {
    format!("“{}”", truncate(&escape_markdown(text.trim()), 100))
}

/// Packs lines into messages of at most [`limits::CONTENT`] characters.
#[derive(Debug, Default)]
pub(crate) struct Pages {
    messages: Vec<String>,
    current: String,
    current_chars: usize,
}

impl Pages {
    /// Adds a line, starting a new message when it would not fit; an over-long line is cut.
    pub(crate) fn line(&mut self, line: &str) {
        let line = truncate(line, limits::CONTENT);
        let chars = line.chars().count();
        let needed = if self.current.is_empty() {
            chars
        } else {
            chars + 1
        };
        if self.current_chars + needed > limits::CONTENT {
            self.messages.push(std::mem::take(&mut self.current));
            self.current_chars = 0;
        }
        if !self.current.is_empty() {
            self.current.push('\n');
            self.current_chars += 1;
        }
        self.current.push_str(&line);
        self.current_chars += chars;
    }

    /// Whether `line` can be added without making more than `max_messages` messages, with
    /// `reserve` characters still free in the last one.
    pub(crate) fn fits(&self, line: &str, max_messages: usize, reserve: usize) -> bool {
        let chars = line.chars().count().min(limits::CONTENT);
        let needed = if self.current.is_empty() {
            chars
        } else {
            chars + 1
        };
        let starts_new = self.current_chars + needed > limits::CONTENT;
        let messages = self.messages.len() + 1 + usize::from(starts_new);
        let last = if starts_new {
            chars
        } else {
            self.current_chars + needed
        };
        messages < max_messages
            || (messages == max_messages && last + 1 + reserve <= limits::CONTENT)
    }

    /// How many messages the lines so far fill.
    pub(super) fn len(&self) -> usize {
        self.messages.len() + usize::from(!self.current.is_empty())
    }

    /// The messages' texts.
    pub(crate) fn texts(mut self) -> Vec<String> {
        if !self.current.is_empty() {
            self.messages.push(self.current);
        }
        self.messages
    }

    /// The messages.
    pub(super) fn finish(self) -> Vec<Message> {
        self.texts()
            .into_iter()
            .map(|content| Message {
                content,
                ..Message::default()
            })
            .collect()
    }
}

/// An embed field, its name and value cut to the limits (Discord refuses empty ones).
pub(super) fn field(name: &str, value: &str, inline: bool) -> EmbedField {
    let or_dash = |s: &str| {
        if s.trim().is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    EmbedField {
        name: truncate(&or_dash(name), limits::FIELD_NAME),
        value: truncate(&or_dash(value), limits::FIELD_VALUE),
        inline,
    }
}

/// Holds a reply to every Discord limit: the last line of defence, applied to every answer.
pub(super) fn fit(mut reply: Reply) -> Reply {
    reply.messages.truncate(MAX_MESSAGES);
    if reply.messages.is_empty() {
        reply.messages.push(Message::default());
    }
    for message in &mut reply.messages {
        message.content = truncate(&message.content, limits::CONTENT);
        message.embeds.truncate(limits::EMBEDS_PER_MESSAGE);
        message.embeds = std::mem::take(&mut message.embeds)
            .into_iter()
            .map(fit_embed)
            .collect();
        // The 6000-character budget covers all embeds of a message together.
        let mut budget = limits::EMBED_TOTAL;
        message.embeds.retain(|e| {
            let size = embed_size(e);
            let keep = size <= budget;
            budget = budget.saturating_sub(size);
            keep
        });
        message.attachments.truncate(limits::ATTACHMENTS);
        message
            .attachments
            .retain(|file| file.bytes.len() <= limits::ATTACHMENT_BYTES);
        // Five rows of five buttons; labels up to 80 characters.
        message.buttons.truncate(25);
        for button in &mut message.buttons {
            button.label = truncate(&button.label, 80);
        }
        if message.content.trim().is_empty() && message.embeds.is_empty() {
            message.content = "Nothing to show.".to_owned();
        }
    }
    reply
}

fn fit_embed(mut embed: Embed) -> Embed {
    embed.title = truncate(&embed.title, limits::EMBED_TITLE);
    embed.description = truncate(&embed.description, limits::EMBED_DESCRIPTION);
    embed.fields.truncate(limits::FIELDS);
    embed.fields = embed
        .fields
        .iter()
        .map(|f| field(&f.name, &f.value, f.inline))
        .collect();
    embed.footer = embed.footer.map(|f| truncate(&f, 2048));
    embed.url = embed.url.filter(|u| is_web_url(u));
    let overflow = embed_size(&embed).saturating_sub(limits::EMBED_TOTAL);
    if overflow > 0 {
        let keep = embed.description.chars().count().saturating_sub(overflow);
        embed.description = truncate(&embed.description, keep);
        while embed_size(&embed) > limits::EMBED_TOTAL && embed.fields.pop().is_some() {}
    }
    embed
}

fn embed_size(embed: &Embed) -> usize {
    let count = |s: &str| s.chars().count();
    count(&embed.title)
        + count(&embed.description)
        + embed.footer.as_deref().map_or(0, count)
        + embed
            .fields
            .iter()
            .map(|f| count(&f.name) + count(&f.value))
            .sum::<usize>()
}

/// Discord refuses a whole message whose embed URL is not a plain http(s) URL.
pub(super) fn is_web_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}
