//! Bulk writes through PostgreSQL's `COPY ... FROM STDIN` in its binary format: the cheapest
//! way to load many rows (no bind parameters, no per-row planning, one pass through the table),
//! and in the binary format PostgreSQL does not parse ids and timestamps back out of text
//! (measured in BENCHMARKS.md, "The importing process's own time": `COPY talks` of 100,000
//! rows a fifth faster than in the text format).
//!
//! sqlx hands us the raw protocol (`copy_in_raw`) and leaves the row encoding to the caller;
//! no maintained crate encodes the format on its own, and the rules are short (PostgreSQL's
//! documentation, "COPY", "Binary Format"): a signature and two zero words, then per row a
//! 16-bit field count and per field a 32-bit length (-1 for NULL) and the value as the type's
//! `recv` function reads it, then a 16-bit -1. Each method names the column type it writes:
//! unlike the text format, PostgreSQL takes the bytes as exactly that type.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgCopyIn;
use sqlx::PgConnection;

use crate::store::StoreError;

/// Bytes gathered before they are sent: big enough that the round trips do not matter, small
/// enough that a 100,000-talk import never holds its whole payload at once.
const FLUSH_AT: usize = 1 << 20;

/// The binary format's signature, flags (none) and header-extension length (none).
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The most PostgreSQL takes in one field (1 GB, its `MaxAllocSize`).
const MAX_FIELD: usize = (1 << 30) - 1;

/// Rows of one `COPY`, encoded in the binary format and sent in pieces of about [`FLUSH_AT`].
pub struct CopyIn<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    buf: Vec<u8>,
    row: Row,
    rows: u64,
}

impl<'c> CopyIn<'c> {
    /// Starts `statement`, a `COPY table (columns) FROM STDIN`; the binary format is added here.
    pub async fn start(conn: &'c mut PgConnection, statement: &str) -> Result<Self, StoreError> {
        let copy = conn
            .copy_in_raw(&format!("{statement} WITH (FORMAT binary)"))
            .await?;
        let mut buf = Vec::with_capacity(FLUSH_AT + FLUSH_AT / 4);
        buf.extend_from_slice(HEADER);
        Ok(Self {
            copy,
            buf,
            row: Row::default(),
            rows: 0,
        })
    }

    /// A `text` field; `None` is NULL. A NUL cannot be stored in a PostgreSQL text value at
    /// all; the importers already drop control characters (`domain::text::clean`), and one
    /// that still got here is dropped rather than failing the whole import.
    pub fn text(&mut self, value: Option<&str>) -> &mut Self {
        text_into(&mut self.row, &mut self.buf, value);
        self
    }

