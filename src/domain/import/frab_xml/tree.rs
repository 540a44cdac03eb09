//! One element of the file (an `<event>`, the `<conference>`) as a roxmltree tree of its
//! own, and where its errors are in the whole file.

use roxmltree::{Document, Node, ParsingOptions};

use super::fields::shorten;
use super::outline::{Element, Fragment};
use crate::domain::import::ImportError;

/// The namespace prefixes declared around an event. Its fragment is parsed on its own, so a
/// prefix declared on `<schedule>`, `<day>` or `<room>` and used inside it must be declared
/// again around it. Each is kept as `prefix:` and its namespace.
#[derive(Clone, Default)]
pub(super) struct Prefixes(Vec<(String, String)>);

impl Prefixes {
    pub(super) fn of(element: &Element<'_>) -> Self {
        Self::default().with(element)
    }

    /// These and the ones `element` declares, which shadow them.
    pub(super) fn with(&self, element: &Element<'_>) -> Self {
        let mut all = self.0.clone();
        for (prefix, uri) in element.prefixes() {
            let used = format!("{prefix}:");
            all.retain(|(p, _)| *p != used);
            all.push((used, uri.to_owned()));
        }
        Self(all)
    }
}

/// Builds the tree of one element's fragment and reads it with `read`. Not well-formed XML
/// refuses the whole file, as it did when the whole file was one tree.
pub(super) fn with_tree<T>(
    fragment: Fragment<'_>,
    prefixes: &Prefixes,
    read: impl FnOnce(Tree<'_, '_>, Node<'_, '_>) -> T,
) -> Result<T, ImportError> {
    // Only a prefix the fragment may use: exports following the c3voc schema declare `xsi:`
    // on `<schedule>` for its schema attribute alone, and their events are parsed in place.
    let used: Vec<_> = prefixes
        .0
        .iter()
        .filter(|(prefix, _)| fragment.text.contains(prefix.as_str()))
        .collect();
    let wrapper = (!used.is_empty()).then(|| wrapper(&used));
    let wrapped;
    let text = match &wrapper {
        None => fragment.text,
        Some(open) => {
            wrapped = format!("{open}{}</wrap>", fragment.text);
            wrapped.as_str()
        }
    };
    // A DTD cannot be inside an element: the default options refuse one.
    let doc = Document::parse_with_options(text, ParsingOptions::default()).map_err(|e| {
        let before = wrapper.as_deref().map_or(0, |open| open.chars().count());
        placed(&e, fragment, before)
    })?;
    let root = doc.root_element();
    let node = match wrapper {
        None => Some(root),
        Some(_) => root.first_element_child(),
    };
    let node = node.ok_or_else(|| {
        ImportError::at_line(fragment.line, "malformed XML: the element is missing")
    })?;
    Ok(read(
        Tree {
            doc: &doc,
            first_line: fragment.line,
        },
        node,
    ))
}

/// The start tag of an element declaring `used` prefixes again, to parse a fragment inside.
/// It has no line break, so that the lines inside the fragment do not move.
fn wrapper(used: &[&(String, String)]) -> String {
    let mut open = String::from("<wrap");
    for (prefix, uri) in used {
        let uri = uri
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;");
        let name = prefix.trim_end_matches(':');
        open.push_str(&format!(" xmlns:{name}=\"{uri}\""));
    }
    open.push('>');
    open
}

/// roxmltree's error, its position in the parsed text (`before` characters of wrapper, then
/// the fragment) made the file's.
fn placed(error: &roxmltree::Error, fragment: Fragment<'_>, before: usize) -> ImportError {
    let (row, col) = (error.pos().row as usize, error.pos().col as usize);
    let line = fragment.line + row - 1;
    let column = if row == 1 {
        (col + fragment.column()).saturating_sub(before + 1)
    } else {
        col
    };
    // The last `r:c`: one earlier is text quoted from the file.
    let mut message = error.to_string();
    let position = format!("{row}:{col}");
    if let Some(at) = message.rfind(&position) {
        message.replace_range(at..at + position.len(), &format!("{line}:{column}"));
    }
    ImportError::at_line(line, format!("malformed XML: {message}"))
}

/// One fragment's tree, with what placing its errors in the file needs.
#[derive(Clone, Copy)]
pub(super) struct Tree<'a, 'input> {
    doc: &'a Document<'input>,
    /// The line of the file the fragment starts on.
    first_line: usize,
}

impl Tree<'_, '_> {
    fn line(&self, node: Node<'_, '_>) -> usize {
        self.first_line + self.doc.text_pos_at(node.range().start).row as usize - 1
    }

    /// An error at `node`: `line 14: <event id="1235">: missing <start>`.
    pub(super) fn error(&self, node: Node<'_, '_>, message: impl std::fmt::Display) -> ImportError {
        error_at(self.line(node), &node, message)
    }
}

/// An element as an organiser would find it in the file: its name and attributes.
pub(super) trait Named {
    fn name(&self) -> &str;
    fn attribute(&self, name: &str) -> Option<&str>;
}

impl Named for Node<'_, '_> {
    fn name(&self) -> &str {
        self.tag_name().name()
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        Node::attribute(self, name)
    }
}

impl Named for Element<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        Element::attribute(self, name)
    }
}

/// `line 14: <event id="1235">: missing <start>`.
pub(super) fn error_at(
    line: usize,
    element: &impl Named,
    message: impl std::fmt::Display,
) -> ImportError {
    ImportError::at_line(line, format!("{}: {message}", label(element)))
}

/// The element named by its identifying attribute.
fn label(element: &impl Named) -> String {
    let name = element.name();
    ["id", "guid", "index", "name", "date"]
        .iter()
        .find_map(|attr| {
            element
                .attribute(attr)
                .map(|value| format!("<{name} {attr}=\"{}\">", shorten(value)))
        })
        .unwrap_or_else(|| format!("<{name}>"))
}
