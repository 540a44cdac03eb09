//! An import's record, its diff streamed into `COPY imports` as it is encoded: a
//! 100,000-talk first import's diff is 28 MB of JSON, which was held whole and then copied
//! again into the bound parameter (61 MB of the import's peak, from `heaptrack`). The diff is
//! encoded on a blocking thread into pieces of [`PIECE`] bytes that are sent as they come, so
//! no more than a few pieces are held.
//!
//! `COPY`'s text format, because a binary field needs its length before its bytes. In the
//! text format a backslash escapes, and a tab, newline or carriage return ends a field or a
//! row (PostgreSQL's documentation, "COPY", "Text Format"). JSON as `serde_json` writes it
//! compactly has no raw tab, newline or carriage return (they are escaped inside strings),
//! so only its backslashes are doubled.

use std::io;

use sqlx::postgres::PgCopyIn;
use sqlx::PgConnection;
use tokio::sync::mpsc;

use crate::domain::diff::ImportDiff;
use crate::domain::import::Format;
use crate::store::StoreError;

/// Bytes of JSON sent at a time.
const PIECE: usize = 256 << 10;

/// Stores the record of an import into `conference_id`: the counts of `diff` and the diff
/// as JSON. Returns the record's id, and the diff back.
pub(super) async fn record(
    conn: &mut PgConnection,
    conference_id: i64,
    source: &str,
    format: Format,
    diff: ImportDiff,
) -> Result<(i64, ImportDiff), StoreError> {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let mut head = String::new();
    for field in [
        conference_id.to_string().as_str(),
        source,
        format.as_str(),
        &count(diff.added.len()).to_string(),
        &count(diff.changed.len()).to_string(),
        &count(diff.cancelled.len()).to_string(),
        &count(diff.unchanged).to_string(),
    ] {
        escape_into(field, &mut head);
        head.push('\t');
    }
    let mut copy = conn
        .copy_in_raw(
            "COPY imports (conference_id, source, format, added, changed, cancelled, \
             unchanged, diff) FROM STDIN",
        )
        .await?;
    copy.send(head.as_bytes()).await?;
    let diff = match send_encoded(&mut copy, diff).await {
        Ok(diff) => diff,
        Err(error) => {
            // Told, the server ends the COPY and keeps the connection (a dropped COPY leaves
            // it to be closed); the transaction fails either way.
            let _ = copy.abort("the import's record could not be written").await;
            return Err(error);
        }
    };
    copy.send(b"\n".as_slice()).await?;
    copy.finish().await?;
    let id = sqlx::query_scalar("SELECT currval(pg_get_serial_sequence('imports', 'id'))")
        .fetch_one(&mut *conn)
        .await?;
    Ok((id, diff))
}

/// Sends `diff` as JSON into `copy` as it is encoded on a blocking thread, and hands it back.
async fn send_encoded(
    copy: &mut PgCopyIn<&mut PgConnection>,
    diff: ImportDiff,
) -> Result<ImportDiff, StoreError> {
    let (send, mut pieces) = mpsc::channel::<Vec<u8>>(4);
    let encoding = tokio::task::spawn_blocking(move || {
        let mut json = Pieces {
            piece: Vec::with_capacity(PIECE),
            send,
        };
        let encoded = serde_json::to_writer(&mut json, &diff).and_then(|()| json.send());
        (diff, encoded)
    });
    // Should a send fail, the encoding stops at its next piece, which has nowhere to go.
    while let Some(piece) = pieces.recv().await {
        copy.send(piece).await?;
    }
    match encoding.await {
        Ok((diff, Ok(()))) => Ok(diff),
        Ok((_, Err(error))) => Err(StoreError::Invalid(format!("diff: {error}"))),
        Err(error) => {
            tracing::error!(%error, "encoding an import's diff stopped");
            Err(StoreError::Invalid(
                "the import's report could not be encoded".into(),
            ))
        }
    }
}

/// `value` as one field of `COPY`'s text format.
fn escape_into(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// JSON gathered into pieces with its backslashes doubled, each sent once full.
struct Pieces {
    piece: Vec<u8>,
    send: mpsc::Sender<Vec<u8>>,
}

impl Pieces {
    /// Sends what is gathered.
    fn send(&mut self) -> serde_json::Result<()> {
        let piece = std::mem::replace(&mut self.piece, Vec::with_capacity(PIECE));
        self.send
            .blocking_send(piece)
            .map_err(|_| serde_json::Error::io(io::Error::other("the COPY stopped")))
    }
}

impl io::Write for Pieces {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut rest = bytes;
        while let Some(at) = rest.iter().position(|&b| b == b'\\') {
            let (before, after) = rest.split_at(at + 1);
            self.piece.extend_from_slice(before);
            self.piece.push(b'\\');
            rest = after;
        }
        self.piece.extend_from_slice(rest);
        if self.piece.len() >= PIECE {
            self.send().map_err(io::Error::other)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn text_fields_escape_what_the_text_format_reads_as_structure() {
        let mut out = String::new();
        escape_into("a\\b\tc\nd\re", &mut out);
        assert_eq!(out, "a\\\\b\\tc\\nd\\re");
    }

    #[test]
    fn json_pieces_double_every_backslash_and_lose_no_byte() {
        let (send, mut receive) = mpsc::channel(1_000);
        let mut json = Pieces {
            piece: Vec::new(),
            send,
        };
        let text = r#"{"title":"a \"quoted\" \\ path","x":"\u0007"}"#.repeat(20_000);
        for part in text.as_bytes().chunks(777) {
            json.write_all(part).expect("written");
        }
        json.send().expect("sent");
        drop(json);
        let mut sent = Vec::new();
        while let Ok(piece) = receive.try_recv() {
            assert!(
                piece.len() < PIECE + 777 * 2,
                "a piece held {} bytes",
                piece.len()
            );
            sent.extend(piece);
        }
        assert_eq!(
            String::from_utf8(sent).expect("UTF-8"),
            text.replace('\\', "\\\\")
        );
    }
}
