//! Where the reader's errors are in the file, in words an organiser can act on: quick-xml's
//! own errors, and the problems the reader finds itself.

use quick_xml::errors::{Error, IllFormedError, SyntaxError};
use quick_xml::events::attributes::AttrError;

use super::super::guards;
use super::Outline;
use crate::domain::import::ImportError;

impl Outline<'_> {
    pub(super) fn misplaced(&mut self, at: usize, what: &str) -> ImportError {
        ImportError::at_line(self.lines.at(at), format!("malformed XML: {what}"))
    }

    /// quick-xml counts an attribute's position from the tag's name: placed in the file.
    pub(super) fn attribute_error(
        &mut self,
        at: usize,
        name: &str,
        error: &AttrError,
    ) -> ImportError {
        let (position, what) = match *error {
            AttrError::ExpectedEq(p) => (p, "an attribute name must be followed by `=`"),
            AttrError::ExpectedValue(p) => (p, "an `=` must be followed by a quoted value"),
            AttrError::UnquotedValue(p) => (p, "an attribute value must be in quotes"),
            AttrError::ExpectedQuote(p, _) => (p, "an attribute value's closing quote is missing"),
            AttrError::Duplicated(p, _) => (p, "an attribute is given twice"),
        };
        let line = self.lines.at(at + 1 + position);
        ImportError::at_line(line, format!("malformed XML: <{name}>: {what}"))
    }

    pub(super) fn error(&mut self, error: &Error) -> ImportError {
        let at = usize::try_from(self.reader.error_position())
            .unwrap_or(usize::MAX)
            .min(self.input.len());
        match error {
            // quick-xml looked for the tag's `>` (or its quote's end) up to the end of the
            // file. With a `>` after it, the tag is broken where it starts (a stray quote);
            // without one, the download was cut off in it.
            Error::Syntax(
                SyntaxError::UnclosedTag
                | SyntaxError::UnclosedSingleQuotedAttributeValue
                | SyntaxError::UnclosedDoubleQuotedAttributeValue,
            ) if self.input.get(at..).is_some_and(|rest| rest.contains('>')) => self.misplaced(
                at,
                "this tag never closes: a stray quote or `<` in it? (or the file is cut off)",
            ),
            Error::Syntax(
                SyntaxError::UnclosedTag
                | SyntaxError::UnclosedSingleQuotedAttributeValue
                | SyntaxError::UnclosedDoubleQuotedAttributeValue,
            ) => self.truncated(),
            Error::Syntax(unclosed) if !matches!(unclosed, SyntaxError::InvalidBangMarkup) => {
                let what = match unclosed {
                    SyntaxError::UnclosedComment => "comment",
                    SyntaxError::UnclosedCData => "CDATA section",
                    SyntaxError::UnclosedDoctype => "DOCTYPE",
                    SyntaxError::UnclosedXmlDecl => "XML declaration",
                    SyntaxError::UnclosedPI => "processing instruction",
                    _ => "markup",
                };
                self.misplaced(
                    at,
                    &format!("this {what} never closes (or the file is cut off)"),
                )
            }
            Error::IllFormed(IllFormedError::MissingEndTag(_)) => self.truncated(),
            _ => self.misplaced(at, &error.to_string()),
        }
    }

    /// The file ends with an element still open: a cut-off download, placed where it ends.
    pub(super) fn truncated(&self) -> ImportError {
        let (line, open) = guards::truncation(self.input);
        let inside = open.map_or_else(String::new, |(name, opened)| {
            format!(" inside <{name}> (opened on line {opened})")
        });
        ImportError::at_line(
            line,
            format!("malformed XML: the file ends here{inside}: it looks cut off"),
        )
    }
}
