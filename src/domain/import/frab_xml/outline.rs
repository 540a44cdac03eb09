//! The document's outline read as a stream (quick-xml): `<schedule>`, its `<day>`s and
//! `<room>`s as elements met one after another, and each `<conference>` or `<event>` handed
//! out as the slice of the file it spans, for roxmltree to build a small tree of. A tree of
//! the whole file was most of an XML import's peak memory: about 480 MB for 100,000 talks,
//! where one event's tree is a few kilobytes and is dropped once the talk is read.

use quick_xml::errors::{Error, IllFormedError, SyntaxError};
use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::QName;
use quick_xml::Reader;

use super::fields::shorten;
use super::guards;
use super::lexical::{is_name, leading_blank, namespace_problem, Lines};
use crate::domain::import::ImportError;

/// An element of the outline: its name (without a namespace prefix, as roxmltree gives it),
/// its attributes and where it starts.
pub(super) struct Element<'i> {
    pub(super) name: &'i str,
    /// With its prefix (`x:event`), as its end tag repeats it.
    qname: &'i str,
    /// Qualified names (`xmlns:x`, `name`) and values, entities resolved and whitespace
    /// normalised as XML prescribes.
    attributes: Vec<(String, String)>,
    /// Byte offset of its `<`.
    at: usize,
    pub(super) line: usize,
    /// `<room/>`: nothing inside, and no end tag to read.
    empty: bool,
}

impl Element<'_> {
    /// An attribute without a namespace prefix, as roxmltree's `Node::attribute` finds it.
    pub(super) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `<room/>`: nothing inside it.
    pub(super) fn is_empty(&self) -> bool {
        self.empty
    }

    /// The namespace prefixes it declares (`xmlns:x="..."`).
    pub(super) fn prefixes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attributes.iter().filter_map(|(key, value)| {
            key.strip_prefix("xmlns:")
                .map(|prefix| (prefix, value.as_str()))
        })
    }
}

/// An element's whole text, from its `<` to the end of its end tag, and the line it starts on.
#[derive(Clone, Copy)]
pub(super) struct Fragment<'i> {
    pub(super) text: &'i str,
    pub(super) line: usize,
    /// The file before it, for its column should an error need one.
    head: &'i str,
}

impl Fragment<'_> {
    /// The column (in characters, from 1) the fragment starts at on its first line.
    pub(super) fn column(&self) -> usize {
        self.head
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1
    }
}

/// A reader positioned inside some element, handing out its children one at a time.
pub(super) struct Outline<'i> {
    input: &'i str,
    reader: Reader<&'i [u8]>,
    lines: Lines<'i>,
    /// How many elements the outline is inside.
    depth: usize,
}

impl<'i> Outline<'i> {
    pub(super) fn new(input: &'i str) -> Self {
        let mut reader = Reader::from_str(input);
        let config = reader.config_mut();
        // Positions are taken before each event: text must stay an event of its own so that
        // the position before an element is its `<`. (quick-xml also skips a byte-order mark
        // without counting it, so `parse` removes any before the outline sees the file.)
        config.trim_text(false);
        config.check_comments = true;
        Self {
            input,
            reader,
            lines: Lines::new(input),
            depth: 0,
        }
    }

