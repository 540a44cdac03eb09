//! What HTML's structure means as plain text, however the HTML was read (a fragment parsed
//! by [`super::html_to_text`], or elements an XML reader meets in a schedule): block elements
//! become line breaks, list items bullets, links their text and a differing URL.

use crate::domain::text;

/// Elements whose content is not text: dropped with it.
pub(crate) fn is_raw_text(name: &str) -> bool {
    matches!(name, "script" | "style")
}

/// Plain text built from text and tags, in document order.
#[derive(Default)]
pub(crate) struct Renderer {
    out: Output,
    /// Open links: their target and where their text starts in the output.
    links: Vec<(String, usize)>,
}

impl Renderer {
    /// Text, entities already decoded.
    pub(crate) fn text(&mut self, s: &str) {
        self.out.text(s);
    }

    /// A start or end tag; `name` in lower case, `href` a start tag's link target.
    pub(crate) fn tag(&mut self, name: &str, closing: bool, href: Option<&str>) {
        match name {
            "br" => self.out.line_break(),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "dl" | "table"
            | "blockquote" | "pre" | "hr" | "section" | "article" | "header" | "footer"
            | "figure" => {
                self.out.block(2);
            }
            "div" | "tr" | "dt" | "dd" | "caption" => self.out.block(1),
            "li" => {
                self.out.block(1);
                if !closing {
                    self.out.bullet();
                }
            }
            "td" | "th" if !closing => self.out.text(" "),
            "a" if !closing => {
                self.out.flush_space();
                let href = href.unwrap_or_default().to_owned();
                self.links.push((href, self.out.buf.len()));
            }
            "a" => {
                if let Some((href, start)) = self.links.pop() {
                    let label = self.out.buf.get(start..).unwrap_or_default();
                    if shows_url(&href) && !same_target(label, &href) {
                        self.out.text(&format!(" ({href})"));
                    }
                }
            }
            _ => {}
        }
    }

    /// The text, through [`text::clean`].
    pub(crate) fn finish(self) -> String {
        text::clean_owned(self.out.buf).unwrap_or_default()
    }
}

/// Only absolute web and mail links mean something outside the page they came from.
fn shows_url(href: &str) -> bool {
    let lower = href.to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
}

/// Whether a link's text already says where it goes (`example.com` for `https://example.com/`).
fn same_target(label: &str, href: &str) -> bool {
    let strip = |s: &str| -> String {
        let s = s.trim().to_ascii_lowercase();
        let s = ["https://", "http://", "mailto:"]
            .iter()
            .find_map(|scheme| s.strip_prefix(scheme).map(str::to_owned))
            .unwrap_or(s);
        s.trim_end_matches('/').to_owned()
    };
    strip(label) == strip(href)
}

/// The length of `s`'s leading white space, as `char::is_whitespace` has it.
fn blank_len(s: &str) -> usize {
    run_of(s, true)
}

/// The length of `s`'s leading word: up to its first white space.
fn word_len(s: &str) -> usize {
    run_of(s, false)
}

/// The length of `s`'s leading run of white space (`blank`) or of other characters. Read a
/// byte at a time while the text is ASCII, instead of decoding characters.
fn run_of(s: &str, blank: bool) -> usize {
    for (i, &byte) in s.as_bytes().iter().enumerate() {
        if !byte.is_ascii() {
            // Every byte before `i` is ASCII, so `i` is a character boundary.
            let tail = s.get(i..).unwrap_or_default();
            return i + tail
                .find(|c: char| c.is_whitespace() != blank)
                .unwrap_or(tail.len());
        }
        // `char::is_whitespace` of ASCII, which unlike `u8::is_ascii_whitespace` counts U+000B.
        let is_blank = matches!(byte, b' ' | b'\t'..=b'\r');
        if is_blank != blank {
            return i;
        }
    }
    s.len()
}

/// The text being built, with pending separators that only materialise before the next
/// visible character: no leading, trailing or doubled blank space.
#[derive(Default)]
struct Output {
    buf: String,
    newlines: u8,
    space: bool,
}

impl Output {
    fn text(&mut self, s: &str) {
        // A run of words at a time: only its first character can have a separator pending (a
        // flush per character was a tenth of an XML re-import).
        let mut rest = s;
        while !rest.is_empty() {
            let word_start = blank_len(rest);
            if word_start > 0 {
                self.space = true;
            }
            let word = rest.get(word_start..).unwrap_or_default();
            let mut len = word_len(word);
            if len > 0 {
                self.flush();
                // Words apart by one plain space are written as they stand, as one run: the
                // separator between them would be that space (a third of an XML import's
                // rendering went to taking such words one at a time).
                while let Some(after) = word.get(len..).and_then(|a| a.strip_prefix(' ')) {
                    let next = word_len(after);
                    if next == 0 {
                        break;
                    }
                    len += 1 + next;
                }
                self.buf.push_str(word.get(..len).unwrap_or_default());
            }
            rest = word.get(len..).unwrap_or_default();
        }
    }

    /// Writes the pending separator.
    fn flush(&mut self) {
        if !self.buf.is_empty() {
            if self.newlines > 0 {
                while self.buf.ends_with(' ') {
                    self.buf.pop();
                }
                for _ in 0..self.newlines {
                    self.buf.push('\n');
                }
            } else if self.space && !self.buf.ends_with(' ') {
                self.buf.push(' ');
            }
        }
        self.newlines = 0;
        self.space = false;
    }

    /// Writes a pending space now (so a link's text starts after it), keeping line breaks
    /// pending.
    fn flush_space(&mut self) {
        if self.newlines == 0 && self.space {
            self.flush();
        }
    }

    /// A block boundary: at least `lines` line breaks before the next text.
    fn block(&mut self, lines: u8) {
        self.newlines = self.newlines.max(lines);
        self.space = false;
    }

    /// `<br>`: each one adds a line break, up to one blank line.
    fn line_break(&mut self) {
        self.newlines = (self.newlines + 1).min(2);
        self.space = false;
    }

    fn bullet(&mut self) {
        self.flush();
        self.buf.push_str("• ");
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The output as it was built a character at a time: what the word-at-a-time `Output::text`
    /// must match.
    fn text_char_by_char(out: &mut Output, s: &str) {
        for c in s.chars() {
            if c.is_whitespace() {
                out.space = true;
            } else {
                out.flush();
                out.buf.push(c);
            }
        }
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn text_is_written_as_a_character_at_a_time_would_write_it(
            steps in proptest::collection::vec(
                (
                    prop_oneof![
                        "[a-z]{0,4}",
                        // Words apart by single spaces, which are copied as one run.
                        " ?[a-z]{1,3}( [a-zé\u{a0}\t]{1,3}){0,5} {0,2}",
                        Just(" \t\n".to_owned()),
                        Just("\u{a0}é\u{2003}東 ".to_owned()),
                        Just("a\u{b}\u{c}\r b\u{85}c\u{1f}".to_owned()),
                        "\\PC{0,6}",
                    ],
                    0u8..4,
                ),
                0..12,
            )
        ) {
            let (mut fast, mut slow) = (Output::default(), Output::default());
            for (text, separator) in &steps {
                for out in [&mut fast, &mut slow] {
                    match separator {
                        1 => out.block(2),
                        2 => out.line_break(),
                        3 => out.flush_space(),
                        _ => {}
                    }
                }
                fast.text(text);
                text_char_by_char(&mut slow, text);
            }
            prop_assert_eq!(fast.buf, slow.buf);
        }
    }
}
