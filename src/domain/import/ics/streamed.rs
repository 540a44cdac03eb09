//! A calendar read from its text a piece at a time, as its file is read, so that no more
//! than one piece of the text is held (a 100,000-event calendar is 125 MB of text). Each
//! content line is copied out of its piece as it is lexed ([`ContentLine::into_owned`]);
//! everything else is the reading of the whole text ([`super::read`]), so both give the
//! same talks.

use super::calendar::Read;
use super::lexer::{self, ContentLine};
use super::{Reader, MIN_EVENT_BYTES};
use crate::domain::import::ImportOptions;
use crate::domain::model::ImportedSchedule;

/// A calendar being read piece by piece.
pub struct Streamed<'o> {
    reader: Reader<'static, 'o>,
}

impl<'o> Streamed<'o> {
    /// `talks_hint`: how many talks to size the list for ([`talks_hint`]).
    pub fn new(options: &'o ImportOptions, talks_hint: usize) -> Self {
        Self {
            reader: Reader::new(options, Read::AsTheyClose, talks_hint),
        }
    }

    /// Reads the next piece of the text: whole lines, the first of them numbered
    /// `first_line`, none continued by the next piece.
    pub fn piece(&mut self, text: &str, first_line: usize) {
        let reader = &mut self.reader;
        lexer::lex(text, first_line, |line| {
            reader.line(line.map(ContentLine::into_owned))
        });
    }

    /// Whether the rest of the text need not be read: a calendar could not be read, or
    /// stated after its events something they are read with. Only a reading of the whole
    /// text can import it, or name its fault as it always has.
    pub fn failed(&self) -> bool {
        self.reader.failed()
    }

    /// The schedule, or `None` when the calendar could not be read this way: an error, or a
    /// zone stated after the events. Reading the whole text then gives the error, or the
    /// talks, exactly as any calendar's.
    pub fn finish(self) -> Option<ImportedSchedule> {
        self.reader.finish().ok()
    }
}

/// How many talks to size the list for, from the start of a calendar (`sample`) and its
/// length in bytes: the VEVENTs the sample begins, as many again for every sample's length
/// of the rest, and no more than [`super::vevent_hint`] allows for the whole length.
pub fn talks_hint(sample: &str, total_bytes: usize) -> usize {
    let in_sample = super::vevent_hint(sample);
    let scaled = match sample.len() {
        0 => 0,
        len => in_sample.saturating_mul(total_bytes.div_ceil(len)),
    };
    scaled.min(total_bytes / MIN_EVENT_BYTES)
}
