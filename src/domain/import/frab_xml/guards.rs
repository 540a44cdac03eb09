//! Checks on the raw text: entity declarations, refused before the reader sees the file, and
//! where a cut-off file ends, for the reader's error.

use crate::domain::import::ImportError;

/// Entity declarations are how XML bombs and external-file reads work; no real schedule needs
/// them, so they are refused before the parser sees them.
pub(super) fn refuse_entity_declarations(input: &str) -> Result<(), ImportError> {
    match input.find("<!ENTITY") {
        Some(at) => {
            let line = input
                .get(..at)
                .map_or(1, |head| head.matches('\n').count() + 1);
            Err(ImportError::at_line(
                line,
                "DTD entities are not accepted: remove the <!ENTITY ...> declarations",
            ))
        }
        None => Ok(()),
    }
}

/// Where a file that ends too early ends, and the innermost element still open there with
/// the line it opened on: a parser's "unexpected end of stream" names no element, or the line
/// it started on, which sends an organiser to the wrong end of a truncated download.
pub(super) fn truncation(input: &str) -> (usize, Option<(String, usize)>) {
    let mut open: Vec<(String, usize)> = Vec::new();
    // Tags come in order: count lines onwards, not from the start for each one.
    let (mut counted, mut line) = (0, 1);
    for tag in Tags::new(input) {
        match tag {
            Tag::Open { at, name } => {
                line += input
                    .get(counted..at)
                    .map_or(0, |between| between.matches('\n').count());
                counted = at.max(counted);
                open.push((name.to_owned(), line));
            }
            Tag::Close => {
                open.pop();
            }
        }
    }
    let last_line = line_at(input, input.trim_end().len());
    (last_line, open.pop())
}

fn line_at(input: &str, at: usize) -> usize {
    input.get(..at).map_or(1, |h| h.matches('\n').count() + 1)
}

/// An element boundary found by [`Tags`].
enum Tag<'a> {
    /// A start tag that is not self-closing, at byte `at`.
    Open {
        at: usize,
        name: &'a str,
    },
    Close,
}

/// Start and end tags of raw XML, skipping comments, CDATA, processing instructions and
/// declarations; `/>` only ends a start tag outside quotes. A start tag without its `>` ends
/// the scan.
struct Tags<'a> {
    input: &'a str,
    i: usize,
}

impl<'a> Tags<'a> {
    fn new(input: &'a str) -> Self {
        Tags { input, i: 0 }
    }

    fn find_from(&self, from: usize, needle: &str) -> usize {
        self.input
            .get(from..)
            .and_then(|rest| rest.find(needle))
            .map_or(self.input.len(), |at| from + at + needle.len())
    }
}

impl<'a> Iterator for Tags<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        let input = self.input;
        let bytes = input.as_bytes();
        while let Some(rel) = input.get(self.i..).and_then(|rest| rest.find('<')) {
            let lt = self.i + rel;
            let rest = input.get(lt..).unwrap_or_default();
            if rest.starts_with("<!--") {
                self.i = self.find_from(lt + 4, "-->");
            } else if rest.starts_with("<![CDATA[") {
                self.i = self.find_from(lt + 9, "]]>");
            } else if rest.starts_with("<?") {
                self.i = self.find_from(lt + 2, "?>");
            } else if rest.starts_with("<!") {
                self.i = self.find_from(lt + 2, ">");
            } else if rest.starts_with("</") {
                self.i = lt + 2;
                return Some(Tag::Close);
            } else {
                let mut quote = None;
                let mut end = None;
                for (k, &b) in bytes.iter().enumerate().skip(lt + 1) {
                    match (quote, b) {
                        (Some(q), _) if b == q => quote = None,
                        (Some(_), _) => {}
                        (None, b'"' | b'\'') => quote = Some(b),
                        (None, b'>') => {
                            end = Some(k);
                            break;
                        }
                        (None, _) => {}
                    }
                }
                let end = end?;
                self.i = end + 1;
                if bytes.get(end.wrapping_sub(1)) != Some(&b'/') {
                    let tag = input.get(lt + 1..end).unwrap_or_default();
                    let name_end = tag
                        .find(|c: char| c.is_whitespace() || c == '/')
                        .unwrap_or(tag.len());
                    let name = tag.get(..name_end).unwrap_or_default();
                    return Some(Tag::Open { at: lt, name });
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::import::{frab_xml, ImportOptions};

    #[test]
    fn a_cut_off_download_is_placed_where_it_ends_inside_the_element_left_open() {
        let cut = include_str!("../../../../tests/fixtures/real-world/truncated-schedule.xml");

        let error = frab_xml::parse(cut, &ImportOptions::default()).expect_err("refused");

        assert_eq!(
            error.to_string(),
            "line 22: malformed XML: the file ends here inside <event> (opened on line 19): \
             it looks cut off"
        );
    }

    #[test]
    fn the_innermost_open_element_ignores_comments_cdata_and_empty_elements() {
        let input = "<a>\n<!-- <x> -->\n<b at=\"1>2\">\n<c/>\n<![CDATA[<y>]]>\n<d>text</d>\n";

        assert_eq!(truncation(input), (6, Some(("b".to_owned(), 3))));
        assert_eq!(truncation("<a></a>"), (1, None));
        assert_eq!(truncation("<a>\n<b"), (2, Some(("a".to_owned(), 1))));
    }
}
