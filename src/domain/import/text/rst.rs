//! reStructuredText talk notes: an over- and underlined (or underlined) title, an `Author`
//! section whose bullet items name the speaker (`Avery Pennarun (http://twitter.com/apenwarr)`)
//! and say something about them (`Works at Google`), then the notes themselves. The notes
//! become the description as readable text: section titles without their adornment lines,
//! bullets kept, indentation relative to the section.

use crate::domain::model::{TalkData, TalkKind, TalkStatus};
use crate::domain::text::{clean_line, clean_owned, title_key};

use super::{join_parts, speakers_with_bios, split_names, Line, TextBlock};

/// The characters docutils accepts for section adornments.
const ADORNMENT_CHARS: &str = "=-~^\"'`#*+_:.<>!";

/// Section titles that hold the speaker rather than notes.
const AUTHOR_TITLES: [&str; 8] = [
    "author",
    "authors",
    "speaker",
    "speakers",
    "presenter",
    "presenters",
    "about the author",
    "about the speaker",
];

/// The repeated character of an adornment line (`=====`), if the line is one.
fn adornment(line: Option<&Line<'_>>) -> Option<(char, usize)> {
    let text = line?.text.trim_end();
    let first = text.chars().next()?;
    let len = text.chars().count();
    (ADORNMENT_CHARS.contains(first) && len >= 3 && text.chars().all(|c| c == first))
        .then_some((first, len))
}

/// A title line: text that is not itself an adornment.
fn title_text<'a>(line: Option<&Line<'a>>) -> Option<&'a str> {
    let line = line?;
    (!line.is_blank() && adornment(Some(line)).is_none()).then_some(line.text)
}

/// `====` / `Title` / `====`: the title, when the three lines form an overlined title.
fn overlined<'a>(lines: &[Line<'a>], i: usize) -> Option<&'a str> {
    let (over, _) = adornment(lines.get(i))?;
    let title = title_text(lines.get(i + 1))?;
    let (under, _) = adornment(lines.get(i + 2))?;
    (over == under).then_some(title)
}

/// `Title` / `-----`: the title, when the underline is at least as long as the title (or
/// four characters: docutils only warns about short underlines).
fn underlined<'a>(lines: &[Line<'a>], i: usize) -> Option<&'a str> {
    let title = title_text(lines.get(i))?;
    let (_, len) = adornment(lines.get(i + 1))?;
    let indented = title.starts_with(char::is_whitespace);
    (!indented && len >= title.trim().chars().count().min(4)).then_some(title)
}

/// Whether the first non-blank lines form a section title.
pub(super) fn starts_with_title(lines: &[Line<'_>]) -> bool {
    let start = lines.iter().position(|l| !l.is_blank()).unwrap_or(0);
    overlined(lines, start).is_some() || underlined(lines, start).is_some()
}

/// A section: its title (none for text before the first title) and its body lines.
struct Section<'a> {
    title: Option<String>,
    body: Vec<Line<'a>>,
}

fn sections<'a>(lines: &[Line<'a>]) -> Vec<Section<'a>> {
    let mut out = vec![Section {
        title: None,
        body: Vec::new(),
    }];
    let mut i = 0;
    while i < lines.len() {
        let (title, used) = match (overlined(lines, i), underlined(lines, i)) {
            (Some(title), _) => (Some(title), 3),
            (None, Some(title)) => (Some(title), 2),
            (None, None) => (None, 1),
        };
        if let Some(title) = title {
            out.push(Section {
                title: clean_line(title),
                body: Vec::new(),
            });
        } else if let (Some(line), Some(section)) = (lines.get(i), out.last_mut()) {
            // A lone adornment line is a transition: layout, not text.
            if adornment(Some(line)).is_none() {
                section.body.push(*line);
            }
        }
        i += used;
    }
    out
}

