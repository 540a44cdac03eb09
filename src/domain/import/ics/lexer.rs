//! RFC 5545 §3.1 content lines: unfolding, `NAME;PARAM=a,"b;c":value` splitting and TEXT
//! unescaping, each line tagged with the physical line it starts on.
//!
//! We lex ourselves instead of using the `icalendar` crate's parser because that parser
//! unfolds before it tokenises and so loses line numbers: an organiser told "invalid date"
//! without a line cannot find the mistake in a 5,000-line export.

use std::borrow::Cow;

use super::escapes::{split_unescaped_commas, unescape};
use super::names::shared;
use crate::domain::import::ImportError;

/// One unfolded content line. Its parts borrow from the input unless the line was folded:
/// a calendar has a content line per property, a million for 100,000 events, and a copy of
/// each was most of what a large import held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ContentLine<'a> {
    /// The property name, upper-cased (names are case-insensitive).
    pub name: Cow<'a, str>,
    pub params: Vec<Param<'a>>,
    /// The raw value, still escaped: only TEXT values are unescaped, by [`ContentLine::text`].
    pub value: Cow<'a, str>,
    /// The 1-based physical line the property starts on.
    pub line: usize,
}

/// A property parameter with its values (quotes removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Param<'a> {
    /// Upper-cased parameter name.
    pub name: Cow<'a, str>,
    pub values: Vec<Cow<'a, str>>,
}

impl ContentLine<'_> {
    /// The first value of the parameter `name` (upper case), if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.values.first())
            .map(AsRef::as_ref)
    }

    /// The line with every part borrowed from this one.
    pub fn borrowed(&self) -> ContentLine<'_> {
        ContentLine {
            name: Cow::Borrowed(&self.name),
            params: self
                .params
                .iter()
                .map(|p| Param {
                    name: Cow::Borrowed(&p.name),
                    values: p.values.iter().map(|v| Cow::Borrowed(v.as_ref())).collect(),
                })
                .collect(),
            value: Cow::Borrowed(&self.value),
            line: self.line,
        }
    }

    /// The line with every part copied (its names shared, [`shared`]): for a line unfolded
    /// into a buffer of its own, or read from a piece of a file.
    pub(super) fn into_owned(self) -> ContentLine<'static> {
        let name = shared(self.name);
        let value = if matches!(name.as_ref(), "BEGIN" | "END") {
            shared(self.value)
        } else {
            Cow::Owned(self.value.into_owned())
        };
        ContentLine {
            name,
            params: self
                .params
                .into_iter()
                .map(|p| Param {
                    name: shared(p.name),
                    values: p
                        .values
                        .into_iter()
                        .map(|v| Cow::Owned(v.into_owned()))
                        .collect(),
                })
                .collect(),
            value,
            line: self.line,
        }
    }

    /// The value read as TEXT, escapes resolved.
    pub fn text(&self) -> String {
        unescape(&self.value)
    }

    /// The value read as a comma-separated TEXT list (CATEGORIES), escapes resolved.
    pub fn text_list(&self) -> Vec<String> {
        split_unescaped_commas(&self.value)
            .into_iter()
            .map(unescape)
            .collect()
    }
}

/// Unfolds `input` and splits it into content lines. Blank lines are skipped; the first
/// unreadable line is an error.
#[cfg(test)]
pub(super) fn content_lines(input: &str) -> Result<Vec<ContentLine<'_>>, ImportError> {
    let mut lines = Vec::new();
    lex(input, 1, |line| lines.push(line));
    lines.into_iter().collect()
}

