//! A local schedule.xml read a `<day>` at a time ([`crate::domain::import::pieces`]), so that
//! its text is never held whole: 172 MB of a 100,000-talk file, half of what its import held
//! at its peak. Each day's text is read by the same outline and code as the whole file's
//! days, with its lines counted from where it starts, and is freed once its talks are
//! converted.
//!
//! Only a file laid out as frab and pretalx write it is read this way: the root `<schedule>`
//! with its `<conference>` before the first day, then the days, with only white space
//! between them, then the root's end tag. Anything else (a comment or another element among
//! or after the days, no conference before them, an entity declaration, a second BOM, an
//! error, a day that does not end where its first `</day>` is) is [`ReadWhole`]: the whole
//! reading then gives the schedule, or the message naming the line.

use std::io::Read;

use memchr::memmem;

use super::outline::Outline;
use super::{Conference, Reading};
use crate::domain::import::pieces::ReadWhole;
use crate::domain::import::ImportOptions;
use crate::domain::model::ImportedSchedule;

/// Reads a schedule.xml from `source` (UTF-8, its BOM dropped) a day at a time, reading
/// `read_bytes` at a time (a day may take many reads).
pub(in crate::domain::import) fn read(
    source: impl Read,
    read_bytes: usize,
    options: &ImportOptions,
) -> Result<ImportedSchedule, ReadWhole> {
    let mut file = File {
        source,
        read_bytes: read_bytes.max(1),
        pending: Vec::new(),
        at_end: false,
    };
    let first_day = file
        .tag(0, b"<day")?
        .ok_or(ReadWhole("no <day> in the file"))?;
    // The head, closed where the days would start, is read as a file of its own: the root and
    // whatever comes before the days, with the conference the days need.
    let head = file.take(first_day)?;
    if head.starts_with('\u{feff}') {
        return Err(ReadWhole("a second byte-order mark"));
    }
    let mut line = 1 + newlines(&head);
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
    loop {
        let end = file
            .end_tag(0, b"</day")?
            .ok_or(ReadWhole("a <day> that does not end"))?;
        let day = file.take(end)?;
        let mut outline = Outline::within(&day, line, 1);
        let read = outline.root().and_then(|element| {
            reading.day(&mut outline, &element)?;
            outline.finish()
        });
        read.map_err(|_| ReadWhole("a day"))?;
        line += newlines(&day);

        let blank = file.blank()?;
        let between = file.pending.drain(..blank);
        line += between.filter(|&b| b == b'\n').count();
        if file.starts_tag(b"<day")? {
            continue;
        }
        // Only the root's end tag is left, with nothing after it but white space.
        let end = match file.starts_tag(b"</schedule")? {
            true => file.end_tag(0, b"</schedule")?,
            false => None,
        };
        let end = end.ok_or(ReadWhole("something other than a day among the days"))?;
        file.pending.drain(..end);
        if file.blank()? != file.pending.len() || !file.at_end {
            return Err(ReadWhole("something after the root's end tag"));
        }
        return reading
            .finish(&root)
            .map_err(|_| ReadWhole("no talk in the file"));
    }
}

/// The file, read on as the days need.
struct File<R> {
    source: R,
    read_bytes: usize,
    /// Read, not yet taken.
    pending: Vec<u8>,
    at_end: bool,
}

impl<R: Read> File<R> {
    /// Reads on; `false` once the file has ended.
    fn more(&mut self) -> Result<bool, ReadWhole> {
        if self.at_end {
            return Ok(false);
        }
        let want = self.read_bytes;
        let read = (&mut self.source)
            .take(u64::try_from(want).unwrap_or(u64::MAX))
            .read_to_end(&mut self.pending)
            .map_err(|_| ReadWhole("a read failed"))?;
        // A `Take` read to its end stops short only at the end of the file.
        self.at_end = read < want;
        Ok(read > 0)
    }

    /// The byte at `at`, reading on as far as it; `None` past the end of the file.
    fn byte(&mut self, at: usize) -> Result<Option<u8>, ReadWhole> {
        while self.pending.len() <= at {
            if !self.more()? {
                return Ok(None);
            }
        }
        Ok(self.pending.get(at).copied())
    }

    /// Where the first `needle` at or after `from` starts, reading on until it is found or
    /// the file ends.
    fn find(&mut self, mut from: usize, needle: &[u8]) -> Result<Option<usize>, ReadWhole> {
        loop {
            let rest = self.pending.get(from..).unwrap_or_default();
            if let Some(at) = memmem::find(rest, needle) {
                return Ok(Some(from + at));
            }
            // A needle cut by the end of what is read starts in its last bytes.
            from = self
                .pending
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

    /// Whether what is pending starts with the tag `open` (as [`Self::tag`] tells one).
    fn starts_tag(&mut self, open: &[u8]) -> Result<bool, ReadWhole> {
        let after = self.byte(open.len())?;
        Ok(self.pending.starts_with(open)
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

    /// How many bytes of white space start what is pending, reading on past them.
    fn blank(&mut self) -> Result<usize, ReadWhole> {
        let mut at = 0;
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.byte(at)? {
            at += 1;
        }
        Ok(at)
    }

    /// The first `end` bytes pending, as text.
    fn take(&mut self, end: usize) -> Result<String, ReadWhole> {
        let rest = self.pending.split_off(end.min(self.pending.len()));
        let taken = std::mem::replace(&mut self.pending, rest);
        let text = String::from_utf8(taken).map_err(|_| ReadWhole("not UTF-8"))?;
        // Refused by the whole reading, with its line.
        if text.contains("<!ENTITY") {
            return Err(ReadWhole("an entity declaration"));
        }
        Ok(text)
    }
}

fn newlines(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count()
}
