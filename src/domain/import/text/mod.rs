//! Plain-text talk pages: talk listings scraped from a conference website, single proposal
//! pages and reStructuredText talk notes.
//!
//! None of these carry times, rooms or ids: they produce [`ScheduleScope::Catalogue`] entries
//! that the store later merges into known talks by normalised title and speaker. Each shape has
//! its own small line-based parser ([`listing`], [`proposal`], [`rst`]); this module detects
//! the shape, shares the line/paragraph helpers and folds repeated titles into one talk.

mod listing;
mod proposal;
mod rst;
mod streamed;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::{ImportedSchedule, ScheduleScope, SpeakerData, TalkData};
use crate::domain::text::{clean_line, clean_owned, name_key, title_key};

pub use streamed::Streamed;

/// What the organiser is told when nothing in the text looks like a talk.
const NO_TALK: &str = "no talk found: expected a listing (title, speaker, \"Track, Level\" \
line), a proposal page (title, speaker, \"Speaker Info:\" or \"Section:\"/\"Type:\"/\"Target \
Audience:\" lines) or reStructuredText notes (a title underlined with = or -)";

/// Parses a talk listing, a proposal page or reStructuredText talk notes into catalogue
/// entries (no slot, room or source id). The same title appearing twice yields one talk.
pub fn parse(input: &str, options: &ImportOptions) -> Result<ImportedSchedule, ImportError> {
    // `import::parse` checks the size too; this guards direct callers.
    if input.len() > options.max_bytes {
        return Err(ImportError::TooLarge {
            size: input.len(),
            limit: options.max_bytes,
        });
    }
    let lines = split_lines(input);
    let mut warnings = Vec::new();
    let talks = match detect(&lines) {
        Shape::Listing => listing::parse(lines, &mut warnings)?,
        Shape::Rst => rst::parse(&lines),
        Shape::Proposal => proposal::parse(&lines)?,
        Shape::Unknown => Vec::new(),
    };
    let talks = merge_duplicates(talks);
    if talks.is_empty() {
        return Err(ImportError::msg(NO_TALK));
    }
    let mut schedule = ImportedSchedule::new(ScheduleScope::Catalogue);
    schedule.talks = talks;
    schedule.warnings = warnings;
    Ok(schedule)
}

/// The three page shapes this importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Listing,
    Rst,
    Proposal,
    Unknown,
}

/// A listing's "Track, Level" anchors are the most specific sign, so they win over an
/// underlined first line (a listing page may well start with a Markdown-style heading).
fn detect(lines: &[Line<'_>]) -> Shape {
    if listing::has_anchor(lines) {
        Shape::Listing
    } else if rst::starts_with_title(lines) {
        Shape::Rst
    } else if proposal::has_markers(lines) {
        Shape::Proposal
    } else {
        Shape::Unknown
    }
}

/// One input line with its 1-based number (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line<'a> {
    no: usize,
    text: &'a str,
}

impl Line<'_> {
    fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// Splits on `\n`, dropping the `\r` of CRLF endings. The lines are counted first: grown by
/// doubling, the index of a 100,000-talk listing (1.7 million lines) held 10 MB it never used
/// and was copied on each growth.
fn split_lines(input: &str) -> Vec<Line<'_>> {
    let count = input.bytes().filter(|&b| b == b'\n').count() + 1;
    let mut lines = Vec::with_capacity(count);
    lines.extend(input.split('\n').enumerate().map(|(i, text)| Line {
        no: i + 1,
        text: text.strip_suffix('\r').unwrap_or(text),
    }));
    lines
}

/// A run of non-blank lines and how many blank lines came before it: scraped pages separate
/// talks with two blank lines and the parts of a talk with one. The lines are borrowed: a
/// copy of each paragraph's lines cost 75 MB for a 100,000-talk listing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Paragraph<'a> {
    lines: &'a [Line<'a>],
    blanks_before: usize,
}

impl Paragraph<'_> {
    fn first_no(&self) -> usize {
        self.lines.first().map_or(0, |l| l.no)
    }

    fn first_text(&self) -> &str {
        self.lines.first().map_or("", |l| l.text)
    }

    /// The paragraph as one line (a title wrapped over two lines).
    fn joined(&self) -> Option<String> {
        let parts: Vec<&str> = self.lines.iter().map(|l| l.text).collect();
        clean_line(&parts.join(" "))
    }
}

