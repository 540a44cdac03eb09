//! HTML fragments (frab/pentabarf/pretalx abstracts) turned into readable plain text.
//!
//! Hand-written rather than a full HTML parser: the inputs are short abstracts, and all we
//! need is their line structure, link targets and decoded entities. Nothing here panics on
//! any input: every slice boundary is the position of an ASCII byte found by searching, which
//! is always a UTF-8 character boundary.

mod entities;
mod render;

pub(crate) use entities::decode_entities;
use entities::entity_at;
pub(crate) use render::{is_raw_text, Renderer};

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
    let mut out = Renderer::default();
    let mut pos = 0;
    while pos < html.len() {
        let rest = html.get(pos..).unwrap_or_default();
        let Some(rel) = rest.find('<') else {
            out.text(&decode_entities(rest));
            break;
        };
        let lt = pos + rel;
        out.text(&decode_entities(html.get(pos..lt).unwrap_or_default()));
        pos = markup(html, &lower, lt, &mut out);
    }
    out.finish()
}

/// Handles the markup starting at `lt` (a `<`) and returns where text resumes.
fn markup(html: &str, lower: &str, lt: usize, out: &mut Renderer) -> usize {
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
    if !tag.closing && is_raw_text(&tag.name) {
        // Raw text: everything up to the matching end tag goes, even if it looks like markup.
        let close = format!("</{}", tag.name);
        let end_tag = lower.get(tag.end..).and_then(|s| s.find(&close));
        return end_tag.map_or(html.len(), |i| find_after(">", tag.end + i));
    }
    let href = (tag.name == "a" && !tag.closing).then(|| attribute(tag.attrs, "href"));
    out.tag(&tag.name, tag.closing, href.flatten().as_deref());
    tag.end
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

#[cfg(test)]
mod tests;
