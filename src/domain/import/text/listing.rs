//! Talk listing pages scraped from a conference website.
//!
//! Each talk is a block of paragraphs: a title, the speaker line(s), a `Track, Level` line
//! ("Language Internals, Intermediate"), then labelled fields (`Description:`, `Abstract:`,
//! `Bio:`, `Bio2:` ...) whose text may run over several paragraphs and lists. The
//! `Track, Level` line is the anchor: it is the one line whose shape is unmistakable, so the
//! parser finds the anchors first and reads the title and speakers backwards from each one.
//! Everything between two anchors that is not the next talk's heading belongs to the fields
//! of the talk before.

use crate::domain::model::{SharedTexts, TalkData, TalkKind, TalkStatus};
use crate::domain::text::clean_line;

use super::{
    join_parts, paragraphs, speakers_with_bios, split_label, split_names, Line, Paragraph,
    TextBlock,
};
use crate::domain::import::ImportError;

/// Audience levels a `Track, Level` line may end with (compared case-insensitively).
const LEVELS: [&str; 9] = [
    "beginner",
    "novice",
    "intermediate",
    "advanced",
    "expert",
    "all",
    "all levels",
    "everyone",
    "any",
];

/// Website boilerplate that is not part of any talk.
pub(super) fn is_page_noise(text: &str) -> bool {
    let text = text.trim().to_lowercase();
    matches!(
        text.as_str(),
        "top of page" | "bottom of page" | "please reload"
    ) || text.starts_with("for talks overview")
}

/// Where the page footer starts: after the last talk, its bio would otherwise swallow the
/// social-media links that follow.
pub(super) fn is_page_footer(text: &str) -> bool {
    let text = text.trim();
    text.eq_ignore_ascii_case("please reload") || text.eq_ignore_ascii_case("bottom of page")
}

/// Reads a `Track, Level` line. The level must be a known audience level; the track is what
/// precedes the last comma and must not look like a list item.
pub(super) fn track_level(text: &str) -> Option<(String, String)> {
    let text = text.trim();
    // No char is over 4 bytes: most lines of prose are told apart without counting theirs.
    if text.len() > 400 || text.chars().count() > 100 {
        return None;
    }
    let (track, level) = text.rsplit_once(',')?;
    let level = clean_line(level)?;
    if !LEVELS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(&level))
    {
        return None;
    }
    let track = clean_line(track)?;
    if track.starts_with(['*', '-', '+', '•']) || split_label(&track).is_some() {
        return None;
    }
    Some((track, level))
}

/// A one-line paragraph holding a `Track, Level` line.
pub(super) fn anchor_of(paragraph: &Paragraph<'_>) -> Option<(String, String)> {
    match paragraph.lines {
        [line] => track_level(line.text),
        _ => None,
    }
}

/// Whether any paragraph of the text is a `Track, Level` anchor.
pub(super) fn has_anchor(lines: &[Line<'_>]) -> bool {
    paragraphs(lines).iter().any(|p| anchor_of(p).is_some())
}

/// The fields a listing block may carry, by label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// Unlabelled text between the anchor and the first label.
    Lead,
    Description,
    Abstract,
    /// `Bio:` (0), `Bio2:` (1), ...: the biography of the speaker at that position.
    Bio(usize),
}

fn field_of(label: &str) -> Option<Field> {
    match label {
        "description" => Some(Field::Description),
        "abstract" => Some(Field::Abstract),
        "bio" | "biography" | "bio1" | "bio0" => Some(Field::Bio(0)),
        other => {
            let n: usize = other.strip_prefix("bio")?.parse().ok()?;
            Some(Field::Bio(n.saturating_sub(1)))
        }
    }
}

fn is_field_paragraph(paragraph: &Paragraph<'_>) -> bool {
    split_label(paragraph.first_text()).is_some_and(|(label, _)| field_of(&label).is_some())
}

/// Where one talk's heading sits in the paragraph list.
#[derive(Debug, Clone, Copy)]
pub(super) struct Heading {
    title: Option<usize>,
    speakers: Option<usize>,
    anchor: usize,
}

impl Heading {
    /// The first paragraph of the block: the previous talk's fields end before it.
    pub(super) fn start(&self) -> usize {
        self.title.or(self.speakers).unwrap_or(self.anchor)
    }
}