    /// The root element; the outline is then inside it (unless it is empty).
    pub(super) fn root(&mut self) -> Result<Element<'i>, ImportError> {
        match self.next_child()? {
            Some(root) => Ok(root),
            None => Err(ImportError::at_line(
                self.lines.at(self.input.len()),
                "malformed XML: the file holds no element",
            )),
        }
    }

    /// The next child element of the element the outline is in, or `None` at its end tag.
    /// The outline is then inside the child, unless it is empty: read its children with
    /// further calls, or step over it with [`Self::skip`] or [`Self::fragment`].
    pub(super) fn next_child(&mut self) -> Result<Option<Element<'i>>, ImportError> {
        loop {
            let at = self.position();
            match self.reader.read_event() {
                Ok(Event::Start(start)) => {
                    self.depth += 1;
                    return self.element(&start, at, false).map(Some);
                }
                Ok(Event::Empty(start)) => return self.element(&start, at, true).map(Some),
                Ok(Event::End(_)) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(None);
                }
                Ok(Event::Eof) if self.depth == 0 => return Ok(None),
                Ok(Event::Eof) => return Err(self.truncated()),
                Ok(Event::Text(text)) if self.depth == 0 => {
                    let blank = leading_blank(&text);
                    if blank < text.len() {
                        return Err(self.misplaced(at + blank, "text outside the root element"));
                    }
                }
                Ok(Event::CData(_) | Event::GeneralRef(_)) if self.depth == 0 => {
                    return Err(self.misplaced(at, "text outside the root element"));
                }
                Ok(Event::Decl(_)) if at > 0 => {
                    return Err(self.misplaced(at, "an XML declaration after the start"));
                }
                Ok(Event::DocType(_)) if self.depth > 0 => {
                    return Err(self.misplaced(at, "a DOCTYPE inside an element"));
                }
                Ok(Event::GeneralRef(reference)) => self.check_reference(&reference, at)?,
                Ok(_) => {}
                Err(error) => return Err(self.error(&error)),
            }
        }
    }

    /// What the outline reads between elements is not kept, but an entity there must still
    /// be one XML defines: `&nbsp;` means the file is HTML, or broken.
    fn check_reference(&mut self, reference: &BytesRef<'_>, at: usize) -> Result<(), ImportError> {
        let known = if reference.is_char_ref() {
            matches!(reference.resolve_char_ref(), Ok(Some(_)))
        } else {
            matches!(&**reference, "lt" | "gt" | "amp" | "apos" | "quot")
        };
        if known {
            return Ok(());
        }
        let name = shorten(reference);
        let what = if reference.is_char_ref() {
            format!("&{name}; is a character reference to no character")
        } else {
            format!("an unknown entity &{name};")
        };
        Err(self.misplaced(at, &what))
    }

    fn misplaced(&mut self, at: usize, what: &str) -> ImportError {
        ImportError::at_line(self.lines.at(at), format!("malformed XML: {what}"))
    }

    /// Steps over `element` and everything inside it.
    pub(super) fn skip(&mut self, element: &Element<'i>) -> Result<(), ImportError> {
        self.fragment(element).map(drop)
    }

    /// Steps over `element`, giving its text.
    pub(super) fn fragment(&mut self, element: &Element<'i>) -> Result<Fragment<'i>, ImportError> {
        if !element.empty {
            let name = QName(element.qname);
            if let Err(error) = self.reader.read_to_end(name) {
                return Err(self.error(&error));
            }
            self.depth = self.depth.saturating_sub(1);
        }
        let end = self.position();
        Ok(Fragment {
            text: self.input.get(element.at..end).unwrap_or_default(),
            line: element.line,
            head: self.input.get(..element.at).unwrap_or_default(),
        })
    }

    /// After the root's end tag: nothing but comments, processing instructions and
    /// whitespace may follow.
    pub(super) fn finish(&mut self) -> Result<(), ImportError> {
        loop {
            let at = self.position();
            match self.reader.read_event() {
                Ok(Event::Eof) => return Ok(()),
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(Event::Text(text)) if text.trim_ascii().is_empty() => {}
                Ok(event) => {
                    let blank = match &event {
                        Event::Text(text) => leading_blank(text),
                        _ => 0,
                    };
                    return Err(self
                        .misplaced(at + blank, "there is more after the root element's end tag"));
                }
                Err(error) => return Err(self.error(&error)),
            }
        }
    }

    fn position(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    fn element(
        &mut self,
        start: &BytesStart<'_>,
        at: usize,
        empty: bool,
    ) -> Result<Element<'i>, ImportError> {
        let line = self.lines.at(at);
        let qname_len = start.name().as_ref().len();
        let qname = self
            .input
            .get(at + 1..at + 1 + qname_len)
            .unwrap_or_default();
        let name = qname.rsplit_once(':').map_or(qname, |(_, local)| local);
        if qname.is_empty() {
            return Err(self.misplaced(at, "a `<` followed by no element name"));
        }
        if !is_name(qname) {
            let shown = shorten(qname);
            return Err(self.misplaced(at, &format!("<{shown}> is not an element name")));
        }
        let mut attributes = Vec::new();
        for attribute in start.attributes().with_checks(true) {
            let attribute = match attribute {
                Ok(attribute) => attribute,
                Err(error) => return Err(self.attribute_error(at, name, &error)),
            };
            let key = attribute.key.as_ref();
            let problem = if !is_name(key) {
                Some(format!("{:?} is not an attribute name", shorten(key)))
            } else if attribute.value.contains('<') {
                Some(format!("the value of {key} holds a `<`"))
            } else {
                namespace_problem(key, &attribute.value).map(str::to_owned)
            };
            let value = match problem {
                Some(problem) => Err(problem),
                None => attribute
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|_| {
                        format!(
                            "the value of {key} holds an unknown entity or a character \
                             reference to no character"
                        )
                    }),
            };
            match value {
                Ok(value) => attributes.push((key.to_owned(), value.into_owned())),
                Err(problem) => {
                    return Err(ImportError::at_line(
                        line,
                        format!("malformed XML: <{name}>: {problem}"),
                    ))
                }
            }
        }
        Ok(Element {
            name,
            qname,
            attributes,
            at,
            line,
            empty,
        })
    }

    /// quick-xml counts an attribute's position from the tag's name: placed in the file.
    fn attribute_error(&mut self, at: usize, name: &str, error: &AttrError) -> ImportError {
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

    fn error(&mut self, error: &Error) -> ImportError {
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
    fn truncated(&self) -> ImportError {
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

/// The outline of a file whose `<conference>` comes after its days (or is missing) is read
/// twice: once to find it, as every day needs the zone it names.
pub(super) fn conference(input: &str) -> Result<Option<Fragment<'_>>, ImportError> {
    let mut outline = Outline::new(input);
    let root = outline.root()?;
    if root.is_empty() {
        return Ok(None);
    }
    while let Some(child) = outline.next_child()? {
        if child.name == "conference" {
            return outline.fragment(&child).map(Some);
        }
        outline.skip(&child)?;
    }
    Ok(None)
}
