//! Bulk writes through PostgreSQL's `COPY ... FROM STDIN` in its binary format: the cheapest
//! way to load many rows (no bind parameters, no per-row planning, one pass through the table),
//! and in the binary format PostgreSQL does not parse ids and timestamps back out of text
//! (`COPY talks` of 100,000 rows a fifth faster than in the text format: BENCHMARKS.md, "New
//! talks in `COPY`'s binary format").
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

/// About the most PostgreSQL takes in one field (1 GB, its `MaxAllocSize`); a longer value
/// could not even be given its 32-bit length.
const MAX_FIELD: usize = (1 << 30) - 1;

/// Rows of one `COPY`, encoded in the binary format and sent in pieces of about [`FLUSH_AT`].
/// After an error it is spent: dropping it aborts the `COPY`, and with it the transaction.
pub struct CopyIn<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    rows: Rows,
}

impl<'c> CopyIn<'c> {
    /// Starts `statement`, a `COPY table (columns) FROM STDIN`; the binary format is added here.
    pub async fn start(conn: &'c mut PgConnection, statement: &str) -> Result<Self, StoreError> {
        let copy = conn
            .copy_in_raw(&format!("{statement} WITH (FORMAT binary)"))
            .await?;
        Ok(Self {
            copy,
            rows: Rows::new(FLUSH_AT + FLUSH_AT / 4),
        })
    }

    /// A `text` field; `None` is NULL.
    pub fn text(&mut self, value: Option<&str>) -> &mut Self {
        self.rows.text(value);
        self
    }

    /// A `bigint` field; `None` is NULL.
    pub fn int8(&mut self, value: Option<i64>) -> &mut Self {
        self.rows.int8(value);
        self
    }

    /// An `integer` field.
    pub fn int4(&mut self, value: i32) -> &mut Self {
        self.rows.int4(value);
        self
    }

    /// A `timestamptz` field; `None` is NULL.
    pub fn timestamptz(&mut self, value: Option<DateTime<Utc>>) -> &mut Self {
        self.rows.timestamptz(value);
        self
    }

    /// A `boolean` field.
    pub fn boolean(&mut self, value: bool) -> &mut Self {
        self.rows.boolean(value);
        self
    }

    /// A `bytea` field; `None` is NULL.
    pub fn bytea(&mut self, value: Option<&[u8]>) -> &mut Self {
        self.rows.bytea(value);
        self
    }

    /// Ends the row; sends what has gathered once it is large enough.
    pub async fn end_row(&mut self) -> Result<(), StoreError> {
        self.rows.end()?;
        if self.rows.buf.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if !self.rows.buf.is_empty() {
            self.copy.send(self.rows.buf.as_slice()).await?;
            self.rows.buf.clear();
        }
        Ok(())
    }

    /// Sends the rest and ends the `COPY`; returns the rows PostgreSQL took.
    pub async fn finish(mut self) -> Result<u64, StoreError> {
        self.rows.trailer();
        self.flush().await?;
        let taken = self.copy.finish().await?;
        if taken != self.rows.ended {
            return Err(StoreError::Invalid(format!(
                "COPY took {taken} rows of {}",
                self.rows.ended
            )));
        }
        Ok(taken)
    }
}

/// The encoding itself, apart from the connection: the bytes not yet sent, where the row
/// being encoded began (its field count goes there once it ends), how many fields it has,
/// and the first of its values that could not be encoded (reported when the row ends, so the
/// field methods can chain).
struct Rows {
    buf: Vec<u8>,
    start: Option<usize>,
    fields: i16,
    failed: Option<String>,
    ended: u64,
}

impl Rows {
    fn new(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        buf.extend_from_slice(HEADER);
        Self {
            buf,
            start: None,
            fields: 0,
            failed: None,
            ended: 0,
        }
    }

    fn begin(&mut self) {
        if self.start.is_none() {
            self.start = Some(self.buf.len());
            self.buf.extend_from_slice(&[0, 0]);
        }
        self.fields = self.fields.saturating_add(1);
    }