/// Reads the heading backwards from the anchor. Candidates are the paragraphs after the last
/// labelled field of the previous block: the one right before the anchor is the speaker line
/// and the one before that the title. With a single candidate the talk has no speaker line.
/// Two blank lines before the last candidate (and not before the one above it) also mean
/// "no speaker": the paragraph above is then the tail of the previous talk's last field.
pub(super) fn heading(paras: &[Paragraph<'_>], from: usize, anchor: usize) -> Heading {
    let after_fields = (from..anchor)
        .rev()
        .find(|&i| paras.get(i).is_some_and(is_field_paragraph))
        .map_or(from, |i| i + 1);
    let blanks = |i: usize| paras.get(i).map_or(0, |p| p.blanks_before);
    let (title, speakers) = match anchor.saturating_sub(after_fields) {
        0 => (None, None),
        1 => (Some(anchor - 1), None),
        _ => {
            let (t, s) = (anchor - 2, anchor - 1);
            if blanks(s) >= 2 && blanks(t) < 2 {
                (Some(s), None)
            } else {
                (Some(t), Some(s))
            }
        }
    };
    Heading {
        title,
        speakers,
        anchor,
    }
}

/// Parses every talk block of a listing page; blocks without a title are skipped (they
/// cannot be matched to anything) unless no block has one.
pub(super) fn parse(
    mut lines: Vec<Line<'_>>,
    warnings: &mut Vec<String>,
) -> Result<Vec<TalkData>, ImportError> {
    let last_anchor = lines.iter().rposition(|l| track_level(l.text).is_some());
    let end = lines
        .iter()
        .enumerate()
        .skip(last_anchor.map_or(0, |i| i + 1))
        .find(|(_, l)| is_page_footer(l.text))
        .map_or(lines.len(), |(i, _)| i);
    // Blanked where they lie: a copy of every line was 40 MB for a 100,000-talk listing
    // (1.7 million lines of 24 bytes).
    lines.truncate(end);
    for line in &mut lines {
        if is_page_noise(line.text) {
            line.text = "";
        }
    }
    let paras = paragraphs(&lines);

    let anchors: Vec<usize> = (0..paras.len())
        .filter(|&i| paras.get(i).and_then(anchor_of).is_some())
        .collect();
    let mut headings = Vec::with_capacity(anchors.len());
    let mut from = 0;
    for &anchor in &anchors {
        headings.push(heading(&paras, from, anchor));
        from = anchor + 1;
    }

    // One talk per heading at most; grown by doubling, the list kept room for 31,000 more
    // talks (10 MB) through the import of 100,000.
    let mut talks = Vec::with_capacity(headings.len());
    let mut untitled = Vec::new();
    let mut shared = SharedTexts::default();
    for (k, head) in headings.iter().enumerate() {
        let fields_end = headings.get(k + 1).map_or(paras.len(), Heading::start);
        let fields = paras.get(head.anchor + 1..fields_end).unwrap_or(&[]);
        match talk_or_anchor_line(&paras, head, fields) {
            Ok(mut talk) => {
                shared.share_talk(&mut talk);
                talks.push(talk);
            }
            Err(line) => untitled.push(line),
        }
    }
    warnings.extend(untitled.iter().map(|&line| untitled_warning(line)));
    match untitled.first() {
        Some(&line) if talks.is_empty() => Err(ImportError::at_line(
            line,
            "a \"Track, Level\" line without a talk title above it",
        )),
        _ => Ok(talks),
    }
}

/// What the organiser is told of a talk skipped for want of a title.
pub(super) fn untitled_warning(line: usize) -> String {
    format!("line {line}: a \"Track, Level\" line has no talk title above it; skipped")
}

/// [`talk`], or the line of its anchor when it has no title (for the warning).
pub(super) fn talk_or_anchor_line(
    paras: &[Paragraph<'_>],
    head: &Heading,
    fields: &[Paragraph<'_>],
) -> Result<TalkData, usize> {
    talk(paras, head, fields).ok_or_else(|| paras.get(head.anchor).map_or(0, Paragraph::first_no))
}

/// Builds one talk from its heading and field paragraphs; `None` without a title.
fn talk(paras: &[Paragraph<'_>], head: &Heading, fields: &[Paragraph<'_>]) -> Option<TalkData> {
    let (track, level) = paras.get(head.anchor).and_then(anchor_of)?;
    let title_para = paras.get(head.title?)?;
    // A heading squeezed into one paragraph: the first line is the title, the rest speakers.
    let (title, mut speaker_lines): (Option<String>, Vec<&str>) = match head.speakers {
        None if title_para.lines.len() > 1 => (
            clean_line(title_para.first_text()),
            title_para.lines.iter().skip(1).map(|l| l.text).collect(),
        ),
        _ => (title_para.joined(), Vec::new()),
    };
    if let Some(para) = head.speakers.and_then(|i| paras.get(i)) {
        speaker_lines.extend(para.lines.iter().map(|l| l.text));
    }
    let names: Vec<String> = speaker_lines.iter().flat_map(|l| split_names(l)).collect();

    let mut blocks: Vec<(Field, TextBlock)> = Vec::new();
    for para in fields {
        for line in para.lines {
            let labelled = split_label(line.text)
                .and_then(|(label, rest)| field_of(&label).map(|field| (field, rest)));
            match (labelled, blocks.last_mut()) {
                (Some((field, rest)), _) => {
                    let mut block = TextBlock::default();
                    block.push(rest);
                    blocks.push((field, block));
                }
                (None, Some((_, block))) => block.push(line.text.trim()),
                (None, None) => {
                    let mut block = TextBlock::default();
                    block.push(line.text.trim());
                    blocks.push((Field::Lead, block));
                }
            }
        }
        if let Some((_, block)) = blocks.last_mut() {
            block.end_paragraph();
        }
    }
    let text_of = |wanted: Field| {
        join_parts(
            blocks
                .iter()
                .filter(|(field, _)| *field == wanted)
                .map(|(_, block)| block.clone().finish()),
        )
    };
    let bio_count = blocks
        .iter()
        .filter_map(|(field, _)| match field {
            Field::Bio(i) => Some(i + 1),
            _ => None,
        })
        .max()
        .unwrap_or(0)
        .min(names.len());
    let bios = (0..bio_count).map(|i| text_of(Field::Bio(i))).collect();

    Some(TalkData {
        title: title?,
        description: join_parts([text_of(Field::Lead), text_of(Field::Description)])
            .map(Into::into),
        abstract_text: text_of(Field::Abstract).map(Into::into),
        speakers: speakers_with_bios(names, bios),
        track: Some(track.into()),
        level: Some(level.into()),
        status: TalkStatus::Confirmed,
        kind: TalkKind::Talk,
        ..TalkData::default()
    })
}
