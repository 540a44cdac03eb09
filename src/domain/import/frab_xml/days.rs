//! A local schedule.xml read an element at a time ([`crate::domain::import::pieces`]), so
//! that its text is never held whole: 172 MB of a 100,000-talk file, half of what its import
//! held at its peak. Each `<event>`, and each day's and room's start tag, is read by the same
//! outline and code as the whole file's, alone, with its lines counted from where it starts
//! and its depth from the elements around it; its text is freed once it is read.
//!
//! Only a file laid out as frab and pretalx write it is read this way: the root `<schedule>`
//! with its `<conference>` before the first day, then days of rooms of events, with only
//! white space between them, then the root's end tag. Anything else (a comment or another
//! element among them, no conference before the days, an entity declaration, a lone CR, a
//! second BOM, an error, an event that does not end at its first `</event>`) is
//! [`ReadWhole`]: the whole
//! reading then gives the schedule, or the message naming the line.

use std::io::Read;

use memchr::memmem;

use super::outline::{Element, Outline};
use super::reading::Reading;
use super::{room_name, Conference, Day};
use crate::domain::import::decode::has_lone_cr;
use crate::domain::import::pieces::ReadWhole;
use crate::domain::import::{ImportError, ImportOptions};
use crate::domain::model::ImportedSchedule;

/// How deep the elements read alone lie, counted as the whole reading counts them from the
/// root: its limit on nesting must fall at the same element.
const IN_ROOT: usize = 1;
const IN_DAY: usize = 2;
const IN_ROOM: usize = 3;

/// Reads a schedule.xml from `source` (UTF-8, its BOM dropped) an event at a time, reading
/// `read_bytes` at a time (an event may take many reads).
pub(in crate::domain::import) fn read(
    source: impl Read,
    read_bytes: usize,
    options: &ImportOptions,
) -> Result<ImportedSchedule, ReadWhole> {
    let mut file = File {
        source,
        read_bytes: read_bytes.max(1),
        pending: Vec::new(),
        start: 0,
        at_end: false,
        line: 1,
    };
    let first_day = file
        .tag(0, b"<day")?
        .ok_or(ReadWhole("no <day> in the file"))?;
    // The head, closed where the days would start, is read as a file of its own: the root and
    // whatever comes before the days, with the conference the days need.
    let (head, _) = file.take(first_day)?;
    if head.starts_with('\u{feff}') {
        return Err(ReadWhole("a second byte-order mark"));
    }
    let head = format!("{head}</schedule>");
    let mut outline = Outline::new(&head);
    let root = outline.root().map_err(|_| ReadWhole("the head"))?;
    super::check_root(&root).map_err(|_| ReadWhole("the root"))?;
    let mut conference = None;
    while let Some(child) = outline.child_of(&root).map_err(|_| ReadWhole("the head"))? {
        match child.name {
            "day" => return Err(ReadWhole("a day before the first <day")),
            "conference" if conference.is_none() => {
                let read = Conference::read(&mut outline, &child);
                conference = Some(read.map_err(|_| ReadWhole("the conference"))?);
            }
            _ => outline.skip(&child).map_err(|_| ReadWhole("the head"))?,
        }
    }
    outline.finish().map_err(|_| ReadWhole("the head"))?;
    let conference = conference.ok_or(ReadWhole("no <conference> before the days"))?;

    let mut reading = Reading::new(conference, options);
    while file.starts_tag(b"<day")? {
        let (tag, line, empty) = file.start_tag("day")?;
        let day = alone(&tag, line, IN_ROOT, |outline, day| {
            let read = reading.day_start(day)?;
            outline.child_of(day).map(|_| read)
        })?;
        if !empty {
            rooms(&mut file, &mut reading, &day)?;
        }
        file.skip_blank()?;
    }
    // The root's end tag, and nothing after it but white space: a comment after the root,
    // which the whole reading allows, is rare enough to leave to it.
    if !file.end(b"</schedule")? {
        return Err(ReadWhole("something other than a day among the days"));
    }
    file.skip_blank()?;
    if !file.rest().is_empty() || !file.at_end {
        return Err(ReadWhole("something after the root's end tag"));
    }
    reading
        .finish(&root)
        .map_err(|_| ReadWhole("no talk in the file"))
}

