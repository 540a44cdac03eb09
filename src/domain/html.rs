//! HTML fragments (frab/pentabarf/pretalx abstracts) turned into readable plain text.
//!
//! Hand-written rather than a full HTML parser: the inputs are short abstracts, and all we
//! need is their line structure, link targets and decoded entities. Nothing here panics on
//! any input: every slice boundary is the position of an ASCII byte found by searching, which
//! is always a UTF-8 character boundary.

use crate::domain::text;

mod entities;

pub(crate) use entities::decode_entities;
use entities::entity_at;

/// How far past a `<` we look for the `>` closing a tag. Real tags are short; the cap keeps
/// hostile input such as `<a "<a "<a "...` linear instead of quadratic.
const MAX_TAG_LEN: usize = 4096;

/// Tags that mark HTML when they appear in free text. `<T>` in a Markdown abstract about
/// generics is not HTML; `<p>` is.
const KNOWN_TAGS: &[&str] = &[
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "script",
    "span",
    "strong",
    "style",
    "table",
    "td",
    "th",
    "tr",
    "u",
    "ul",
];

/// Whether `s` looks like HTML: it holds a common tag (`<p>`, `</a>`, `<br/>`) or a character
/// entity (`&amp;`, `&#39;`). Markdown and plain text answer `false`.
pub fn looks_like_html(s: &str) -> bool {
    // Names are compared without case rather than lowercasing a copy of every abstract.
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        let after = rest.get(lt + 1..).unwrap_or_default();
        let name_part = after.strip_prefix('/').unwrap_or(after);
        let name_len = name_part
            .bytes()
            .take_while(u8::is_ascii_alphanumeric)
            .count();
        let name = name_part.get(..name_len).unwrap_or_default();
        let next = name_part.as_bytes().get(name_len);
        let known = KNOWN_TAGS.iter().any(|tag| tag.eq_ignore_ascii_case(name));
        if known && matches!(next, Some(b'>' | b'/' | b' ' | b'\t' | b'\n')) {
            return true;
        }
        rest = after;
    }
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        let after = rest.get(amp + 1..).unwrap_or_default();
        if entity_at(after).is_some() {
            return true;
        }
        rest = after;
    }
    false
}

/// Turns an HTML fragment into plain text: block elements become line breaks (paragraphs
/// separated by a blank line), list items get a bullet, links keep their text and show their
/// URL when it differs, scripts and styles disappear, entities are decoded and white space is
/// collapsed. The result has been through [`text::clean`].
pub fn html_to_text(html: &str) -> String {
    // ASCII lowercasing keeps every byte offset, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let mut out = Output::default();
    let mut links: Vec<(String, usize)> = Vec::new();
    let mut pos = 0;
    while pos < html.len() {
        let rest = html.get(pos..).unwrap_or_default();
        let Some(rel) = rest.find('<') else {
            out.text(&decode_entities(rest));
            break;
        };
        let lt = pos + rel;
        out.text(&decode_entities(html.get(pos..lt).unwrap_or_default()));
        pos = markup(html, &lower, lt, &mut out, &mut links);
    }
    text::clean(&out.buf).unwrap_or_default()
}

