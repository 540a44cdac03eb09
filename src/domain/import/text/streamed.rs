//! A talk listing read as it comes ([`crate::domain::import::pieces`]): its text is never held
//! whole (a 100,000-talk listing is 1.7 million lines), only the lines of the talk being read
//! and of the heading after it.
//!
//! [`super::listing::parse`] finds every `Track, Level` anchor first and then reads each
//! talk's heading backwards from its anchor and its fields forwards up to the next heading.
//! Nothing in that looks further back than the anchor before, so a talk is built as soon as
//! the next anchor has been read, from a window holding the lines since its heading began.
//! The window keeps the blank lines before its first paragraph: how many there are is part
//! of telling a heading's title from its speakers.
//!
//! What the whole reading decides from the end of the text is decided at the end here: a
//! page footer cuts the last talk's fields only if no anchor line follows it, and the text
//! is a listing only if some paragraph, read before page noise is blanked, is an anchor.
//! Anything this cannot give as the whole reading would is `Err`: the caller reads the whole
//! text instead.

use super::listing::{
    anchor_of, heading, is_page_footer, is_page_noise, talk_or_anchor_line, track_level,
    untitled_warning,
};
use super::{paragraphs, Line, Merged, Paragraph};
use crate::domain::model::{ImportedSchedule, ScheduleScope, SharedTexts, TalkData};

/// Text before the first anchor is held until one comes: a page without one within this
/// is no listing worth reading as it comes.
const PREAMBLE_BYTES: usize = 1 << 20;

/// A talk listing being read line by line.
#[derive(Debug)]
pub struct Streamed {
    /// The lines since the current talk's heading (with the blank lines before it), page
    /// noise blanked, each ended by `\n`.
    window: String,
    /// The number of the window's first line.
    window_first: usize,
    /// The number of the next line.
    next_no: usize,
    /// The paragraph being read, page noise blanked.
    run: Run,
    /// The paragraph being read as it is written: what tells a listing from other pages.
    raw: Run,
    listing: bool,
    /// Whether the window starts with the current talk (it holds its anchor).
    holds_anchor: bool,
    /// The first page footer line since the last anchor line.
    footer: Option<usize>,
    talks: Merged,
    shared: SharedTexts,
    /// The anchor lines of talks skipped for want of a title.
    untitled: Vec<usize>,
    failed: Option<&'static str>,
}

/// How far a paragraph has got: its number of lines, and whether its first is an anchor.
#[derive(Debug, Default, Clone, Copy)]
struct Run {
    lines: usize,
    anchor: bool,
}

impl Run {
    /// Takes one line; `true` when it ends a paragraph that is a lone anchor line.
    fn take(&mut self, blank: bool, anchor: bool) -> bool {
        if blank {
            let ended = self.is_anchor();
            *self = Run::default();
            return ended;
        }
        if self.lines == 0 {
            self.anchor = anchor;
        }
        self.lines += 1;
        false
    }

    fn is_anchor(self) -> bool {
        self.lines == 1 && self.anchor
    }
}

impl Default for Streamed {
    fn default() -> Self {
        Self {
            window: String::new(),
            window_first: 1,
            next_no: 1,
            run: Run::default(),
            raw: Run::default(),
            listing: false,
            holds_anchor: false,
            footer: None,
            talks: Merged::default(),
            shared: SharedTexts::default(),
            untitled: Vec::new(),
            failed: None,
        }
    }
}

impl Streamed {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a piece of text made of whole lines (the last piece may end without a line feed).
    pub fn piece(&mut self, text: &str) {
        for line in text.split_terminator('\n') {
            self.line(line.strip_suffix('\r').unwrap_or(line));
        }
    }

    /// Whether the text has turned out to be something this reading cannot give.
    pub fn failed(&self) -> bool {
        self.failed.is_some()
    }