/// Reads the rooms of `day`, whose start tag is read, to the day's end tag.
fn rooms<R: Read>(file: &mut File<R>, reading: &mut Reading, day: &Day) -> Result<(), ReadWhole> {
    loop {
        file.skip_blank()?;
        if file.end(b"</day")? {
            return Ok(());
        }
        if !file.starts_tag(b"<room")? {
            return Err(ReadWhole("something other than a room in a day"));
        }
        let (tag, line, empty) = file.start_tag("room")?;
        let room_name = alone(&tag, line, IN_DAY, |outline, room| {
            outline.child_of(room).map(|_| room_name(room))
        })?;
        if empty {
            continue;
        }
        loop {
            file.skip_blank()?;
            if file.end(b"</room")? {
                break;
            }
            if !file.starts_tag(b"<event")? {
                return Err(ReadWhole("something other than an event in a room"));
            }
            let (event, line) = file.element(b"</event")?;
            alone(&event, line, IN_ROOM, |outline, event| {
                reading.event(outline, event, day, room_name.as_deref())
            })?;
        }
    }
}

/// Reads `text`, one element starting on `line` inside `depth` others, with `read`, which
/// reads it to its end tag; nothing may follow it.
fn alone<T>(
    text: &str,
    line: usize,
    depth: usize,
    read: impl for<'i> FnOnce(&mut Outline<'i>, &Element<'i>) -> Result<T, ImportError>,
) -> Result<T, ReadWhole> {
    let mut outline = Outline::within(text, line, depth);
    let read = outline.root().and_then(|element| {
        let read = read(&mut outline, &element)?;
        outline.finish().map(|()| read)
    });
    read.map_err(|_| ReadWhole("an element this reading cannot read"))
}

/// The file, read on as the elements need.
struct File<R> {
    source: R,
    read_bytes: usize,
    /// Read; the bytes from `start` on are not yet taken.
    pending: Vec<u8>,
    start: usize,
    at_end: bool,
    /// The line the bytes not yet taken start on.
    line: usize,
}

impl<R: Read> File<R> {
    /// Reads on; `false` once the file has ended.
    fn more(&mut self) -> Result<bool, ReadWhole> {
        if self.at_end {
            return Ok(false);
        }
        // What was taken is dropped once per read, not once per element: an element is a
        // few hundred bytes, a read a mebibyte.
        self.pending.drain(..self.start);
        self.start = 0;
        let want = self.read_bytes;
        let read = (&mut self.source)
            .take(u64::try_from(want).unwrap_or(u64::MAX))
            .read_to_end(&mut self.pending)
            .map_err(|_| ReadWhole("a read failed"))?;
        // A `Take` read to its end stops short only at the end of the file.
        self.at_end = read < want;
        Ok(read > 0)
    }

    /// The bytes not yet taken.
    fn rest(&self) -> &[u8] {
        self.pending.get(self.start..).unwrap_or_default()
    }

    /// The byte at `at` of the rest, reading on as far as it; `None` past the end of the file.
    fn byte(&mut self, at: usize) -> Result<Option<u8>, ReadWhole> {
        while self.rest().len() <= at {
            if !self.more()? {
                return Ok(None);
            }
        }
        Ok(self.rest().get(at).copied())
    }

    /// Where in the rest the first `needle` at or after `from` starts, reading on until it is
    /// found or the file ends.
    fn find(&mut self, mut from: usize, needle: &[u8]) -> Result<Option<usize>, ReadWhole> {
        loop {
            let rest = self.rest().get(from..).unwrap_or_default();
            if let Some(at) = memmem::find(rest, needle) {
                return Ok(Some(from + at));
            }
            // A needle cut by the end of what is read starts in its last bytes.
            from = self
                .rest()
                .len()
                .saturating_sub(needle.len().saturating_sub(1))
                .max(from);
            if !self.more()? {
                return Ok(None);
            }
        }
    }