/// Handles the markup starting at `lt` (a `<`) and returns where text resumes.
fn markup(
    html: &str,
    lower: &str,
    lt: usize,
    out: &mut Output,
    links: &mut Vec<(String, usize)>,
) -> usize {
    let here = lower.get(lt..).unwrap_or_default();
    let find_after = |needle: &str, from: usize| {
        lower
            .get(from..)
            .and_then(|s| s.find(needle))
            .map_or(html.len(), |i| from + i + needle.len())
    };
    if here.starts_with("<!--") {
        return find_after("-->", lt + 4);
    }
    if here.starts_with("<!") || here.starts_with("<?") {
        return find_after(">", lt + 2);
    }
    let Some(tag) = parse_tag(html, lt) else {
        out.text("<");
        return lt + 1;
    };
    if !tag.closing && matches!(tag.name.as_str(), "script" | "style") {
        // Raw text: everything up to the matching end tag goes, even if it looks like markup.
        let close = format!("</{}", tag.name);
        let end_tag = lower.get(tag.end..).and_then(|s| s.find(&close));
        return end_tag.map_or(html.len(), |i| find_after(">", tag.end + i));
    }
    match tag.name.as_str() {
        "br" => out.line_break(),
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "dl" | "table"
        | "blockquote" | "pre" | "hr" | "section" | "article" | "header" | "footer" | "figure" => {
            out.block(2);
        }
        "div" | "tr" | "dt" | "dd" | "caption" => out.block(1),
        "li" => {
            out.block(1);
            if !tag.closing {
                out.bullet();
            }
        }
        "td" | "th" if !tag.closing => out.text(" "),
        "a" if !tag.closing => {
            let href = attribute(tag.attrs, "href").unwrap_or_default();
            out.flush_space();
            links.push((href, out.buf.len()));
        }
        "a" => {
            if let Some((href, start)) = links.pop() {
                let label = out.buf.get(start..).unwrap_or_default();
                if shows_url(&href) && !same_target(label, &href) {
                    out.text(&format!(" ({href})"));
                }
            }
        }
        _ => {}
    }
    tag.end
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

/// A start or end tag: its lowercase name, its attribute text and the offset just past `>`.
struct Tag<'a> {
    name: String,
    closing: bool,
    attrs: &'a str,
    end: usize,
}

/// Reads the tag at `lt`, or `None` when the `<` does not start one (`a < b`, `<3`, a `<`
/// with no `>` nearby): the caller then keeps the `<` as text.
fn parse_tag(html: &str, lt: usize) -> Option<Tag<'_>> {
    let after = html.get(lt + 1..)?;
    let (closing, body) = match after.strip_prefix('/') {
        Some(body) => (true, body),
        None => (false, after),
    };
    if !body.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let name_len = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name = body.get(..name_len)?.to_ascii_lowercase();
    let tail = body.get(name_len..)?;
    let gt = closing_bracket(tail)?;
    let consumed = html.len() - tail.len() + gt + 1;
    Some(Tag {
        name,
        closing,
        attrs: tail.get(..gt)?,
        end: consumed,
    })
}

/// The offset of the `>` ending a tag whose attributes start `tail`, skipping `>` inside
/// quoted values; falls back to the first `>` when a quote never closes. A `<` outside quotes
/// means this was no tag (`a <b c<d>`). Stopping there also keeps hostile input linear: a
/// scan that starts at one `<` ends by the next unquoted one.
fn closing_bracket(tail: &str) -> Option<usize> {
    let window = || tail.bytes().take(MAX_TAG_LEN);
    let mut quote: Option<u8> = None;
    for (i, b) in window().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return Some(i),
            (None, b'<') => return None,
            (None, _) => {}
        }
    }
    window().take_while(|&b| b != b'<').position(|b| b == b'>')
}

/// The decoded value of attribute `wanted` in a tag's attribute text.
fn attribute(attrs: &str, wanted: &str) -> Option<String> {
    let bytes = attrs.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'=' && *b != b'/')
        {
            i += 1;
        }
        let name = attrs.get(name_start..i)?;
        if name.is_empty() {
            return None;
        }
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            let (start, end) = match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let start = i + 1;
                    let len = bytes.get(start..)?.iter().position(|&b| b == q);
                    let end = len.map_or(bytes.len(), |len| start + len);
                    i = end + 1;
                    (start, end)
                }
                _ => {
                    let start = i;
                    while bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
                        i += 1;
                    }
                    (start, i)
                }
            };
            value = attrs.get(start..end)?;
        }
        if name.eq_ignore_ascii_case(wanted) {
            return Some(decode_entities(value.trim()).into_owned());
        }
    }
    None
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
        // A word at a time: only its first character can have a separator pending (a flush
        // per character was a tenth of an XML re-import).
        let mut rest = s;
        while !rest.is_empty() {
            let word_start = rest
                .find(|c: char| !c.is_whitespace())
                .unwrap_or(rest.len());
            if word_start > 0 {
                self.space = true;
            }
            let word = rest.get(word_start..).unwrap_or_default();
            let word_len = word.find(char::is_whitespace).unwrap_or(word.len());
            if word_len > 0 {
                self.flush();
                self.buf.push_str(word.get(..word_len).unwrap_or_default());
            }
            rest = word.get(word_len..).unwrap_or_default();
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
mod tests;