fn indentation(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// The section as text: its title, then its body shifted left by the common indentation.
fn render(section: &Section<'_>) -> Option<String> {
    let mut block = TextBlock::default();
    if let Some(title) = &section.title {
        block.push(title);
    }
    let common = section
        .body
        .iter()
        .filter(|l| !l.is_blank())
        .map(|l| indentation(l.text))
        .min()
        .unwrap_or(0);
    for line in &section.body {
        block.push(line.text.get(common..).unwrap_or(line.text.trim_start()));
    }
    block.finish()
}

/// The items of an author section: bullet items (with their indented continuation lines)
/// or plain lines.
fn items(body: &[Line<'_>]) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut bullet_indent = None;
    for line in body.iter().filter(|l| !l.is_blank()) {
        let text = line.text.trim();
        let bullet = ["* ", "- ", "+ ", "• "]
            .iter()
            .find_map(|b| text.strip_prefix(b));
        match (bullet, items.last_mut(), bullet_indent) {
            (Some(rest), _, _) => {
                bullet_indent = Some(indentation(line.text));
                items.push(rest.trim().to_owned());
            }
            (None, Some(last), Some(indent)) if indentation(line.text) > indent => {
                last.push(' ');
                last.push_str(text);
            }
            (None, _, _) => {
                bullet_indent = None;
                items.push(text.to_owned());
            }
        }
    }
    items
}

/// An item naming a person carries a link or handle: `Name (http://...)`, `Name (@handle)`.
fn names_a_person(item: &str) -> bool {
    let Some(open) = item.find(['(', '<']) else {
        return false;
    };
    let reference = item.get(open..).unwrap_or("");
    let before = item.get(..open).unwrap_or("");
    ["http", "www.", "@", "~"]
        .iter()
        .any(|m| reference.contains(m))
        && (1..=5).contains(&before.split_whitespace().count())
}

/// Reads an author section's items. When some items carry a link or handle, those name
/// the speakers and every other item describes the speaker named before it (or the first
/// one); without links, the first item is the speaker and the rest describe them.
fn read_authors(items: &[String], names: &mut Vec<String>, bios: &mut Vec<Vec<String>>) {
    let linked = items.iter().any(|item| names_a_person(item));
    let first_new = names.len();
    let mut before_any_name = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let is_name = if linked { names_a_person(item) } else { i == 0 };
        if is_name {
            for name in split_names(item) {
                names.push(name);
                bios.push(Vec::new());
            }
        } else if names.len() > first_new {
            if let Some(bio) = bios.last_mut() {
                bio.push(item.clone());
            }
        } else {
            before_any_name.push(item.clone());
        }
    }
    if let Some(first) = bios.get_mut(first_new) {
        before_any_name.append(first);
        *first = before_any_name;
    }
}

/// `:Author: Name` docinfo fields (in the title's body) also name speakers.
fn author_field(text: &str) -> Option<&str> {
    let rest = text.trim().strip_prefix(':')?;
    let (name, value) = rest.split_once(':')?;
    let name = name.trim().to_lowercase();
    AUTHOR_TITLES.contains(&name.as_str()).then_some(value)
}

/// Parses the notes into one talk titled by the first section title.
pub(super) fn parse(lines: &[Line<'_>]) -> Vec<TalkData> {
    let mut sections = sections(lines);
    let Some(title) = sections.iter().find_map(|s| s.title.clone()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    let mut bios: Vec<Vec<String>> = Vec::new();
    let mut described = Vec::new();
    let mut seen_title = false;
    for section in &mut sections {
        let is_doc_title = section.title.is_some() && !seen_title;
        seen_title |= section.title.is_some();
        let is_author = !is_doc_title
            && section
                .title
                .as_deref()
                .is_some_and(|t| AUTHOR_TITLES.contains(&title_key(t).as_str()));
        if is_author {
            read_authors(&items(&section.body), &mut names, &mut bios);
            continue;
        }
        section.body.retain(|line| match author_field(line.text) {
            Some(value) => {
                names.extend(split_names(value));
                bios.resize(names.len(), Vec::new());
                false
            }
            None => true,
        });
        if is_doc_title {
            // The title is the talk's title, not part of its notes.
            section.title = None;
        }
        described.push(render(section));
    }
    let bios = bios
        .into_iter()
        .map(|b| clean_owned(b.join("\n")))
        .collect();
    vec![TalkData {
        title,
        description: join_parts(described).map(Into::into),
        speakers: speakers_with_bios(names, bios),
        status: TalkStatus::Confirmed,
        kind: TalkKind::Talk,
        ..TalkData::default()
    }]
}
