//! A file's bytes as a reader takes them through a buffer: each run handed on to be hashed as
//! it is read, the total held to the size limit, and UTF-8 checked across runs (a reader that
//! skips what it does not need may never look at some of them, and the whole reading would
//! read a file that is not UTF-8 as Windows-1252, with a warning).

use std::io::{self, BufReader, Read};

use super::{Hashing, ReadWhole, BOM, PIECE_BYTES};

/// The bytes of a file read from `source` after its first bytes, `head`.
pub(super) struct Hashed<'a, S> {
    /// The first bytes, already read (and handed on to be hashed); what is left of them to
    /// give is from `given` on.
    head: Vec<u8>,
    given: usize,
    source: &'a mut S,
    hashed: &'a mut dyn FnMut(Hashing) -> bool,
    bytes_read: usize,
    max_bytes: usize,
    /// The start of a character the last run ended inside.
    split: Vec<u8>,
    ended: bool,
    stop: Option<&'static str>,
}

impl<'a, S: Read> Hashed<'a, S> {
    /// `head`, the bytes already read, starts the file; one byte-order mark is dropped from
    /// what is given (as decoding drops it) but not from what is hashed.
    pub(super) fn new(
        head: Vec<u8>,
        source: &'a mut S,
        max_bytes: usize,
        hashed: &'a mut dyn FnMut(Hashing) -> bool,
    ) -> Self {
        let given = if head.starts_with(BOM) { BOM.len() } else { 0 };
        let bytes_read = head.len();
        let mut this = Self {
            head: Vec::new(),
            given,
            source,
            hashed,
            bytes_read,
            max_bytes,
            split: Vec::new(),
            ended: false,
            stop: None,
        };
        if !(this.hashed)(Hashing::Run(head.clone())) {
            this.stop = Some("the hash stopped");
        }
        this.head = head;
        this
    }

    /// Reads the whole file with `parse`, through a buffer. A file that changed its size
    /// beyond the limit, that is not UTF-8, or that `parse` did not read to its end is
    /// [`ReadWhole`], whatever `parse` made of it.
    pub(super) fn read<T>(
        mut self,
        parse: impl FnOnce(BufReader<&mut Self>) -> Result<T, ReadWhole>,
    ) -> Result<T, ReadWhole> {
        if let Some(why) = self.stop {
            return Err(ReadWhole(why));
        }
        // Handed over by value: a reader of one byte at a time (serde_json's) is fast only
        // on a `BufReader` itself, which std reads bytes from without a call per byte.
        let parsed = parse(BufReader::with_capacity(PIECE_BYTES, &mut self));
        match (self.stop, self.ended) {
            (Some(why), _) => Err(ReadWhole(why)),
            (None, false) => parsed.and(Err(ReadWhole("the file was not read to its end"))),
            (None, true) => parsed,
        }
    }

    fn fail(&mut self, why: &'static str) -> io::Error {
        self.stop.get_or_insert(why);
        io::Error::other(why)
    }

    /// Whether `bytes`, after what was given before, is UTF-8 so far.
    pub(super) fn utf8(&mut self, mut bytes: &[u8]) -> bool {
        if let Some(&lead) = self.split.first() {
            let width: usize = match lead {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let take = width.saturating_sub(self.split.len()).min(bytes.len());
            self.split.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            match std::str::from_utf8(&self.split) {
                Ok(_) => self.split.clear(),
                // Still the start of a character, its rest in a later run.
                Err(error) if error.error_len().is_none() && bytes.is_empty() => return true,
                Err(_) => return false,
            }
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => true,
            // Cut inside a character: the rest of it is in the next run.
            Err(error) if error.error_len().is_none() => {
                self.split = bytes[error.valid_up_to()..].to_vec();
                true
            }
            Err(_) => false,
        }
    }
}

impl<S: Read> Read for Hashed<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(why) = self.stop {
            return Err(io::Error::other(why));
        }
        // Nothing asked for is no end of the file.
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(head) = self.head.get(self.given..).filter(|rest| !rest.is_empty()) {
            let n = head.len().min(buf.len());
            buf[..n].copy_from_slice(&head[..n]);
            self.given += n;
            if !self.utf8(&buf[..n]) {
                return Err(self.fail("not UTF-8"));
            }
            return Ok(n);
        }
        let n = self
            .source
            .read(buf)
            .map_err(|_| self.fail("a read failed"))?;
        let run = &buf[..n];
        self.bytes_read = self.bytes_read.saturating_add(n);
        if n == 0 {
            self.ended = true;
            if !self.split.is_empty() {
                return Err(self.fail("not UTF-8"));
            }
        } else if self.bytes_read > self.max_bytes {
            // Whatever the file said its length was: it may be growing.
            return Err(self.fail("over the size limit"));
        } else if !self.utf8(run) {
            return Err(self.fail("not UTF-8"));
        } else if !(self.hashed)(Hashing::Run(run.to_vec())) {
            return Err(self.fail("the hash stopped"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashed<'a>(
        source: &'a mut &'static [u8],
        sink: &'a mut dyn FnMut(Hashing) -> bool,
    ) -> Hashed<'a, &'static [u8]> {
        Hashed::new(Vec::new(), source, usize::MAX, sink)
    }

    #[test]
    fn a_character_cut_between_runs_is_utf8_once_whole_and_a_broken_one_is_not() {
        let (mut source, mut sink) = (&b""[..], |_: Hashing| true);
        let mut reading = hashed(&mut source, &mut sink);
        for byte in "𝄞".bytes() {
            assert!(reading.utf8(&[byte]), "a prefix of a character");
        }
        assert!(reading.split.is_empty(), "the character was completed");
        assert!(reading.utf8("a☕".as_bytes()));

        assert!(reading.utf8(&[0xE2]));
        assert!(!reading.utf8(b"A"), "a three-byte character cut short");
        let mut fresh = hashed(&mut source, &mut sink);
        assert!(!fresh.utf8(&[0xE9, b' ']), "Latin-1");
    }
}
