//! A single proposal page as a CFP site shows it: the title, the speaker (`Shuvam Manna
//! (~shuvam)`), free-text description paragraphs (outlines and lists included), then labelled
//! parts: `Prerequisites:`, `Speaker Info:` (the biography), `Section:` (track), `Type:`
//! (talk type) and `Target Audience:` (level).

use std::sync::Arc;

use crate::domain::import::ImportError;
use crate::domain::model::{TalkData, TalkKind, TalkStatus};
use crate::domain::text::clean_line;

use super::{join_parts, speakers_with_bios, split_label, split_names, Line, TextBlock};

/// The labelled parts of a proposal page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Description,
    Abstract,
    Prerequisites,
    SpeakerInfo,
    Track,
    Type,
    Level,
    /// Links and timestamps: shown on the page, not part of the talk.
    Ignored,
}

fn part_of(label: &str) -> Option<Part> {
    Some(match label {
        "description" => Part::Description,
        "abstract" => Part::Abstract,
        "prerequisites" => Part::Prerequisites,
        "speaker info" | "speaker bio" | "about the speaker" => Part::SpeakerInfo,
        "section" | "track" => Part::Track,
        "type" | "talk type" | "session type" => Part::Type,
        "target audience" | "audience level" | "level" => Part::Level,
        "content urls" | "speaker links" | "last updated" => Part::Ignored,
        _ => return None,
    })
}

fn labelled_part(text: &str) -> Option<(Part, &str)> {
    split_label(text).and_then(|(label, rest)| part_of(&label).map(|part| (part, rest)))
}

/// A `Speaker Info:` line, or at least two of the `Section:` / `Type:` /
/// `Target Audience:` trailer lines.
pub(super) fn has_markers(lines: &[Line<'_>]) -> bool {
    let parts: Vec<Part> = lines
        .iter()
        .filter_map(|l| labelled_part(l.text).map(|(part, _)| part))
        .collect();
    let trailer = [Part::Track, Part::Type, Part::Level]
        .iter()
        .filter(|p| parts.contains(p))
        .count();
    parts.contains(&Part::SpeakerInfo) || trailer >= 2
}

/// A speaker reference is one short line of a few words that does not read like a sentence.
fn looks_like_speaker(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && text.chars().count() <= 80
        && text.split_whitespace().count() <= 8
        && !text.ends_with(['.', '!', '?', ':'])
        && labelled_part(text).is_none()
}

/// Parses the page into one talk (none when the page has no title line).
pub(super) fn parse(lines: &[Line<'_>]) -> Result<Vec<TalkData>, ImportError> {
    let mut rest = lines.iter().skip_while(|l| l.is_blank());
    let Some(title_line) = rest.next() else {
        return Ok(Vec::new());
    };
    if let Some((_, _)) = labelled_part(title_line.text) {
        return Err(ImportError::at_line(
            title_line.no,
            "expected the talk title on the first line of the proposal page, found a labelled line",
        ));
    }
    let Some(title) = clean_line(title_line.text) else {
        return Ok(Vec::new());
    };

    let mut body: Vec<&Line<'_>> = rest.collect();
    let mut names = Vec::new();
    if let Some(pos) = body.iter().position(|l| !l.is_blank()) {
        if body.get(pos).is_some_and(|l| looks_like_speaker(l.text)) {
            names = body.get(pos).map_or_else(Vec::new, |l| split_names(l.text));
            body.drain(..=pos);
        }
    }

    let mut blocks: Vec<(Part, TextBlock)> = vec![(Part::Description, TextBlock::default())];
    for line in body {
        if let Some((part, text)) = labelled_part(line.text) {
            let mut block = TextBlock::default();
            block.push(text);
            blocks.push((part, block));
        } else if let Some((_, block)) = blocks.last_mut() {
            // Leading indentation only served the page layout of lists.
            block.push(line.text.trim());
        }
    }
    let text_of = |wanted: Part| {
        join_parts(
            blocks
                .iter()
                .filter(|(part, _)| *part == wanted)
                .map(|(_, block)| block.clone().finish()),
        )
    };
    let line_of = |wanted: Part| text_of(wanted).and_then(|t| clean_line(&t));
    let prerequisites = text_of(Part::Prerequisites).map(|p| format!("Prerequisites:\n{p}"));
    // `Speaker Info:` describes the person who submitted the proposal: the first speaker.
    let bios = vec![text_of(Part::SpeakerInfo)];

    Ok(vec![TalkData {
        title,
        description: join_parts([text_of(Part::Description), prerequisites]).map(Into::into),
        abstract_text: text_of(Part::Abstract).map(Into::into),
        speakers: speakers_with_bios(names, bios),
        track: line_of(Part::Track).map(Arc::from),
        level: line_of(Part::Level).map(Arc::from),
        talk_type: line_of(Part::Type).map(Arc::from),
        status: TalkStatus::Confirmed,
        kind: TalkKind::Talk,
        ..TalkData::default()
    }])
}
