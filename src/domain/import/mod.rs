//! Importers: one file per source format, each turning bytes into the same
//! [`ImportedSchedule`]. Pure functions: no I/O, no clock.

mod decode;
pub mod fingerprint;
pub mod frab_xml;
pub mod ics;
pub mod identity;
pub mod limits;
pub mod pieces;
pub mod pretalx_json;
mod skipped;
pub mod text;

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;

use crate::domain::model::ImportedSchedule;

pub use decode::{decode, Decoded};
pub use fingerprint::{Fingerprint, NotAFingerprint};

/// The largest input any importer accepts by default (64 MiB): ten thousand talks with long
/// abstracts fit in a fraction of it; anything larger is refused before parsing.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;

/// A schedule source format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// iCalendar (RFC 5545), as pretalx and calendar apps export it.
    Ics,
    /// pretalx / frab `schedule.json`.
    Json,
    /// frab / pentabarf `schedule.xml`.
    Xml,
    /// Plain-text talk pages: listings, proposal pages, reStructuredText notes.
    Text,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Ics, Format::Json, Format::Xml, Format::Text];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ics => "ics",
            Self::Json => "json",
            Self::Xml => "xml",
            Self::Text => "text",
        }
    }

    /// Guesses the format from the first meaningful bytes of the input (UTF-16 read as such,
    /// by its byte-order mark).
    pub fn detect(input: &[u8]) -> Format {
        if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(input) {
            if encoding != encoding_rs::UTF_8 {
                let head = input.get(bom..).unwrap_or_default();
                let head = head.get(..head.len().min(256)).unwrap_or_default();
                let (text, _) = encoding.decode_without_bom_handling(head);
                return Format::detect(text.as_bytes());
            }
        }
        let text = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        let start = text
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(text.len());
        let head = &text[start..];
        let upper: Vec<u8> = head.iter().take(15).map(u8::to_ascii_uppercase).collect();
        if upper.starts_with(b"BEGIN:VCALENDAR") {
            Format::Ics
        } else if head.starts_with(b"{") || head.starts_with(b"[") {
            Format::Json
        } else if head.starts_with(b"<") {
            Format::Xml
        } else {
            Format::Text
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ics" | "ical" | "icalendar" => Ok(Self::Ics),
            "json" | "pretalx" | "frab-json" => Ok(Self::Json),
            "xml" | "frab" | "pentabarf" => Ok(Self::Xml),
            "text" | "txt" | "rst" => Ok(Self::Text),
            other => Err(format!(
                "unknown format {other:?}: expected one of ics, json, xml, text"
            )),
        }
    }
}

/// What the caller knows that the file may not say.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The conference zone: used for floating iCalendar times, frab events without `<date>`,
    /// and overriding nothing the file states with an explicit offset or VTIMEZONE.
    pub time_zone: Option<Tz>,
    /// The zone already stored for the conference: the last resort for those times when
    /// neither `time_zone` nor the file names a zone. Unlike `time_zone` it never beats the
    /// file's own zone (`X-WR-TIMEZONE`): a conference created by a talk listing has only the
    /// configured default, and reading a timetable's floating times in it would be hours off.
    pub stored_time_zone: Option<Tz>,
    /// Inputs larger than this are refused.
    pub max_bytes: usize,
    /// Read an iCalendar SUMMARY as `Title - Speaker, Speaker` even though the file is not
    /// pretalx's (`--summary-speakers`; pretalx files are recognised by their PRODID).
    pub summary_speakers: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            time_zone: None,
            stored_time_zone: None,
            max_bytes: DEFAULT_MAX_BYTES,
            summary_speakers: false,
        }
    }
}

/// Why an input could not be imported. The message names the place (line, element) and the
/// cause; it is safe to show to the organiser who supplied the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the input is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("line {line}: the input starts with a UTF-16 byte-order mark but is not valid UTF-16")]
    InvalidUtf16 { line: usize },
    #[error("line {line}: {message}")]
    AtLine { line: usize, message: String },
    #[error("{0}")]
    Other(String),
}

impl ImportError {
    /// An error at a 1-based line number.
    pub fn at_line(line: usize, message: impl Into<String>) -> Self {
        Self::AtLine {
            line,
            message: message.into(),
        }
    }

    /// An error without a position (for example: "no VEVENT in the calendar").
    pub fn msg(message: impl Into<String>) -> Self {
        Self::Other(message.into())
    }
}

/// Checks size and encoding, parses `input` in the given format (or the detected one), then
/// holds the result to the field and date [`limits`].
pub fn parse(
    input: &[u8],
    format: Option<Format>,
    options: &ImportOptions,
) -> Result<ImportedSchedule, ImportError> {
    let Decoded { text, warning } = decode(input, options.max_bytes)?;
    let format = format.unwrap_or_else(|| Format::detect(text.as_bytes()));
    let mut schedule = match format {
        Format::Ics => ics::parse(&text, options),
        Format::Json => pretalx_json::parse(&text, options),
        Format::Xml => frab_xml::parse(&text, options),
        Format::Text => text::parse(&text, options),
    }?;
    schedule.warnings.splice(0..0, warning);
    limits::enforce(&mut schedule, Some(&text))?;
    Ok(schedule)
}

#[cfg(test)]
mod tests_encodings;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_from_their_first_bytes() {
        assert_eq!(
            Format::detect(b"\xEF\xBB\xBF\r\nBEGIN:VCALENDAR\r\n"),
            Format::Ics
        );
        assert_eq!(Format::detect(b"begin:vcalendar\n"), Format::Ics);
        assert_eq!(Format::detect(b"  {\"schedule\": {}}"), Format::Json);
        assert_eq!(
            Format::detect(b"<?xml version=\"1.0\"?><schedule/>"),
            Format::Xml
        );
        assert_eq!(Format::detect(b"top of page\n\nTalks"), Format::Text);
        assert_eq!(Format::detect(b""), Format::Text);
        let utf16 = |text: &str| {
            let mut bytes = vec![0xFF, 0xFE];
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            bytes
        };
        assert_eq!(Format::detect(&utf16("BEGIN:VCALENDAR\r\n")), Format::Ics);
        assert_eq!(Format::detect(&utf16("<schedule/>")), Format::Xml);
    }

    #[test]
    fn format_names_parse_and_unknown_ones_are_refused() {
        assert_eq!("ICS".parse::<Format>(), Ok(Format::Ics));
        assert_eq!("frab".parse::<Format>(), Ok(Format::Xml));
        let err = "pdf".parse::<Format>().unwrap_err();
        assert!(err.contains("pdf") && err.contains("ics"), "{err}");
    }

    #[test]
    fn a_utf16_file_is_detected_and_parsed_like_any_other() {
        let calendar = "BEGIN:VCALENDAR\r\nX-WR-TIMEZONE:UTC\r\nBEGIN:VEVENT\r\nUID:a\r\n\
            DTSTART:20270101T100000Z\r\nSUMMARY:Zoë\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let bytes = decode::encode(calendar, encoding_rs::UTF_16LE);

        let schedule = parse(&bytes, None, &ImportOptions::default()).expect("imports");

        assert_eq!(schedule.talks[0].title, "Zoë");
        assert!(schedule.warnings.is_empty());
    }
}
