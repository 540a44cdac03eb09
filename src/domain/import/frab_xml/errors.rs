//! Errors that name the element they are about, as an organiser would find it in the file.

use super::fields::shorten;
use super::outline::Element;
use crate::domain::import::ImportError;

/// An error about `element`, at its line: `line 14: <event id="1235">: missing <start>`.
pub(super) fn error_in(element: &Element<'_>, message: impl std::fmt::Display) -> ImportError {
    ImportError::at_line(element.line, format!("{}: {message}", label(element)))
}

/// The element named by its identifying attribute.
fn label(element: &Element<'_>) -> String {
    let name = element.name;
    ["id", "guid", "index", "name", "date"]
        .iter()
        .find_map(|attr| {
            element
                .attribute(attr)
                .map(|value| format!("<{name} {attr}=\"{}\">", shorten(value)))
        })
        .unwrap_or_else(|| format!("<{name}>"))
}
