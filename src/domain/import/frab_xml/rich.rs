//! Free-text elements (abstracts, descriptions) as readable text. An abstract holds HTML either
//! as child elements (`<abstract><p>..</p></abstract>`) or as escaped text (`&lt;p&gt;..`):
//! elements are rendered as the reader meets them, escaped text goes through
//! [`crate::domain::html::html_to_text`].

use std::borrow::Cow;

use super::fields;
use super::outline::{Content, Element, Outline};
use crate::domain::html::{is_raw_text, Renderer};
use crate::domain::import::ImportError;

/// The readable text of `element`, read up to its end tag.
pub(super) fn read<'i>(
    outline: &mut Outline<'i>,
    element: &Element<'i>,
) -> Result<Option<String>, ImportError> {
    // Text until the first child element: with none, the element is plain (or escaped) text.
    let mut plain = Cow::Borrowed("");
    let mut out: Option<Renderer> = None;
    let mut open: Vec<Open<'i>> = Vec::new();
    if !element.is_empty() {
        loop {
            match outline.next_content()? {
                Content::Text(piece) => match &mut out {
                    Some(out) => out.text(&piece.read()),
                    None if plain.is_empty() => plain = piece.read(),
                    None => plain.to_mut().push_str(&piece.read()),
                },
                Content::Element(child) => {
                    let out = out.get_or_insert_with(|| {
                        let mut out = Renderer::default();
                        out.text(&plain);
                        out
                    });
                    let child = Open::new(child);
                    if child.plain && is_raw_text(tag_part(&child.name)) {
                        // A script or style element: its whole content is dropped.
                        outline.skip(&child.element)?;
                        continue;
                    }
                    child.start(out);
                    if child.element.is_empty() {
                        child.close(out);
                    } else {
                        open.push(child);
                    }
                }
                Content::End => match (open.pop(), &mut out) {
                    (Some(top), Some(out)) => top.close(out),
                    _ => break,
                },
            }
        }
    }
    Ok(match out {
        // Already cleaned: the renderer's output is.
        Some(out) => Some(out.finish()).filter(|text| !text.is_empty()),
        None => fields::rich_text(&plain),
    })
}

/// An element whose end tag is still to come.
struct Open<'i> {
    element: Element<'i>,
    /// Lower case, as HTML names compare.
    name: String,
    /// Whether HTML would read the name as a tag at all: one starting with anything but an
    /// ASCII letter (`<_x>`) is text there, and stays text here.
    plain: bool,
}

impl<'i> Open<'i> {
    fn new(element: Element<'i>) -> Self {
        Self {
            plain: element.name.starts_with(|c: char| c.is_ascii_alphabetic()),
            name: element.name.to_ascii_lowercase(),
            element,
        }
    }

    fn start(&self, out: &mut Renderer) {
        let href = self.element.attribute("href");
        if !self.plain {
            let name = self.element.name;
            match href {
                Some(href) => out.text(&format!("<{name} href=\"{href}\">")),
                None => out.text(&format!("<{name}>")),
            }
            return;
        }
        // Only the letters and digits of a name make the tag (`<my-list>` is `my`).
        let name = tag_part(&self.name);
        out.tag(name, false, href.map(str::trim).filter(|_| name == "a"));
    }

    fn close(&self, out: &mut Renderer) {
        if self.plain {
            out.tag(tag_part(&self.name), true, None);
        } else {
            out.text(&format!("</{}>", self.element.name));
        }
    }
}

/// The leading letters and digits of a tag name, which are what HTML reads as the name.
fn tag_part(name: &str) -> &str {
    let end = name
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name.len());
    name.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests;
