//! `/talk query`: the best matching talk as an embed, with a short list of other matches.

use chrono::{DateTime, Utc};

use super::render::{
    self, ephemeral, field, full, headline, quoted, relative, speakers, when, MAX_QUERY_CHARS,
};
use super::{
    escape_markdown, limits, truncate, Button, ButtonAction, Embed, Message, Reply, Visibility,
};
use crate::domain::model::{StoredTalk, TalkKind, TalkStatus};
use crate::domain::programme::Programme;
use crate::domain::search::{MatchTier, Target};
use crate::domain::text::title_key;

/// How many other matches are listed under the best one.
const ALSO: usize = 4;

/// Answers `/talk query`. Public: a talk card is worth sharing with the channel.
pub(super) fn answer(programme: &Programme, now: DateTime<Utc>, query: &str) -> Reply {
    let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
    if title_key(&query).is_empty() {
        return ephemeral(
            "Type part of a talk's title, a speaker's name or a topic, e.g. \
             `/talk query:orchestration`."
                .to_owned(),
        );
    }
    let found = find_talks(programme, &query, ALSO + 1);
    let Some((&best, others)) = found.split_first() else {
        return ephemeral(format!(
            "No talk matches {}. Try fewer words, part of the title or a speaker's name; \
             `/schedule` lists every talk of a day.",
            quoted(&query)
        ));
    };
    let Some(talk) = programme.talks.get(best) else {
        return ephemeral("That talk is no longer in the programme.".to_owned());
    };
    let mut embed = talk_embed(programme, best, talk);
    let also: Vec<String> = others
        .iter()
        .filter_map(|&i| programme.talks.get(i))
        .map(|t| match t.data.slot {
            Some(slot) => format!("{} · {}", headline(t), when(slot.start, now)),
            None => headline(t),
        })
        .collect();
    if !also.is_empty() {
        embed
            .fields
            .push(field("Also matching", &also.join("\n"), false));
    }
    let buttons = remindable(talk)
        .then(|| Button {
            label: "Remind me".to_owned(),
            action: ButtonAction::RemindMe(talk.id),
        })
        .into_iter()
        .collect();
    Reply {
        visibility: Visibility::Public,
        messages: vec![Message {
            content: String::new(),
            embeds: vec![embed],
            buttons,
            ..Message::default()
        }],
    }
}

/// A reminder makes sense for a scheduled, confirmed talk (not a break or all-day entry).
fn remindable(talk: &StoredTalk) -> bool {
    let d = &talk.data;
    d.slot.is_some() && d.status == TalkStatus::Confirmed && d.kind == TalkKind::Talk
}

/// The talk card: title, link, abstract, speakers, start and end, room, track, level.
/// `talk` is `programme.talks[index]`.
pub(super) fn talk_embed(programme: &Programme, index: usize, talk: &StoredTalk) -> Embed {
    let d = &talk.data;
    let mut description = String::new();
    if d.status == TalkStatus::Cancelled {
        description.push_str("**Cancelled:** this talk will not take place.\n\n");
    }
    let text = programme
        .abstract_text(index)
        .or_else(|| programme.description(index));
    if let Some(text) = text {
        description.push_str(&escape_markdown(&text));
    }
    let mut fields = Vec::new();
    let names = speakers(talk);
    if !names.is_empty() {
        let label = if d.speakers.len() > 1 {
            "Speakers"
        } else {
            "Speaker"
        };
        fields.push(field(label, &names, false));
    }
    match d.slot {
        Some(slot) => {
            fields.push(field(
                "Starts",
                &format!("{} ({})", full(slot.start), relative(slot.start)),
                true,
            ));
            fields.push(field(
                "Ends",
                &format!("{} ({})", full(slot.end), relative(slot.end)),
                true,
            ));
        }
        None => fields.push(field("When", "Not scheduled yet", true)),
    }
    for (name, value) in [("Room", &d.room), ("Track", &d.track), ("Level", &d.level)] {
        if let Some(value) = value {
            fields.push(field(name, &truncate(&escape_markdown(value), 200), true));
        }
    }
    Embed {
        title: render::title(talk, limits::EMBED_TITLE),
        url: d
            .url
            .as_deref()
            .filter(|u| render::is_web_url(u))
            .map(str::to_owned),
        description: truncate(&description, limits::EMBED_DESCRIPTION),
        fields,
        footer: Some(truncate(&programme.conference.name, 200)),
    }
}

/// The talks best matching `query`, best first: an exact title, then titles and speaker
/// names that start with or contain every word, then talks whose texts contain every word,
/// then near misses (typos), then texts containing some of the words.
pub(super) fn find_talks(programme: &Programme, query: &str, limit: usize) -> Vec<usize> {
    let key = title_key(query);
    let names = programme.search().names(query, 25);
    let text = programme.search().full_text(query, 25);
    let mut out: Vec<usize> = Vec::new();
    let push = |out: &mut Vec<usize>, talk: usize| {
        if !out.contains(&talk) {
            out.push(talk);
        }
    };
    let talks_of = |target: Target| -> Vec<usize> {
        match target {
            Target::Talk(i) => vec![i],
            Target::Speaker(s) => programme
                .speakers()
                .get(s)
                .map(|s| s.talks.clone())
                .unwrap_or_default(),
        }
    };
    for hit in &names {
        if let Target::Talk(i) = hit.target {
            if programme
                .talks
                .get(i)
                .is_some_and(|t| title_key(&t.data.title) == key)
            {
                push(&mut out, i);
            }
        }
    }
    for hit in names.iter().filter(|h| h.tier != MatchTier::Similar) {
        talks_of(hit.target)
            .into_iter()
            .for_each(|i| push(&mut out, i));
    }
    for hit in text.iter().filter(|h| h.matched_words == h.query_words) {
        push(&mut out, hit.talk);
    }
    for hit in names.iter().filter(|h| h.tier == MatchTier::Similar) {
        talks_of(hit.target)
            .into_iter()
            .for_each(|i| push(&mut out, i));
    }
    if out.is_empty() {
        for hit in &text {
            push(&mut out, hit.talk);
        }
    }
    out.truncate(limit);
    out
}
