//! A file imported as it is read, so that its text is never held whole (125 MB of a
//! 100,000-event calendar, 277 MB of a 100,000-talk schedule.json, most of what such an import
//! held at its peak). Only what is certain to read the same as the whole text is read this
//! way, as UTF-8 (the BOMs dropped that [`super::decode`] and the format's reader drop: two
//! from a calendar, one from a schedule.json or schedule.xml, where a second is an error or
//! read whole, and one from a talk listing, which keeps a second as text) giving a schedule
//! that the [`super::limits`] leave as it is:
//!
//! - an iCalendar file a piece at a time, with LF or CRLF line ends;
//! - a schedule.json through a buffer, its talks converted as they are read
//!   ([`super::pretalx_json::read`]); one whose conference states its zone and rooms after
//!   its days (its keys sorted) or not at all is read twice, its days skipped the first time
//!   and converted the second, with the zone and rooms the first reading found;
//! - a schedule.xml an element at a time ([`super::frab_xml::read`]), when its conference
//!   comes before its days and nothing but white space comes between its days, rooms and
//!   events;
//! - a talk listing a piece at a time ([`super::text::Streamed`]), each talk built once the
//!   next one's `Track, Level` line is read.
//!
//! Anything else (another format or encoding, a format told only past the first kilobyte, a
//! character folded in half, lone CRs, an error, a warning about a limit, a zone stated after
//! the events, a schedule.json whose zone or rooms changed between its two readings, a
//! proposal page or reStructuredText notes) is [`ReadWhole`]: the caller reads
//! the whole file with [`super::parse`], whose messages name lines and talks as they always
//! have.

use std::io::{Read, Seek, SeekFrom};

use super::decode::has_lone_cr;
use super::ics::{self, Streamed};
use super::pretalx_json::{self, Ahead, Pass};
use super::{frab_xml, limits, text, Format, ImportOptions};
use crate::domain::model::ImportedSchedule;
use hashed::Hashed;

mod hashed;

/// How many bytes a piece is read in (a piece ends at a whole line, so may be longer).
pub const PIECE_BYTES: usize = 1 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bytes read before the format is told: a BOM, some blank lines and `BEGIN:VCALENDAR`.
const SNIFF_BYTES: usize = 1 << 10;

/// How many bytes from the first that is not white space tell a format
/// ([`Format::detect`]: `BEGIN:VCALENDAR`).
const TELLING_BYTES: usize = 15;

/// The file cannot be imported a piece at a time; the reason is for the operator's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadWhole(pub &'static str);

/// What the file's fingerprint is taken from, as it is read.
#[derive(Debug, PartialEq, Eq)]
pub enum Hashing {
    /// The next bytes of the file.
    Run(Vec<u8>),
    /// The file is read again from its start: the fingerprint is of what comes next only.
    Again,
}

/// Where the next piece of `pending` (bytes read, not yet handed out) ends: just after the
/// last line feed from `from` on whose next line is known and does not continue it (RFC 5545
/// folds a line by starting the next with a space or tab). `0`: no piece can end yet, read
/// more. At the end of the file (`at_end`), everything left is the piece.
pub fn cut(pending: &[u8], from: usize, at_end: bool) -> usize {
    if at_end {
        return pending.len();
    }
    let mut end = pending.len();
    while let Some(at) = pending
        .get(from..end)
        .and_then(|b| b.iter().rposition(|&b| b == b'\n'))
        .map(|at| at + from)
    {
        match pending.get(at + 1) {
            Some(b' ' | b'\t') | None => end = at,
            Some(_) => return at + 1,
        }
    }
    0
}

/// [`cut`] for text whose lines are never folded: a piece may end after any line feed, so a
/// listing whose lines start with a space is still read a piece at a time.
fn cut_lines(pending: &[u8], from: usize, at_end: bool) -> usize {
    if at_end {
        return pending.len();
    }
    pending
        .get(from..)
        .and_then(|bytes| bytes.iter().rposition(|&b| b == b'\n'))
        .map_or(0, |at| from + at + 1)
}

/// Reads `source` (`total_bytes` long) to its end, parsing it as it is read, and hands each
/// run of its bytes to `hashed` once parsed (which returns `false` when it can take no more).
/// A calendar is read a piece at a time as [`cut`] ends them. A schedule.json may be read a
/// second time from its start (hence `Seek`), and `hashed` is then told [`Hashing::Again`]
/// first. Gives the format read.
pub fn read(
    source: &mut (impl Read + Seek),
    options: &ImportOptions,
    format: Option<Format>,
    total_bytes: usize,
    hashed: impl FnMut(Hashing) -> bool,
) -> Result<(Format, ImportedSchedule), ReadWhole> {
    read_by(source, PIECE_BYTES, options, format, total_bytes, hashed)
}