/// Hands each content line, or the error that makes a line unreadable, to `emit` as it is
/// read, so a caller keeps only what it wants (collecting them first held every line twice).
/// `input`'s first line is numbered `first_line`.
pub(super) fn lex<'a>(
    input: &'a str,
    first_line: usize,
    mut emit: impl FnMut(Result<ContentLine<'a>, ImportError>),
) {
    // The logical line being assembled and the physical line it started on: borrowed until a
    // continuation line makes it a copy.
    let mut current: Option<(usize, Cow<'_, str>)> = None;
    for (index, physical) in input.split('\n').enumerate() {
        let number = index + first_line;
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        if let Some(rest) = physical
            .strip_prefix(' ')
            .or_else(|| physical.strip_prefix('\t'))
        {
            match current.as_mut() {
                Some((_, text)) => text.to_mut().push_str(rest),
                None => emit(Err(ImportError::at_line(
                    number,
                    "a continuation line (starting with a space) follows no property",
                ))),
            }
            continue;
        }
        if let Some((start, text)) = current.take() {
            emit(parse_unfolded(text, start));
        }
        if !physical.is_empty() {
            current = Some((number, Cow::Borrowed(physical)));
        }
    }
    if let Some((start, text)) = current {
        emit(parse_unfolded(text, start));
    }
}

fn parse_unfolded(text: Cow<'_, str>, line: usize) -> Result<ContentLine<'_>, ImportError> {
    match text {
        Cow::Borrowed(text) => parse_line(text, line),
        Cow::Owned(text) => parse_line(&text, line).map(ContentLine::into_owned),
    }
}

/// `text` upper-cased, borrowed when it already is (as nearly every name is).
fn upper(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(text.to_ascii_uppercase())
    } else {
        Cow::Borrowed(text)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Splits one unfolded line into name, parameters and value.
fn parse_line(text: &str, line: usize) -> Result<ContentLine<'_>, ImportError> {
    let name_end = text.find([';', ':']).ok_or_else(|| {
        ImportError::at_line(
            line,
            "not an iCalendar content line (no ':' separating a value)",
        )
    })?;
    let name = text.get(..name_end).unwrap_or_default();
    if name.is_empty() || !name.chars().all(is_name_char) {
        return Err(ImportError::at_line(
            line,
            format!("invalid property name {:?}", preview(name)),
        ));
    }
    let mut rest = text.get(name_end..).unwrap_or_default();
    let mut params = Vec::new();
    while let Some(after) = rest.strip_prefix(';') {
        let (param, remaining) = parse_param(after, line, name)?;
        params.push(param);
        rest = remaining;
    }
    let value = rest.strip_prefix(':').ok_or_else(|| {
        ImportError::at_line(
            line,
            format!("{name}: the parameters are not followed by ':'"),
        )
    })?;
    Ok(ContentLine {
        name: upper(name),
        params,
        value: Cow::Borrowed(value),
        line,
    })
}

/// Parses `NAME=v1,"v2"` at the start of `text`; returns the rest (starting at `;` or `:`).
fn parse_param<'a>(
    text: &'a str,
    line: usize,
    property: &str,
) -> Result<(Param<'a>, &'a str), ImportError> {
    let bad = |why: &str| ImportError::at_line(line, format!("{property}: {why}"));
    let eq = text
        .find('=')
        .ok_or_else(|| bad("a parameter has no '='"))?;
    let name = text.get(..eq).unwrap_or_default();
    if name.is_empty() || !name.chars().all(is_name_char) {
        return Err(bad(&format!("invalid parameter name {:?}", preview(name))));
    }
    let mut rest = text.get(eq + 1..).unwrap_or_default();
    let mut values = Vec::new();
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let close = quoted
                .find('"')
                .ok_or_else(|| bad(&format!("the quoted value of {name} is never closed")))?;
            values.push(Cow::Borrowed(quoted.get(..close).unwrap_or_default()));
            rest = quoted.get(close + 1..).unwrap_or_default();
            // Some clients write text after the closing quote (`CN="Jane Doe"x:mailto:…`):
            // the quoted value is what they meant; the rest up to the next separator goes.
            let junk = rest.find([',', ';', ':']).unwrap_or(rest.len());
            rest = rest.get(junk..).unwrap_or_default();
        } else {
            let end = rest.find([',', ';', ':', '"']).unwrap_or(rest.len());
            values.push(Cow::Borrowed(rest.get(..end).unwrap_or_default()));
            rest = rest.get(end..).unwrap_or_default();
        }
        match rest.chars().next() {
            Some(',') => rest = rest.get(1..).unwrap_or_default(),
            Some(';') | Some(':') => break,
            _ => return Err(bad(&format!("unexpected text after the value of {name}"))),
        }
    }
    let param = Param {
        name: upper(name),
        values,
    };
    Ok((param, rest))
}

/// A short, printable excerpt of untrusted text for an error message.
pub(super) fn preview(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_lines_are_joined_for_crlf_and_lf_and_keep_their_first_line_number() {
        let crlf = "BEGIN:VCALENDAR\r\nSUMMARY:Hello\r\n  wor\r\n\tld\r\nEND:VCALENDAR\r\n";
        let lf = crlf.replace("\r\n", "\n");
        for input in [crlf, lf.as_str()] {
            let lines = content_lines(input).unwrap();
            assert_eq!(lines.len(), 3);
            assert_eq!(lines[1].name, "SUMMARY");
            assert_eq!(lines[1].text(), "Hello world");
            assert_eq!(lines[1].line, 2);
            assert_eq!(lines[2].line, 5);
        }
    }

    #[test]
    fn plain_lines_borrow_from_the_input_and_folded_ones_own_their_text() {
        let input = "SUMMARY:plain\r\nDESCRIPTION;lang=en:fol\r\n ded\r\nx-lower;A=\"q\":v\r\n";
        let lines = content_lines(input).unwrap();
        assert!(matches!(lines[0].name, Cow::Borrowed("SUMMARY")));
        assert!(matches!(lines[0].value, Cow::Borrowed("plain")));
        assert_eq!(lines[1].value, "folded");
        assert!(matches!(lines[1].value, Cow::Owned(_)));
        assert_eq!(lines[1].param("LANG"), Some("en"));
        assert_eq!(lines[2].name, "X-LOWER");
        assert!(matches!(lines[2].name, Cow::Owned(_)));
        assert!(matches!(lines[2].params[0].values[0], Cow::Borrowed("q")));
    }

    #[test]
    fn quoted_and_multiple_parameters_are_split_correctly() {
        let input = "dtstart;VALUE=DATE-TIME;TZID=\"W. Europe Standard Time\":20260425T100000";
        let line = content_lines(input).unwrap().remove(0);
        assert_eq!(line.name, "DTSTART");
        assert_eq!(line.param("TZID"), Some("W. Europe Standard Time"));
        assert_eq!(line.param("VALUE"), Some("DATE-TIME"));
        assert_eq!(line.value, "20260425T100000");

        let tricky = content_lines("X-A;P=\"a;b:c\",d:v:w").unwrap().remove(0);
        assert_eq!(tricky.params[0].values, vec!["a;b:c", "d"]);
        assert_eq!(tricky.value, "v:w");
    }

    #[test]
    fn malformed_lines_are_errors_naming_their_physical_line() {
        let cases = [
            ("BEGIN:VCALENDAR\nno colon here\n", 2),
            ("BEGIN:VCALENDAR\n\n\nDTSTART;TZID=\"open:20260101\n", 4),
            (" leading continuation\n", 1),
            ("A:1\nBAD NAME:x\n", 2),
            ("A:1\nX;=v:x\n", 2),
        ];
        for (input, line) in cases {
            match content_lines(input) {
                Err(ImportError::AtLine { line: got, .. }) => assert_eq!(got, line, "{input:?}"),
                other => panic!("{input:?} gave {other:?}"),
            }
        }
    }
}