    /// A `bigint` field; `None` is NULL.
    pub fn int8(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            None => self.row.null(&mut self.buf),
            Some(value) => self.row.field(&mut self.buf, &value.to_be_bytes()),
        }
        self
    }

    /// An `integer` field.
    pub fn int4(&mut self, value: i32) -> &mut Self {
        self.row.field(&mut self.buf, &value.to_be_bytes());
        self
    }

    /// A `timestamptz` field; `None` is NULL. Sent as microseconds since 2000-01-01 UTC,
    /// truncated as sqlx truncates the ones it binds, so both write paths store the same
    /// instant.
    pub fn timestamptz(&mut self, value: Option<DateTime<Utc>>) -> &mut Self {
        match value.map(pg_micros) {
            None => self.row.null(&mut self.buf),
            Some(Some(micros)) => self.row.field(&mut self.buf, &micros.to_be_bytes()),
            Some(None) => self
                .row
                .fail(format!("{value:?} is out of PostgreSQL's range")),
        }
        self
    }

    /// A `boolean` field.
    pub fn boolean(&mut self, value: bool) -> &mut Self {
        self.row.field(&mut self.buf, &[u8::from(value)]);
        self
    }

    /// A `bytea` field; `None` is NULL.
    pub fn bytea(&mut self, value: Option<&[u8]>) -> &mut Self {
        match value {
            None => self.row.null(&mut self.buf),
            Some(value) => self.row.field(&mut self.buf, value),
        }
        self
    }

    /// Ends the row; sends what has gathered once it is large enough.
    pub async fn end_row(&mut self) -> Result<(), StoreError> {
        self.row.end(&mut self.buf)?;
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
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
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

/// The row being encoded: where its field count goes, how many fields it has so far, and the
/// first value that could not be encoded (reported when the row ends, so the field methods
/// can chain).
#[derive(Default)]
struct Row {
    start: Option<usize>,
    fields: i16,
    failed: Option<String>,
}

impl Row {
    fn begin(&mut self, buf: &mut Vec<u8>) {
        if self.start.is_none() {
            self.start = Some(buf.len());
            buf.extend_from_slice(&[0, 0]);
        }
        self.fields = self.fields.saturating_add(1);
    }

    fn null(&mut self, buf: &mut Vec<u8>) {
        self.begin(buf);
        buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn field(&mut self, buf: &mut Vec<u8>, value: &[u8]) {
        match i32::try_from(value.len()) {
            Ok(len) if value.len() <= MAX_FIELD => {
                self.begin(buf);
                buf.extend_from_slice(&len.to_be_bytes());
                buf.extend_from_slice(value);
            }
            _ => self.fail(format!(
                "a value of {} bytes is more than PostgreSQL stores in one field",
                value.len()
            )),
        }
    }

    fn fail(&mut self, reason: String) {
        self.failed.get_or_insert(reason);
    }

    /// Writes the field count in front of the row's fields.
    fn end(&mut self, buf: &mut Vec<u8>) -> Result<(), StoreError> {
        let row = std::mem::take(self);
        if let Some(reason) = row.failed {
            return Err(StoreError::Invalid(reason));
        }
        let start = row.start.unwrap_or_else(|| {
            buf.extend_from_slice(&[0, 0]);
            buf.len() - 2
        });
        buf[start..start + 2].copy_from_slice(&row.fields.to_be_bytes());
        Ok(())
    }
}

fn text_into(row: &mut Row, buf: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => row.null(buf),
        Some(value) if !value.as_bytes().contains(&0) => row.field(buf, value.as_bytes()),
        Some(value) => {
            let kept: Vec<u8> = value.bytes().filter(|&b| b != 0).collect();
            row.field(buf, &kept);
        }
    }
}

/// Microseconds from PostgreSQL's epoch (2000-01-01 UTC) to `value`, as sqlx computes them.
fn pg_micros(value: DateTime<Utc>) -> Option<i64> {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)?.and_hms_opt(0, 0, 0)?;
    (value.naive_utc() - epoch).num_microseconds()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn row(fill: impl FnOnce(&mut Row, &mut Vec<u8>)) -> Result<Vec<u8>, StoreError> {
        let mut buf = Vec::new();
        let mut row = Row::default();
        fill(&mut row, &mut buf);
        row.end(&mut buf).map(|()| buf)
    }

    #[test]
    fn a_row_is_its_field_count_then_each_length_and_value_with_minus_one_for_null() {
        let bytes = row(|row, buf| {
            row.field(buf, b"ab");
            row.null(buf);
            row.field(buf, b"");
        })
        .unwrap();
        assert_eq!(
            bytes,
            [
                &[0, 3][..],
                &[0, 0, 0, 2, b'a', b'b'],
                &[0xff, 0xff, 0xff, 0xff],
                &[0, 0, 0, 0],
            ]
            .concat()
        );
    }

    #[test]
    fn the_field_count_is_written_where_the_row_began() {
        let mut buf = b"earlier".to_vec();
        let mut row = Row::default();
        row.field(&mut buf, &7i64.to_be_bytes());
        row.end(&mut buf).unwrap();
        assert_eq!(&buf[..7], b"earlier");
        assert_eq!(&buf[7..9], &[0, 1]);
        assert_eq!(&buf[9..13], &[0, 0, 0, 8]);
        assert_eq!(&buf[13..], &7i64.to_be_bytes());
    }

    #[test]
    fn timestamps_count_microseconds_from_2000_and_truncate_as_sqlx_does() {
        assert_eq!(
            pg_micros(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()),
            Some(0)
        );
        assert_eq!(
            pg_micros(Utc.with_ymd_and_hms(2026, 4, 25, 15, 45, 0).unwrap()),
            // date -u -d 2026-04-25T15:45:00Z +%s, less 2000-01-01's 946684800.
            Some((1_777_131_900 - 946_684_800) * 1_000_000)
        );
        let epoch = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let ns = chrono::Duration::nanoseconds;
        assert_eq!(pg_micros(epoch + ns(1_999)), Some(1));
        assert_eq!(pg_micros(epoch - ns(1_500)), Some(-1));
        assert_eq!(pg_micros(epoch - ns(999)), Some(0));
    }

    #[test]
    fn a_value_that_cannot_be_encoded_fails_its_row_with_the_reason() {
        let failed = row(|row, buf| {
            row.field(buf, b"x");
            row.fail("too far".into());
            row.field(buf, b"y");
        });
        assert!(matches!(failed, Err(StoreError::Invalid(r)) if r == "too far"));
    }

    #[test]
    fn text_drops_nul_bytes_which_postgresql_cannot_store() {
        let mut buf = Vec::new();
        let mut row = Row::default();
        text_into(&mut row, &mut buf, Some("nul\0here"));
        text_into(&mut row, &mut buf, Some("Café"));
        row.end(&mut buf).unwrap();
        let expected = [
            &[0, 2, 0, 0, 0, 7][..],
            b"nulhere",
            &[0, 0, 0, 5],
            "Café".as_bytes(),
        ];
        assert_eq!(buf, expected.concat());
    }
}
