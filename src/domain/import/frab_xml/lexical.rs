//! XML's lexical rules the outline checks itself (quick-xml leaves them to its caller), and
//! line numbers for its positions.

/// An XML name with at most one namespace prefix (`<1x>`, `name:=`, `a%b` and `d<ate` are
/// not names). XML's name characters, with non-ASCII letters and marks taken as letters.
pub(super) fn is_name(name: &str) -> bool {
    let letter = |c: char| c.is_alphabetic() || c == '_' || (!c.is_ascii() && !c.is_whitespace());
    let mut chars = name.chars();
    chars.next().is_some_and(letter)
        && chars.all(|c| letter(c) || c.is_ascii_digit() || matches!(c, '-' | '.' | ':'))
        && !name.ends_with(':')
        && name.matches(':').count() <= 1
}

/// The two namespaces XML reserves: `xml:` is bound to its own, and nothing else is bound to
/// either: XML's namespace rules, checked on every element read.
pub(super) fn namespace_problem(key: &str, value: &str) -> Option<&'static str> {
    const XML: &str = "http://www.w3.org/XML/1998/namespace";
    const XMLNS: &str = "http://www.w3.org/2000/xmlns/";
    match key {
        "xmlns:xmlns" => Some("the prefix xmlns cannot be declared"),
        "xmlns:xml" if value != XML => Some("the prefix xml is bound to the wrong namespace"),
        "xmlns:xml" => None,
        _ if (key == "xmlns" || key.starts_with("xmlns:")) && (value == XML || value == XMLNS) => {
            Some("XML's reserved namespaces cannot be bound to another prefix")
        }
        _ => None,
    }
}

/// A character XML 1.0 allows in a document: not a C0 control other than tab and line breaks,
/// nor U+FFFE or U+FFFF (a `str` holds no surrogates).
pub(super) fn is_xml_char(c: char) -> bool {
    (c >= ' ' || matches!(c, '\t' | '\n' | '\r')) && !matches!(c, '\u{fffe}' | '\u{ffff}')
}

/// The first character of `text` XML does not allow, and its byte offset. One pass over the
/// bytes: only C0 controls and the lead byte of U+F000..U+FFFF need a closer look.
pub(super) fn forbidden_char(text: &str) -> Option<(usize, char)> {
    let mut from = 0;
    loop {
        let rest = text.as_bytes().get(from..)?;
        let at = from
            + rest
                .iter()
                .position(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF)?;
        let c = text.get(at..)?.chars().next()?;
        if !is_xml_char(c) {
            return Some((at, c));
        }
        from = at + 1;
    }
}

/// How many bytes of whitespace start `text`.
pub(super) fn leading_blank(text: &str) -> usize {
    text.len() - text.trim_ascii_start().len()
}

/// Line numbers of positions met in document order, counted onwards from the last one:
/// each position costs only the text since the previous one.
pub(super) struct Lines<'a> {
    input: &'a str,
    /// The line `input` starts on: a piece of a file may start further on.
    first: usize,
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    /// Lines of `input`, which starts on line `first`.
    pub(super) fn new(input: &'a str, first: usize) -> Self {
        Self {
            input,
            first,
            at: 0,
            line: first,
        }
    }

    pub(super) fn at(&mut self, position: usize) -> usize {
        if position < self.at {
            *self = Self::new(self.input, self.first);
        }
        let between = self.input.get(self.at..position).unwrap_or_default();
        self.line += between.bytes().filter(|&b| b == b'\n').count();
        self.at = position;
        self.line
    }
}
