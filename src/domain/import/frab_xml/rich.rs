//! Free-text elements (abstracts, descriptions) as readable text. An abstract holds HTML either
//! as child elements (`<abstract><p>..</p></abstract>`) or as escaped text (`&lt;p&gt;..`):
//! elements are read off the tree the XML parser already built, escaped text goes through
//! [`crate::domain::html::html_to_text`].

use roxmltree::Node;

use super::fields;
use super::nodes::text_of;
use crate::domain::html::{is_raw_text, Renderer};

pub(super) fn rich_element(node: Node<'_, '_>) -> Option<String> {
    if node.children().any(|c| c.is_element()) {
        // Already cleaned: the renderer's output is.
        Some(element_text(node)).filter(|text| !text.is_empty())
    } else {
        fields::rich_text(&text_of(node))
    }
}

/// The text of an element's content. Walking the tree, instead of writing the content out
/// as HTML for `html_to_text` to parse again, was a fifth of an XML import. Iterative (a stack
/// of open elements), so deeply nested input cannot exhaust the call stack.
fn element_text(node: Node<'_, '_>) -> String {
    let mut out = Renderer::default();
    let mut open: Vec<Open<'_, '_>> = Vec::new();
    // A script or style element, whose whole content is dropped.
    let mut dropped: Option<Node<'_, '_>> = None;
    for descendant in node.descendants().skip(1) {
        if let Some(raw) = dropped {
            if descendant.ancestors().any(|a| a == raw) {
                continue;
            }
            dropped = None;
        }
        while let Some(top) = open.last() {
            if descendant.parent() == Some(top.node) {
                break;
            }
            top.close(&mut out);
            open.pop();
        }
        if descendant.is_element() {
            let element = Open::new(descendant);
            if element.plain && is_raw_text(tag_part(&element.name)) {
                dropped = Some(descendant);
                continue;
            }
            element.start(&mut out);
            open.push(element);
        } else if let Some(text) = descendant.text().filter(|_| descendant.is_text()) {
            out.text(text);
        }
    }
    while let Some(top) = open.pop() {
        top.close(&mut out);
    }
    out.finish()
}

/// An element whose end tag is still to come.
struct Open<'a, 'input> {
    node: Node<'a, 'input>,
    /// Lower case, as HTML names compare.
    name: String,
    /// Whether HTML would read the name as a tag at all: one starting with anything but an
    /// ASCII letter (`<_x>`) is text there, and stays text here.
    plain: bool,
}

impl<'a, 'input> Open<'a, 'input> {
    fn new(node: Node<'a, 'input>) -> Self {
        let name = node.tag_name().name();
        Self {
            node,
            plain: name.starts_with(|c: char| c.is_ascii_alphabetic()),
            name: name.to_ascii_lowercase(),
        }
    }

    fn href(&self) -> Option<&'a str> {
        self.node.attribute("href").map(str::trim)
    }

    fn start(&self, out: &mut Renderer) {
        if !self.plain {
            let name = self.node.tag_name().name();
            match self.node.attribute("href") {
                Some(href) => out.text(&format!("<{name} href=\"{href}\">")),
                None => out.text(&format!("<{name}>")),
            }
            return;
        }
        // Only the letters and digits of a name make the tag (`<my-list>` is `my`).
        let name = tag_part(&self.name);
        out.tag(name, false, self.href().filter(|_| name == "a"));
    }

    fn close(&self, out: &mut Renderer) {
        if self.plain {
            out.tag(tag_part(&self.name), true, None);
        } else {
            out.text(&format!("</{}>", self.node.tag_name().name()));
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
