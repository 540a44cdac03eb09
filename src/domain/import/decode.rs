//! Bytes to text, as real exporters write them: UTF-8 with or without a BOM (borrowed, no
//! copy: the common case stays free), UTF-16 LE/BE by their BOM, iCalendar lines folded in
//! the middle of a UTF-8 character (RFC 5545 asks exporters not to; some do, and phone apps
//! read the result anyway), and, for a file that is still not UTF-8, Windows-1252 with one
//! warning naming the first line that was not. CR-only line endings become LF.
//!
//! The encodings themselves come from `encoding_rs` (Firefox's implementation of the WHATWG
//! Encoding Standard), not from tables of our own.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::ImportError;

/// Decoded text, and the warning to give when the bytes were not what they should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub warning: Option<String>,
}

/// Enforces the size cap and decodes `input` (see the module docs).
pub fn decode(input: &[u8], max_bytes: usize) -> Result<Decoded<'_>, ImportError> {
    if input.len() > max_bytes {
        return Err(ImportError::TooLarge {
            size: input.len(),
            limit: max_bytes,
        });
    }
    let (text, warning) = match Encoding::for_bom(input) {
        Some((encoding, bom)) if encoding == UTF_16LE || encoding == UTF_16BE => {
            let body = &input[bom..];
            let text = encoding
                .decode_without_bom_handling_and_without_replacement(body)
                .ok_or_else(|| ImportError::InvalidUtf16 {
                    line: utf16_error_line(body, encoding == UTF_16LE),
                })?;
            (Cow::Owned(text.into_owned()), None)
        }
        Some((_, bom)) => utf8_or_1252(&input[bom..]),
        None => utf8_or_1252(input),
    };
    Ok(Decoded {
        text: lone_cr_to_lf(text),
        warning,
    })
}

fn utf8_or_1252(input: &[u8]) -> (Cow<'_, str>, Option<String>) {
    if let Ok(text) = std::str::from_utf8(input) {
        return (Cow::Borrowed(text), None);
    }
    let mended = rejoin_split_characters(input);
    if let Ok(text) = String::from_utf8(mended) {
        return (Cow::Owned(text), None);
    }
    let line = first_invalid_utf8_line(input);
    let (text, _, _) = WINDOWS_1252.decode(input);
    let warning = format!(
        "line {line}: the file is not UTF-8; it was read as Windows-1252 (Latin-1), so check \
         accented names"
    );
    (Cow::Owned(text.into_owned()), Some(warning))
}

/// Moves the bytes of a UTF-8 character cut by a line fold (`\r\n` or `\n`, then a space
/// or tab) to after the fold, so unfolding joins them again; line numbers stay as they are.
fn rejoin_split_characters(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        let folds = byte == b'\n' && matches!(input.get(i + 1), Some(b' ' | b'\t'));
        if !folds {
            out.push(byte);
            i += 1;
            continue;
        }
        // Where the line's own bytes end (before an optional CR).
        let mut end = out.len();
        if end > 0 && out[end - 1] == b'\r' {
            end -= 1;
        }
        let cut = incomplete_tail(&out[..end]);
        let tail: Vec<u8> = out[end - cut..end].to_vec();
        let line_break: Vec<u8> = out[end..].to_vec();
        out.truncate(end - cut);
        out.extend_from_slice(&line_break);
        out.push(b'\n');
        out.push(input[i + 1]);
        out.extend_from_slice(&tail);
        i += 2;
    }
    out
}

/// How many bytes at the end of `bytes` start a UTF-8 character that is not complete.
fn incomplete_tail(bytes: &[u8]) -> usize {
    let is_continuation = |b: u8| b & 0b1100_0000 == 0b1000_0000;
    let mut back = 0;
    while back < 3 && back < bytes.len() {
        let byte = bytes[bytes.len() - 1 - back];
        if is_continuation(byte) {
            back += 1;
            continue;
        }
        let needed = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return 0,
        };
        return if back + 1 < needed { back + 1 } else { 0 };
    }
    0
}

fn first_invalid_utf8_line(input: &[u8]) -> usize {
    let valid = match std::str::from_utf8(input) {
        Ok(_) => input.len(),
        Err(error) => error.valid_up_to(),
    };
    line_of(&input[..valid])
}