/// [`read`], reading `piece_bytes` at a time.
fn read_by(
    source: &mut (impl Read + Seek),
    piece_bytes: usize,
    options: &ImportOptions,
    format: Option<Format>,
    total_bytes: usize,
    mut hashed: impl FnMut(Hashing) -> bool,
) -> Result<(Format, ImportedSchedule), ReadWhole> {
    let mut pending: Vec<u8> = Vec::new();
    let mut read_so_far = 0_usize;
    // Reads up to `want` more bytes; `true` at the end of the source (a `Take` read to its end
    // stops short only there).
    let mut fill = |pending: &mut Vec<u8>, want: usize| {
        pending.reserve(want);
        let read = source
            .take(u64::try_from(want).unwrap_or(u64::MAX))
            .read_to_end(pending)
            .map_err(|_| ReadWhole("a read failed"))?;
        read_so_far = read_so_far.saturating_add(read);
        // Whatever the file said its length was: it may be growing.
        if read_so_far > options.max_bytes {
            return Err(ReadWhole("over the size limit"));
        }
        Ok(read < want)
    };
    // The first kilobyte tells the format: anything else is left to the whole reading before
    // more of it is read.
    let mut at_end = fill(&mut pending, SNIFF_BYTES)?;
    let format_read = readable(format, &pending, at_end)?;
    match format_read {
        Format::Json => {
            let schedule = read_json(pending, source, options, &mut hashed)?;
            return within_limits(schedule).map(|schedule| (Format::Json, schedule));
        }
        Format::Xml => {
            let schedule = Hashed::new(pending, source, options.max_bytes, &mut hashed)
                .read(|xml| frab_xml::read(xml, piece_bytes, options))?;
            return within_limits(schedule).map(|schedule| (Format::Xml, schedule));
        }
        Format::Ics | Format::Text => {}
    }
    let mut pieces = Pieces::start(format_read, options, total_bytes);
    // Line feeds before this offset of `pending` end no piece: each byte is looked at once,
    // however long a run without a piece's end (an indented JSON file has no line a fold
    // could not continue).
    let mut scanned = 0;
    loop {
        if !at_end {
            at_end = fill(&mut pending, piece_bytes)?;
        }
        let at = match format_read {
            Format::Text => cut_lines(&pending, scanned, at_end),
            _ => cut(&pending, scanned, at_end),
        };
        if at == 0 && !at_end {
            // The last byte may be a line feed whose next line is still to come.
            scanned = pending.len().saturating_sub(1);
            continue;
        }
        let rest = pending.split_off(at);
        let piece = std::mem::replace(&mut pending, rest);
        scanned = pending.len().saturating_sub(1);
        pieces.take(&piece)?;
        if !hashed(Hashing::Run(piece)) {
            return Err(ReadWhole("the hash stopped"));
        }
        if at_end {
            return pieces.finish().map(|schedule| (format_read, schedule));
        }
    }
}

/// Reads a schedule.json whose first bytes, `head`, were read from `source`: once, or, when
/// its days come before its zone or rooms (or it states neither), a second time from its start
/// with what the first reading found. The fingerprint is then of the second reading's bytes,
/// the ones parsed, even should the file have changed in between.
fn read_json(
    head: Vec<u8>,
    source: &mut (impl Read + Seek),
    options: &ImportOptions,
    hashed: &mut impl FnMut(Hashing) -> bool,
) -> Result<ImportedSchedule, ReadWhole> {
    let ahead = match json_pass(head, source, options, hashed, None)? {
        Pass::Schedule(schedule) => return Ok(schedule),
        Pass::Again(ahead) => ahead,
    };
    if !hashed(Hashing::Again) {
        return Err(ReadWhole("the hash stopped"));
    }
    let head = head_again(source, options.max_bytes)?;
    match json_pass(head, source, options, hashed, Some(&ahead))? {
        Pass::Schedule(schedule) => Ok(schedule),
        Pass::Again(_) => Err(ReadWhole(
            "the days were skipped with the zone and rooms known",
        )),
    }
}

/// One reading of a schedule.json, through the hash and the checks of [`Hashed`].
fn json_pass(
    head: Vec<u8>,
    source: &mut impl Read,
    options: &ImportOptions,
    hashed: &mut impl FnMut(Hashing) -> bool,
    ahead: Option<&Ahead>,
) -> Result<Pass, ReadWhole> {
    Hashed::new(head, source, options.max_bytes, hashed)
        .read(|json| pretalx_json::read(json, options, ahead))
}

/// The first kilobyte of `source` read again from its start. Handed to [`Hashed`] as the
/// head, as the first reading's was, so that a byte-order mark is dropped there again: the
/// JSON reader refuses one.
fn head_again(source: &mut (impl Read + Seek), max_bytes: usize) -> Result<Vec<u8>, ReadWhole> {
    let mut head = Vec::new();
    source
        .seek(SeekFrom::Start(0))
        .and_then(|_| {
            let sniff = u64::try_from(SNIFF_BYTES).unwrap_or(u64::MAX);
            source.take(sniff).read_to_end(&mut head)
        })
        .map_err(|_| ReadWhole("the file could not be read again"))?;
    if head.len() > max_bytes {
        return Err(ReadWhole("over the size limit"));
    }
    Ok(head)
}