    fn line(&mut self, raw: &str) {
        let no = self.next_no;
        self.next_no += 1;
        let blank = raw.trim().is_empty();
        // Whether a line is an anchor matters only where a paragraph may start (here or once
        // page noise is blanked) and after a footer; most lines are neither.
        let asked = !blank && (self.raw.lines == 0 || self.run.lines == 0);
        let anchor = (asked || self.footer.is_some()) && track_level(raw).is_some();
        if self.raw.take(blank, anchor) {
            self.listing = true;
        }
        if anchor {
            self.footer = None;
        } else if self.footer.is_none() && is_page_footer(raw) {
            self.footer = Some(no);
        }
        let text = if is_page_noise(raw) { "" } else { raw };
        if self.run.take(text.trim().is_empty(), anchor) {
            self.anchor_ended();
        }
        self.window.push_str(text);
        self.window.push('\n');
        if !self.holds_anchor && self.window.len() > PREAMBLE_BYTES {
            self.failed = Some("no talk listing in the first megabyte");
            self.window.clear();
        }
    }

    /// The window's lines, up to the line numbered `end` (not included).
    fn lines(&self, end: Option<usize>) -> Vec<Line<'_>> {
        self.window
            .split_terminator('\n')
            .zip(self.window_first..)
            .take_while(|&(_, no)| end.map_or(true, |end| no < end))
            .map(|(text, no)| Line { no, text })
            .collect()
    }

    /// The window's last paragraph is an anchor: the talk before it (if any) is complete,
    /// and the window moves on to the new talk's heading.
    fn anchor_ended(&mut self) {
        let (taken, keep_from) = {
            let lines = self.lines(None);
            let paras = paragraphs(&lines);
            let Some(new) = paras.len().checked_sub(1) else {
                return;
            };
            let current = if self.holds_anchor {
                paras.iter().position(|p| anchor_of(p).is_some())
            } else {
                None
            };
            let head = heading(&paras, current.map_or(0, |at| at + 1), new);
            let taken = current.map(|at| first_talk(&paras, at, head.start()));
            // The new heading's blank lines stay: they tell its title from its speakers.
            let keep_from = head
                .start()
                .checked_sub(1)
                .and_then(|last| paras.get(last))
                .and_then(|p| p.lines.last())
                .map(|last| {
                    let before = lines.iter().take_while(|line| line.no <= last.no);
                    (last.no + 1, before.map(|line| line.text.len() + 1).sum())
                });
            (taken, keep_from)
        };
        if let Some(taken) = taken {
            self.take(taken);
        }
        if let Some((line, bytes)) = keep_from {
            self.cut_before(line, bytes);
        }
        self.holds_anchor = true;
    }

    fn take(&mut self, taken: Result<TalkData, usize>) {
        match taken {
            Ok(mut talk) => {
                self.shared.share_talk(&mut talk);
                self.talks.push(talk);
            }
            Err(line) => self.untitled.push(line),
        }
    }

    /// Drops the window's lines numbered below `line`, its first `bytes`.
    fn cut_before(&mut self, line: usize, bytes: usize) {
        self.window.drain(..bytes.min(self.window.len()));
        self.window_first = line.max(self.window_first);
    }

    /// The schedule read, or why the whole text must be read instead.
    pub fn finish(mut self) -> Result<ImportedSchedule, &'static str> {
        if self.run.is_anchor() {
            self.anchor_ended();
        }
        if self.raw.is_anchor() {
            self.listing = true;
        }
        if let Some(reason) = self.failed {
            return Err(reason);
        }
        if !self.listing {
            return Err("not a talk listing");
        }
        if self.holds_anchor {
            let taken = {
                // Cut where the whole reading cuts: at a footer after the last anchor line.
                let lines = self.lines(self.footer);
                let paras = paragraphs(&lines);
                let current = paras.iter().position(|p| anchor_of(p).is_some());
                current.map(|at| first_talk(&paras, at, paras.len()))
            };
            if let Some(taken) = taken {
                self.take(taken);
            }
        }
        if self.talks.is_empty() {
            // The whole reading says why.
            return Err("no talk with a title");
        }
        let mut schedule = ImportedSchedule::new(ScheduleScope::Catalogue);
        schedule.talks = self.talks.into_talks();
        schedule.warnings = self.untitled.into_iter().map(untitled_warning).collect();
        Ok(schedule)
    }
}

/// The window's talk, its anchor at `at` and its fields up to paragraph `end`: its heading
/// is whatever of the window comes before the anchor (the cut left no earlier talk's fields).
fn first_talk(paras: &[Paragraph<'_>], at: usize, end: usize) -> Result<TalkData, usize> {
    let fields = paras.get(at + 1..end).unwrap_or(&[]);
    talk_or_anchor_line(paras, &heading(paras, 0, at), fields)
}