    fn null(&mut self) {
        self.begin();
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn field(&mut self, value: &[u8]) {
        match i32::try_from(value.len()) {
            Ok(len) if value.len() <= MAX_FIELD => {
                self.begin();
                self.buf.extend_from_slice(&len.to_be_bytes());
                self.buf.extend_from_slice(value);
            }
            _ => self.fail(format!(
                "a value of {} bytes is more than PostgreSQL stores in one field",
                value.len()
            )),
        }
    }

    /// A NUL cannot be stored in a PostgreSQL text value at all; the importers already drop
    /// control characters (`domain::text::clean`), and one that still got here is dropped
    /// rather than failing the whole import.
    fn text(&mut self, value: Option<&str>) {
        match value {
            None => self.null(),
            Some(value) if !value.as_bytes().contains(&0) => self.field(value.as_bytes()),
            Some(value) => {
                let kept: Vec<u8> = value.bytes().filter(|&b| b != 0).collect();
                self.field(&kept);
            }
        }
    }

    fn int8(&mut self, value: Option<i64>) {
        match value {
            None => self.null(),
            Some(value) => self.field(&value.to_be_bytes()),
        }
    }

    fn int4(&mut self, value: i32) {
        self.field(&value.to_be_bytes());
    }

    fn boolean(&mut self, value: bool) {
        self.field(&[u8::from(value)]);
    }

    fn bytea(&mut self, value: Option<&[u8]>) {
        match value {
            None => self.null(),
            Some(value) => self.field(value),
        }
    }

    /// Microseconds since 2000-01-01 UTC, truncated as sqlx truncates the instants it binds,
    /// so that both write paths store the same one. Every instant chrono holds fits; the
    /// check stays so that no arithmetic can go wrong unseen. PostgreSQL itself refuses
    /// instants before 4713 BC, which fails the `COPY` and so the import.
    fn timestamptz(&mut self, value: Option<DateTime<Utc>>) {
        match value {
            None => self.null(),
            Some(value) => match pg_micros(value) {
                Some(micros) => self.field(&micros.to_be_bytes()),
                None => self.fail(format!("{value} is out of PostgreSQL's range")),
            },
        }
    }

    fn fail(&mut self, reason: String) {
        self.failed.get_or_insert(reason);
    }

    /// Writes the field count in front of the row's fields; a row that failed is taken back
    /// out of the buffer.
    fn end(&mut self) -> Result<(), StoreError> {
        let (start, fields, failed) = (self.start.take(), self.fields, self.failed.take());
        self.fields = 0;
        if let Some(reason) = failed {
            if let Some(start) = start {
                self.buf.truncate(start);
            }
            return Err(StoreError::Invalid(reason));
        }
        let start = start.unwrap_or_else(|| {
            self.buf.extend_from_slice(&[0, 0]);
            self.buf.len() - 2
        });
        self.buf[start..start + 2].copy_from_slice(&fields.to_be_bytes());
        self.ended += 1;
        Ok(())
    }

    fn trailer(&mut self) {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
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

    /// What [`Rows`] holds after the header.
    fn body(rows: &Rows) -> &[u8] {
        &rows.buf[HEADER.len()..]
    }

    #[test]
    fn the_stream_starts_with_the_signature_and_two_zero_words_and_ends_with_minus_one() {
        let mut rows = Rows::new(0);
        assert_eq!(rows.buf.len(), 19);
        assert_eq!(&rows.buf[..11], b"PGCOPY\n\xff\r\n\0");
        assert_eq!(&rows.buf[11..], &[0; 8]);
        rows.trailer();
        assert_eq!(body(&rows), &[0xff, 0xff]);
    }

    #[test]
    fn a_row_is_its_field_count_then_each_length_and_value_in_its_type_s_bytes() {
        let mut rows = Rows::new(0);
        rows.int8(Some(-2));
        rows.int8(None);
        rows.int4(7);
        rows.boolean(true);
        rows.text(Some("Café"));
        rows.text(Some(""));
        rows.bytea(Some(&[0, 0xff]));
        rows.bytea(None);
        rows.end().unwrap();
        let expected: &[&[u8]] = &[
            &[0, 8],
            &[0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
            &[0xff, 0xff, 0xff, 0xff],
            &[0, 0, 0, 4, 0, 0, 0, 7],
            &[0, 0, 0, 1, 1],
            &[0, 0, 0, 5],
            "Café".as_bytes(),
            &[0, 0, 0, 0],
            &[0, 0, 0, 2, 0, 0xff],
            &[0xff, 0xff, 0xff, 0xff],
        ];
        assert_eq!(body(&rows), expected.concat());
        assert_eq!(rows.ended, 1);
    }

    #[test]
    fn each_row_gets_its_own_field_count() {
        let mut rows = Rows::new(0);
        rows.int8(Some(1));
        rows.end().unwrap();
        rows.int8(Some(2));
        rows.null();
        rows.end().unwrap();
        assert_eq!(&body(&rows)[..2], &[0, 1]);
        assert_eq!(&body(&rows)[14..16], &[0, 2]);
        assert_eq!(rows.ended, 2);
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

        let mut rows = Rows::new(0);
        rows.timestamptz(Some(epoch + chrono::Duration::seconds(1)));
        rows.timestamptz(None);
        rows.end().unwrap();
        let expected: &[&[u8]] = &[&[0, 2, 0, 0, 0, 8], &1_000_000i64.to_be_bytes(), &[0xff; 4]];
        assert_eq!(body(&rows), expected.concat());
    }

    #[test]
    fn a_value_that_cannot_be_encoded_fails_its_row_and_takes_it_back_out() {
        let mut rows = Rows::new(0);
        rows.int8(Some(1));
        rows.end().unwrap();
        let before = rows.buf.len();
        rows.text(Some("x"));
        rows.fail("too far".into());
        rows.text(Some("y"));
        assert!(matches!(rows.end(), Err(StoreError::Invalid(r)) if r == "too far"));
        assert_eq!(rows.buf.len(), before);
        assert_eq!(rows.ended, 1);
    }

    #[test]
    fn text_drops_nul_bytes_which_postgresql_cannot_store() {
        let mut rows = Rows::new(0);
        rows.text(Some("nul\0here"));
        rows.end().unwrap();
        let expected: &[&[u8]] = &[&[0, 1, 0, 0, 0, 7], b"nulhere"];
        assert_eq!(body(&rows), expected.concat());
    }
}