/// The line of the first malformed code unit of UTF-16 text.
fn utf16_error_line(body: &[u8], little_endian: bool) -> usize {
    let units: Vec<u16> = body
        .chunks(2)
        .map(|pair| match (pair, little_endian) {
            ([low, high], true) => u16::from_le_bytes([*low, *high]),
            ([high, low], false) => u16::from_be_bytes([*high, *low]),
            // An odd byte at the end: a unit that cannot be.
            _ => 0xDC00,
        })
        .collect();
    let decoded = char::decode_utf16(units.iter().copied());
    let mut line = 1;
    for unit in decoded {
        match unit {
            Ok('\n') => line += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    line
}

fn line_of(before: &[u8]) -> usize {
    before.iter().filter(|&&b| b == b'\n').count() + 1
}

/// Whether `text` has a CR that no LF follows (a Mac OS 9 line end).
pub(super) fn has_lone_cr(text: &str) -> bool {
    let bytes = text.as_bytes();
    // `match_indices` of one ASCII byte searches with memchr: a CRLF file costs one fast pass.
    text.match_indices('\r')
        .any(|(at, _)| bytes.get(at + 1) != Some(&b'\n'))
}

/// Mac OS 9 line endings (CR alone) as LF; CRLF stays.
fn lone_cr_to_lf(text: Cow<'_, str>) -> Cow<'_, str> {
    if !has_lone_cr(&text) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// UTF-8 is what every exporter should write; used in tests to build the other encodings.
#[cfg(test)]
pub(crate) fn encode(text: &str, encoding: &'static Encoding) -> Vec<u8> {
    if encoding == UTF_16LE || encoding == UTF_16BE {
        let little = encoding == UTF_16LE;
        let mut out = if little {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for unit in text.encode_utf16() {
            out.extend(if little {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        return out;
    }
    encoding.encode(text).0.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decoded(input: &[u8]) -> (String, Option<String>) {
        let d = decode(input, usize::MAX).expect("decodes");
        (d.text.into_owned(), d.warning)
    }

    #[test]
    fn utf8_is_borrowed_and_a_bom_is_dropped() {
        let plain = decode(b"hello", 100).expect("decodes");
        assert!(matches!(plain.text, Cow::Borrowed("hello")));
        assert_eq!(decoded(b"\xEF\xBB\xBFhello"), ("hello".to_owned(), None));
    }

    #[test]
    fn a_character_folded_in_half_is_whole_again() {
        // "don’t exploit" with the fold between the first and the other two bytes of ’.
        let folded = b"DESCRIPTION:d\xe2\r\n \x80\x99t exploit\r\n";

        let (text, warning) = decoded(folded);

        assert_eq!(text, "DESCRIPTION:d\r\n \u{2019}t exploit\r\n");
        assert_eq!(warning, None);
    }

    #[test]
    fn utf16_is_read_by_its_bom_either_way_round() {
        let text = "BEGIN:VCALENDAR\r\nSUMMARY:Zoë Ødegård\r\n";
        for encoding in [UTF_16LE, UTF_16BE] {
            assert_eq!(decoded(&encode(text, encoding)), (text.to_owned(), None));
        }
        let broken = [0xFF, 0xFE, b'a', 0, b'\n', 0, 0x00, 0xD8, b'b', 0];
        assert_eq!(
            decode(&broken, 100),
            Err(ImportError::InvalidUtf16 { line: 2 })
        );
    }

    #[test]
    fn latin1_is_read_as_windows_1252_with_one_warning_naming_the_first_bad_line() {
        let text = "SUMMARY:Caf\u{e9}\nNAME:Jos\u{e9} \u{2013} M\u{fc}ller\n";

        let (read, warning) = decoded(&encode(text, WINDOWS_1252));

        assert_eq!(read, text);
        assert_eq!(
            warning.as_deref(),
            Some(
                "line 1: the file is not UTF-8; it was read as Windows-1252 (Latin-1), so \
                 check accented names"
            )
        );
    }

    #[test]
    fn cr_only_line_endings_become_lf_and_crlf_stays() {
        assert_eq!(decoded(b"a\rb\r\nc\r").0, "a\nb\r\nc\n");
    }

    #[test]
    fn the_size_cap_is_enforced_before_anything_else() {
        assert_eq!(
            decode(&[b'a'; 11], 10),
            Err(ImportError::TooLarge {
                size: 11,
                limit: 10
            })
        );
    }

    /// Folds `text` at arbitrary byte positions, as a careless exporter would.
    fn fold_at(text: &str, cuts: &[usize]) -> Vec<u8> {
        let bytes = text.as_bytes();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut out = Vec::new();
        let mut from = 0;
        for cut in cuts {
            out.extend_from_slice(&bytes[from..cut]);
            out.extend_from_slice(b"\r\n ");
            from = cut;
        }
        out.extend_from_slice(&bytes[from..]);
        out
    }

    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    proptest! {
        #[test]
        fn text_folded_anywhere_unfolds_to_what_it_was(
            text in "[a-zé’€😀 ,:;]{0,40}",
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let (read, warning) = decoded(&fold_at(&text, &cuts));
            prop_assert_eq!(unfold(&read), text);
            prop_assert_eq!(warning, None);
        }

        #[test]
        fn utf16_of_any_text_decodes_to_it(text in "\\PC{0,40}") {
            for encoding in [UTF_16LE, UTF_16BE] {
                let read = decoded(&encode(&text, encoding)).0;
                prop_assert_eq!(read, text.clone());
            }
        }

        #[test]
        fn any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes, 1000);
        }
    }
}