/// An iCalendar file or a talk listing being imported as it is read.
struct Pieces<'o> {
    /// Begun at the first piece, which sizes its list of talks.
    calendar: Option<Streamed<'o>>,
    /// `Some` for a talk listing, whose pieces go to its own reader.
    listing: Option<text::Streamed>,
    options: &'o ImportOptions,
    total_bytes: usize,
    /// The number of the next piece's first line.
    next_line: usize,
}

impl<'o> Pieces<'o> {
    /// Starts on a calendar (or, as `format` says, a talk listing) of `total_bytes`.
    fn start(format: Format, options: &'o ImportOptions, total_bytes: usize) -> Self {
        Self {
            calendar: None,
            listing: (format == Format::Text).then(text::Streamed::new),
            options,
            total_bytes,
            next_line: 1,
        }
    }

    /// Reads the next piece, as [`cut`] ends it.
    fn take(&mut self, piece: &[u8]) -> Result<(), ReadWhole> {
        // The BOMs the whole reading drops from the first piece (every piece but the last
        // ends a line, so only the first starts at line 1): the bytes' (decoding) and a
        // calendar's text's.
        let body = if self.next_line == 1 {
            let once = piece.strip_prefix(BOM).unwrap_or(piece);
            match self.listing {
                Some(_) => once,
                None => once.strip_prefix(BOM).unwrap_or(once),
            }
        } else {
            piece
        };
        let text = std::str::from_utf8(body).map_err(|_| ReadWhole("not UTF-8"))?;
        if has_lone_cr(text) {
            return Err(ReadWhole("a CR that ends no line"));
        }
        let first_line = self.next_line;
        self.next_line += body.iter().filter(|&&b| b == b'\n').count();
        if let Some(listing) = &mut self.listing {
            listing.piece(text);
            return match listing.failed() {
                true => Err(ReadWhole("a text this reading cannot read")),
                false => Ok(()),
            };
        }
        let (options, total) = (self.options, self.total_bytes);
        let calendar = self
            .calendar
            .get_or_insert_with(|| Streamed::new(options, ics::talks_hint(text, total)));
        calendar.piece(text, first_line);
        if calendar.failed() {
            return Err(ReadWhole("a calendar that this reading cannot read"));
        }
        Ok(())
    }

    /// The schedule, once every piece is taken.
    fn finish(self) -> Result<ImportedSchedule, ReadWhole> {
        if let Some(listing) = self.listing {
            return within_limits(listing.finish().map_err(ReadWhole)?);
        }
        let schedule = self
            .calendar
            .and_then(Streamed::finish)
            .ok_or(ReadWhole("the calendar could not be read this way"))?;
        within_limits(schedule)
    }
}

/// The format a file that begins with `head` (all of it when `at_end`) is read in pieces
/// as: `format`, or the one detected, unless it is in UTF-16 or `head` may not tell it.
fn readable(format: Option<Format>, head: &[u8], at_end: bool) -> Result<Format, ReadWhole> {
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(ReadWhole("UTF-16"));
    }
    if let Some(format) = format {
        return Ok(format);
    }
    // The whole reading detects from the whole file: after a long run of white space the
    // first kilobyte would say "text" of what may be a calendar, JSON or XML.
    let body = head.strip_prefix(BOM).unwrap_or(head);
    let told = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .is_some_and(|at| body.len() - at >= TELLING_BYTES);
    if told || at_end {
        Ok(Format::detect(head))
    } else {
        Err(ReadWhole("the format is not told in the first kilobyte"))
    }
}

/// `schedule`, if the [`limits`] leave it as it is.
fn within_limits(mut schedule: ImportedSchedule) -> Result<ImportedSchedule, ReadWhole> {
    let warned = schedule.warnings.len();
    // No text to find a talk's line in: any message is given by reading the whole file.
    match limits::enforce(&mut schedule, None) {
        Ok(()) if schedule.warnings.len() == warned => Ok(schedule),
        _ => Err(ReadWhole("a field over its limit")),
    }
}

#[cfg(test)]
#[path = "tests_pieces.rs"]
mod tests;
#[cfg(test)]
#[path = "tests_pieces_json.rs"]
mod tests_json;
#[cfg(test)]
#[path = "tests_shared.rs"]
mod tests_shared;
#[cfg(test)]
#[path = "tests_pieces_text.rs"]
mod tests_text;
#[cfg(test)]
#[path = "tests_pieces_xml.rs"]
mod tests_xml;
