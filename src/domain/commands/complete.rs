//! Autocomplete: up to 25 suggestions for a partly typed option, names and values within
//! Discord's 100-character limits.

use super::render::{day_name, MAX_QUERY_CHARS};
use super::{limits, truncate, AutocompleteField, Choice};
use crate::domain::programme::Programme;
use crate::domain::search::Target;
use crate::domain::text::title_key;

/// Suggestions for `field` given what the user has typed so far.
pub(super) fn suggest(programme: &Programme, field: AutocompleteField, typed: &str) -> Vec<Choice> {
    let typed: String = typed.chars().take(MAX_QUERY_CHARS).collect();
    let choices = match field {
        // Live talks need the time: `domain::questions::suggestions` answers for them.
        AutocompleteField::TalkQuery | AutocompleteField::LiveTalk => talks(programme, &typed),
        AutocompleteField::SpeakerName => speakers(programme, &typed),
        AutocompleteField::Room => named(programme.rooms(), &typed),
        AutocompleteField::Track => named(programme.tracks(), &typed),
        AutocompleteField::Day => days(programme, &typed),
    };
    choices
        .into_iter()
        .filter(|c| !c.name.trim().is_empty() && !c.value.trim().is_empty())
        .take(limits::AUTOCOMPLETE_CHOICES)
        .collect()
}

fn choice(name: &str, value: &str) -> Choice {
    Choice {
        name: truncate(name, limits::CHOICE_NAME),
        value: truncate(value, limits::CHOICE_VALUE),
    }
}

/// Talks by title or speaker: "Title — Speaker", whose value is the title (a truncated
/// title still finds its talk: its folded form is a prefix of the whole title's).
fn talks(programme: &Programme, typed: &str) -> Vec<Choice> {
    let indexes: Vec<usize> = if title_key(typed).is_empty() {
        programme
            .attendable()
            .take(limits::AUTOCOMPLETE_CHOICES)
            .collect()
    } else {
        let mut out: Vec<usize> = Vec::new();
        for hit in programme
            .search()
            .names(typed, limits::AUTOCOMPLETE_CHOICES)
        {
            let talks = match hit.target {
                Target::Talk(i) => vec![i],
                Target::Speaker(s) => programme
                    .speakers()
                    .get(s)
                    .map(|s| s.talks.clone())
                    .unwrap_or_default(),
            };
            for talk in talks {
                if !out.contains(&talk) {
                    out.push(talk);
                }
            }
        }
        out
    };
    indexes
        .into_iter()
        .filter_map(|i| programme.talks.get(i))
        .map(|talk| {
            let names: Vec<&str> = talk.data.speakers.iter().map(|s| s.name.as_str()).collect();
            let label = if names.is_empty() {
                talk.data.title.clone()
            } else {
                format!("{} — {}", talk.data.title, names.join(", "))
            };
            choice(&label, &talk.data.title)
        })
        .collect()
}

fn speakers(programme: &Programme, typed: &str) -> Vec<Choice> {
    if title_key(typed).is_empty() {
        return programme
            .speakers()
            .iter()
            .take(limits::AUTOCOMPLETE_CHOICES)
            .map(|s| choice(&s.name, &s.name))
            .collect();
    }
    programme
        .search()
        .names(typed, limits::AUTOCOMPLETE_CHOICES * 2)
        .into_iter()
        .filter_map(|hit| match hit.target {
            Target::Speaker(s) => programme.speakers().get(s),
            Target::Talk(_) => None,
        })
        .map(|s| choice(&s.name, &s.name))
        .collect()
}

/// Rooms or tracks: those starting with the typed text first, then those containing it.
fn named(names: &[String], typed: &str) -> Vec<Choice> {
    let key = title_key(typed);
    let keyed: Vec<(String, &String)> = names.iter().map(|n| (title_key(n), n)).collect();
    let starts = keyed.iter().filter(|(k, _)| k.starts_with(&key));
    let contains = keyed
        .iter()
        .filter(|(k, _)| !k.starts_with(&key) && k.contains(&key));
    starts
        .chain(contains)
        .map(|(_, name)| choice(name, name))
        .collect()
}

/// Programme days: "Saturday 25 April" with the value `2026-04-25`.
fn days(programme: &Programme, typed: &str) -> Vec<Choice> {
    let key = title_key(typed);
    programme
        .programme_days()
        .iter()
        .map(|d| (day_name(*d), d.format("%Y-%m-%d").to_string()))
        .filter(|(name, value)| title_key(name).contains(&key) || value.contains(typed.trim()))
        .map(|(name, value)| choice(&name, &value))
        .collect()
}