fn paragraphs<'a>(lines: &'a [Line<'a>]) -> Vec<Paragraph<'a>> {
    let mut out = Vec::new();
    let mut blanks = 0;
    let mut rest = lines;
    while let Some((first, tail)) = rest.split_first() {
        if first.is_blank() {
            blanks += 1;
            rest = tail;
            continue;
        }
        let len = rest.iter().position(Line::is_blank).unwrap_or(rest.len());
        let (paragraph, after) = rest.split_at(len);
        out.push(Paragraph {
            lines: paragraph,
            blanks_before: blanks,
        });
        blanks = 0;
        rest = after;
    }
    out
}

/// Splits `Label: rest` when the text before the first colon is a short run of words
/// ("Description", "Bio2", "Target Audience"); the label comes back lowercase with single
/// spaces. URLs and prose ("In 1989, Gabriel: ...") are not labels.
fn split_label(line: &str) -> Option<(String, &str)> {
    let text = line.trim_start();
    let colon = text.find(':')?;
    let label = text.get(..colon)?.trim();
    let words: Vec<&str> = label.split_whitespace().collect();
    let plausible = !words.is_empty()
        && words.len() <= 3
        && label.chars().count() <= 24
        && label.chars().all(|c| c.is_alphanumeric() || c == ' ');
    if !plausible {
        return None;
    }
    let rest = text.get(colon + 1..)?;
    if rest.starts_with("//") {
        return None; // a URL
    }
    let rest = rest.trim();
    Some((words.join(" ").to_lowercase(), rest))
}

/// Free text assembled line by line; blank lines separate paragraphs.
#[derive(Debug, Default, Clone)]
struct TextBlock {
    paragraphs: Vec<String>,
    current: Vec<String>,
}

impl TextBlock {
    /// Adds one line (trimmed at its end); a blank line ends the current paragraph.
    fn push(&mut self, line: &str) {
        let line = line.trim_end();
        if line.trim().is_empty() {
            self.end_paragraph();
        } else {
            self.current.push(line.to_owned());
        }
    }

    fn end_paragraph(&mut self) {
        if !self.current.is_empty() {
            self.paragraphs.push(self.current.join("\n"));
            self.current.clear();
        }
    }

    /// The text with paragraphs separated by one blank line, cleaned; `None` when empty.
    fn finish(mut self) -> Option<String> {
        self.end_paragraph();
        clean_owned(self.paragraphs.join("\n\n"))
    }
}

/// Joins optional text parts with a blank line between them.
fn join_parts(parts: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let parts: Vec<String> = parts.into_iter().flatten().collect();
    clean_owned(parts.join("\n\n"))
}

/// A person's name from a speaker reference: `Shuvam Manna (~shuvam)`, `By Avery Pennarun
/// (http://twitter.com/apenwarr)` and `Ann <ann@example.org>` give the bare name.
fn person_name(raw: &str) -> Option<String> {
    let mut name = raw.trim();
    for (open, close) in [('(', ')'), ('<', '>'), ('[', ']')] {
        if name.ends_with(close) {
            if let Some(start) = name.rfind(open) {
                name = name.get(..start).unwrap_or(name).trim_end();
            }
        }
    }
    for prefix in ["by ", "By "] {
        name = name.strip_prefix(prefix).unwrap_or(name);
    }
    let name = name.trim_matches(|c: char| c == ',' || c == ';' || c.is_whitespace());
    clean_line(name)
}

/// The names on a speaker line: `Kendall Chuang, David Clark`, `A and B`, `A & B`.
/// Parenthesised parts (handles, URLs) are dropped, so their commas do not split.
fn split_names(line: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in line.chars() {
        match c {
            '(' | '<' | '[' => depth += 1,
            ')' | '>' | ']' => depth = depth.saturating_sub(1),
            ',' | ';' | '&' if depth == 0 => pieces.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    pieces.push(current);
    pieces
        .iter()
        .flat_map(|piece| piece.split(" and "))
        .filter_map(person_name)
        .collect()
}

/// Folds talks with the same [`title_key`] into the first one, keeping first-seen order.
fn merge_duplicates(talks: Vec<TalkData>) -> Vec<TalkData> {
    let mut merged = Merged::with_capacity(talks.len());
    for talk in talks {
        merged.push(talk);
    }
    merged.into_talks()
}

/// Talks as they are taken, each repeat of a title ([`title_key`]) folded into the first.
#[derive(Debug, Default)]
struct Merged {
    talks: Vec<TalkData>,
    index: HashMap<String, usize>,
}

impl Merged {
    fn with_capacity(talks: usize) -> Self {
        Self {
            talks: Vec::with_capacity(talks),
            index: HashMap::with_capacity(talks),
        }
    }

    fn push(&mut self, talk: TalkData) {
        let key = title_key(&talk.title);
        match self.index.get(&key).and_then(|&i| self.talks.get_mut(i)) {
            Some(existing) => merge_talk(existing, talk),
            None => {
                self.index.insert(key, self.talks.len());
                self.talks.push(talk);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.talks.is_empty()
    }

    fn into_talks(self) -> Vec<TalkData> {
        self.talks
    }
}

/// Fills what `target` lacks from `other`. For free text the longer version wins: listing
/// pages cut long abstracts off, so a repeat may carry the complete text.
fn merge_talk(target: &mut TalkData, other: TalkData) {
    merge_longer(&mut target.description, other.description);
    merge_longer(&mut target.abstract_text, other.abstract_text);
    target.track = target.track.take().or(other.track);
    target.level = target.level.take().or(other.level);
    target.talk_type = target.talk_type.take().or(other.talk_type);
    for speaker in other.speakers {
        let key = name_key(&speaker.name);
        match target
            .speakers
            .iter_mut()
            .find(|s| name_key(&s.name) == key)
        {
            Some(known) => merge_longer(&mut known.biography, speaker.biography),
            None => target.speakers.push(speaker),
        }
    }
}

fn merge_longer<T: Deref<Target = str>>(target: &mut Option<T>, other: Option<T>) {
    if let Some(other) = other {
        let longer = match target {
            Some(known) => other.chars().count() > known.chars().count(),
            None => true,
        };
        if longer {
            *target = Some(other);
        }
    }
}

/// Speakers from names, each given the biography at its position (listing `Bio:`, `Bio2:`).
fn speakers_with_bios(names: Vec<String>, mut bios: Vec<Option<String>>) -> Vec<SpeakerData> {
    bios.resize(names.len(), None);
    // Sized to the names: grown from empty, every talk's list had room for four speakers,
    // 29 MB for a 100,000-talk listing.
    let mut speakers: Vec<SpeakerData> = Vec::with_capacity(names.len());
    for (name, biography) in names.into_iter().zip(bios) {
        let key = name_key(&name);
        if key.is_empty() || speakers.iter().any(|s| name_key(&s.name) == key) {
            continue;
        }
        speakers.push(SpeakerData {
            source_id: None,
            name,
            biography: biography.map(Arc::from),
        });
    }
    speakers
}
