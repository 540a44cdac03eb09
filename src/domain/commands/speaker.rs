//! `/speaker name`: a speaker's biography and talks.

use chrono::{DateTime, Utc};

use super::render::{ephemeral, field, headline, in_room, quoted, when, MAX_QUERY_CHARS};
use super::{escape_markdown, limits, truncate, Embed, EmbedField, Message, Reply, Visibility};
use crate::domain::programme::Programme;
use crate::domain::search::Target;
use crate::domain::text::name_key;

/// Answers `/speaker`. Ephemeral: a look-up for the asker, not news for the channel.
pub(super) fn answer(programme: &Programme, now: DateTime<Utc>, name: &str) -> Reply {
    let name: String = name.chars().take(MAX_QUERY_CHARS).collect();
    let key = name_key(&name);
    if key.is_empty() {
        return ephemeral("Type part of a speaker's name, e.g. `/speaker name:mehta`.".to_owned());
    }
    let mut found: Vec<usize> = programme
        .search()
        .names(&name, 25)
        .into_iter()
        .filter_map(|hit| match hit.target {
            Target::Speaker(s) => Some(s),
            Target::Talk(_) => None,
        })
        .collect();
    // An exact name wins over a longer one that merely starts the same way.
    if let Some(pos) = found.iter().position(|&s| {
        programme
            .speakers()
            .get(s)
            .is_some_and(|sp| name_key(&sp.name) == key)
    }) {
        let exact = found.remove(pos);
        found.insert(0, exact);
    }
    let Some(speaker) = found.first().and_then(|&s| programme.speakers().get(s)) else {
        return ephemeral(format!(
            "No speaker matches {}. Try part of the name; `/talk` also searches titles and \
             topics.",
            quoted(&name)
        ));
    };
    let mut fields: Vec<EmbedField> = Vec::new();
    let mut chunk = String::new();
    for talk in speaker.talks.iter().filter_map(|&i| programme.talks.get(i)) {
        let line = match talk.data.slot {
            Some(slot) => format!(
                "{} · {}{}",
                headline(talk),
                when(slot.start, now),
                in_room(talk)
            ),
            None => format!("{} · not scheduled yet", headline(talk)),
        };
        let line = truncate(&line, limits::FIELD_VALUE);
        if chunk.chars().count() + line.chars().count() + 1 > limits::FIELD_VALUE {
            fields.push(field(talks_label(fields.len()), &chunk, false));
            chunk.clear();
        }
        if !chunk.is_empty() {
            chunk.push('\n');
        }
        chunk.push_str(&line);
    }
    if !chunk.is_empty() {
        fields.push(field(talks_label(fields.len()), &chunk, false));
    }
    fields.truncate(5);
    let others: Vec<String> = found
        .iter()
        .skip(1)
        .take(5)
        .filter_map(|&s| programme.speakers().get(s))
        .map(|s| escape_markdown(&s.name))
        .collect();
    if !others.is_empty() {
        fields.push(field("Also matching", &others.join(", "), false));
    }
    let description = speaker
        .biography
        .as_deref()
        .map_or_else(|| "No biography given.".to_owned(), escape_markdown);
    Reply {
        visibility: Visibility::Ephemeral,
        messages: vec![Message {
            embeds: vec![Embed {
                title: truncate(&escape_markdown(&speaker.name), limits::EMBED_TITLE),
                url: None,
                description: truncate(&description, limits::EMBED_DESCRIPTION),
                fields,
                footer: Some(truncate(&programme.conference.name, 200)),
            }],
            ..Message::default()
        }],
    }
}

fn talks_label(index: usize) -> &'static str {
    if index == 0 {
        "Talks"
    } else {
        "Talks (continued)"
    }
}