    /// Where the first tag `open` (`<day`) at or after `from` starts: a name ends at white
    /// space, `>` or `/` (`<days>` is another element).
    fn tag(&mut self, mut from: usize, open: &[u8]) -> Result<Option<usize>, ReadWhole> {
        while let Some(at) = self.find(from, open)? {
            match self.byte(at + open.len())? {
                Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/') => return Ok(Some(at)),
                Some(_) => from = at + 1,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Whether the rest starts with the tag `open` (as [`Self::tag`] tells one).
    fn starts_tag(&mut self, open: &[u8]) -> Result<bool, ReadWhole> {
        let after = self.byte(open.len())?;
        Ok(self.rest().starts_with(open)
            && matches!(after, Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')))
    }

    /// Where the first end tag `close` (`</day`, white space allowed before its `>`) at or
    /// after `from` ends, just past its `>`.
    fn end_tag(&mut self, mut from: usize, close: &[u8]) -> Result<Option<usize>, ReadWhole> {
        while let Some(at) = self.find(from, close)? {
            let mut next = at + close.len();
            while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.byte(next)? {
                next += 1;
            }
            match self.byte(next)? {
                Some(b'>') => return Ok(Some(next + 1)),
                Some(_) => from = at + 1,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Where the start tag the rest starts with ends (at its first `>`: one in an attribute's
    /// value cuts it short, and its reading fails), and whether it is an empty element's.
    fn tag_end(&mut self) -> Result<(usize, bool), ReadWhole> {
        let end = self
            .find(0, b">")?
            .ok_or(ReadWhole("a tag that does not end"))?
            + 1;
        let empty = self
            .rest()
            .get(..end)
            .is_some_and(|tag| tag.ends_with(b"/>"));
        Ok((end, empty))
    }

    /// The start tag of the element `name` the rest starts with, closed by its end tag unless
    /// it is empty (`/>`) so that it reads as an element of its own; the line it starts on,
    /// and whether it is empty (nothing inside it is left to read).
    fn start_tag(&mut self, name: &str) -> Result<(String, usize, bool), ReadWhole> {
        let (end, empty) = self.tag_end()?;
        let (mut tag, line) = self.take(end)?;
        if !empty {
            tag.push_str(&format!("</{name}>"));
        }
        Ok((tag, line, empty))
    }

    /// The element the rest starts with, to its first end tag `close` (or its start tag, if
    /// empty), and the line it starts on.
    fn element(&mut self, close: &[u8]) -> Result<(String, usize), ReadWhole> {
        let (tag_end, empty) = self.tag_end()?;
        let end = if empty {
            tag_end
        } else {
            self.end_tag(tag_end, close)?
                .ok_or(ReadWhole("an element that does not end"))?
        };
        self.take(end)
    }

    /// Takes the end tag `close` if the rest starts with it. Nothing it takes is read by the
    /// outline, so it must be exactly an end tag: `</day x>` is an error to the whole reading.
    fn end(&mut self, close: &[u8]) -> Result<bool, ReadWhole> {
        if !self.starts_tag(close)? {
            return Ok(false);
        }
        let mut end = close.len();
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.byte(end)? {
            end += 1;
        }
        if self.byte(end)? != Some(b'>') {
            return Err(ReadWhole("a malformed end tag"));
        }
        self.skip(end + 1).map(|()| true)
    }

    /// Takes the white space the rest starts with.
    fn skip_blank(&mut self) -> Result<(), ReadWhole> {
        let mut at = 0;
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.byte(at)? {
            at += 1;
        }
        self.skip(at)
    }

    /// Takes the first `end` bytes of the rest as text, with the line it starts on.
    fn take(&mut self, end: usize) -> Result<(String, usize), ReadWhole> {
        let text = self.checked(end)?.to_owned();
        Ok((text, self.advance(end)))
    }

    /// Takes the first `end` bytes of the rest unread (white space, an end tag).
    fn skip(&mut self, end: usize) -> Result<(), ReadWhole> {
        self.checked(end)?;
        self.advance(end);
        Ok(())
    }

    /// The first `end` bytes of the rest, if the whole reading would read them as they are.
    /// Every byte of the file passes here: the outline reading a piece alone sees neither
    /// what lies outside it nor what the whole reading did to the text first.
    fn checked(&self, end: usize) -> Result<&str, ReadWhole> {
        let bytes = self
            .rest()
            .get(..end)
            .ok_or(ReadWhole("past what is read"))?;
        let text = std::str::from_utf8(bytes).map_err(|_| ReadWhole("not UTF-8"))?;
        // Refused by the whole reading, with its line, even inside a comment.
        if text.contains("<!ENTITY") {
            return Err(ReadWhole("an entity declaration"));
        }
        // The whole reading reads a lone CR as a line end, and counts lines after it.
        if has_lone_cr(text) {
            return Err(ReadWhole("a CR that ends no line"));
        }
        Ok(text)
    }

    /// Moves past the first `end` bytes of the rest, checked; gives the line they start on.
    fn advance(&mut self, end: usize) -> usize {
        let taken = self.rest().get(..end).unwrap_or_default();
        let (newlines, len) = (memchr::memchr_iter(b'\n', taken).count(), taken.len());
        let line = self.line;
        self.line += newlines;
        self.start += len;
        line
    }
}
