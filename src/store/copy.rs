//! Bulk writes through PostgreSQL's `COPY ... FROM STDIN` in its text format: the cheapest way
//! to load many rows (no bind parameters, no per-row planning, one pass through the table).
//!
//! sqlx hands us the raw protocol (`copy_in_raw`) and leaves the row encoding to the caller;
//! no maintained crate encodes the text format on its own, and the rules are short
//! (PostgreSQL's documentation, "COPY", "Text Format"): fields separated by a tab, rows ended
//! by a newline, `\N` for NULL, and backslash, tab, newline and carriage return escaped.

use std::io::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::postgres::PgCopyIn;
use sqlx::PgConnection;

use crate::store::StoreError;

/// Bytes gathered before they are sent: big enough that the round trips do not matter, small
/// enough that a 100,000-talk import never holds its whole payload at once.
const FLUSH_AT: usize = 1 << 20;

/// Rows of one `COPY`, encoded in the text format and sent in pieces of about [`FLUSH_AT`].
pub struct CopyIn<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    buf: Vec<u8>,
    /// Whether the current row has a field yet (the next one needs a tab first).
    in_row: bool,
    rows: u64,
}

impl<'c> CopyIn<'c> {
    /// Starts `statement`, which must be a `COPY table (columns) FROM STDIN` in text format.
    pub async fn start(conn: &'c mut PgConnection, statement: &str) -> Result<Self, StoreError> {
        let copy = conn.copy_in_raw(statement).await?;
        Ok(Self {
            copy,
            buf: Vec::with_capacity(FLUSH_AT + FLUSH_AT / 4),
            in_row: false,
            rows: 0,
        })
    }

    fn separate(&mut self) {
        if self.in_row {
            self.buf.push(b'\t');
        }
        self.in_row = true;
    }

    /// A text field; `None` is NULL.
    pub fn text(&mut self, value: Option<&str>) -> &mut Self {
        self.separate();
        match value {
            None => self.buf.extend_from_slice(b"\\N"),
            Some(value) => escape_into(&mut self.buf, value),
        }
        self
    }

    /// An integer field; `None` is NULL.
    pub fn int(&mut self, value: Option<i64>) -> &mut Self {
        self.separate();
        match value {
            None => self.buf.extend_from_slice(b"\\N"),
            // Writing to a Vec cannot fail.
            Some(value) => {
                let _ = write!(self.buf, "{value}");
            }
        }
        self
    }

    /// A `timestamptz` field, in UTC; `None` is NULL.
    pub fn time(&mut self, value: Option<DateTime<Utc>>) -> &mut Self {
        self.separate();
        match value {
            None => self.buf.extend_from_slice(b"\\N"),
            Some(value) => self.buf.extend_from_slice(
                value
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true)
                    .as_bytes(),
            ),
        }
        self
    }

    pub fn boolean(&mut self, value: bool) -> &mut Self {
        self.separate();
        self.buf.push(if value { b't' } else { b'f' });
        self
    }

    /// Ends the row; sends what has gathered once it is large enough.
    pub async fn end_row(&mut self) -> Result<(), StoreError> {
        self.buf.push(b'\n');
        self.in_row = false;
        self.rows += 1;
        if self.buf.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if !self.buf.is_empty() {
            self.copy.send(self.buf.as_slice()).await?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Sends the rest and ends the `COPY`; returns the rows PostgreSQL took.
    pub async fn finish(mut self) -> Result<u64, StoreError> {
        self.flush().await?;
        let taken = self.copy.finish().await?;
        if taken != self.rows {
            return Err(StoreError::Invalid(format!(
                "COPY took {taken} rows of {}",
                self.rows
            )));
        }
        Ok(taken)
    }
}

/// Appends `value` with the text format's escapes. A NUL cannot be stored in a PostgreSQL text
/// value at all; the importers already drop control characters (`domain::text::clean`), and
/// one that still got here is dropped rather than failing the whole import.
fn escape_into(buf: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            0 => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        buf.extend_from_slice(escaped);
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    fn escaped(value: &str) -> String {
        let mut buf = Vec::new();
        escape_into(&mut buf, value);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn escapes_what_the_text_format_reserves_and_keeps_the_rest() {
        assert_eq!(escaped("plain"), "plain");
        assert_eq!(escaped(r"C:\path"), r"C:\\path");
        assert_eq!(escaped("a\tb\nc\rd"), r"a\tb\nc\rd");
        assert_eq!(escaped(r"\N"), r"\\N");
        assert_eq!(escaped("Café — Über"), "Café — Über");
        assert_eq!(escaped("nul\0here"), "nulhere");
        assert_eq!(escaped(""), "");
    }
}
