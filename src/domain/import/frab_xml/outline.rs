//! The document read as a stream (quick-xml): elements and their text met one after another,
//! with the checks of XML's rules that quick-xml leaves to its caller. Nothing is built of the
//! whole file: a tree of it was most of an XML import's peak memory (about 480 MB for 100,000
//! talks), and a tree per `<event>` was a quarter of an import's time.

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::QName;
use quick_xml::Reader;

use super::fields::{shorten, shorten_escaped};
use super::lexical::{
    forbidden_char, is_name, is_xml_char, leading_blank, namespace_problem, Lines,
};
use crate::domain::import::ImportError;

mod errors;

/// An element met in the file: its name (the local part: `x:event` is an event), its
/// attributes and the line it starts on.
pub(super) struct Element<'i> {
    pub(super) name: &'i str,
    /// With its prefix (`x:event`), as its end tag repeats it.
    qname: &'i str,
    /// Qualified names (`xmlns:x`, `name`) and values, entities resolved and whitespace
    /// normalised as XML prescribes.
    attributes: Vec<(String, String)>,
    pub(super) line: usize,
    /// `<room/>`: nothing inside, and no end tag to read.
    empty: bool,
}

impl Element<'_> {
    /// An attribute without a namespace prefix.
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
}

/// What an element holds, met in order.
pub(super) enum Content<'i> {
    /// A child element.
    Element(Element<'i>),
    /// A piece of its text.
    Text(Text<'i>),
    /// Its end tag.
    End,
}

/// A piece of an element's text, already checked against XML's rules; [`Text::read`] gives
/// it as XML reads it. Text nobody keeps (the white space between elements) costs no copy.
pub(super) enum Text<'i> {
    /// Character data, or a CDATA section's content, as the file has it.
    Raw(&'i str),
    /// A character reference's character.
    Char(char),
    /// One of the five entities XML defines.
    Entity(&'static str),
}

impl<'i> Text<'i> {
    /// The text, line ends (`\r\n`, a lone `\r`) read as `\n`. A character reference is
    /// taken as it is: `&#13;` stays a carriage return.
    pub(super) fn read(self) -> Cow<'i, str> {
        match self {
            Self::Raw(text) if text.contains('\r') => {
                Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
            }
            Self::Raw(text) => Cow::Borrowed(text),
            Self::Char(c) => Cow::Owned(c.to_string()),
            Self::Entity(text) => Cow::Borrowed(text),
        }
    }
}

/// How deeply the elements the reader reads may nest. A schedule with HTML abstracts needs
/// about 20 levels; hostile nesting is refused outright, so that no reader of the file (and
/// no recursive one added later) meets it. (Each event was once a tree parsed recursively,
/// and thousands of nested elements overflowed the stack.) What is skipped unread is not
/// counted: quick-xml steps over it without recursion.
const MAX_DEPTH: usize = 128;

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
        Self::within(input, 1, 0)
    }

    /// The outline of a piece of a file that starts on line `first_line`, inside `depth`
    /// elements opened before it (as a day's text is inside the root).
    pub(super) fn within(input: &'i str, first_line: usize, depth: usize) -> Self {
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
            lines: Lines::new(input, first_line),
            depth,
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
    /// further calls, or step over it with [`Self::skip`].
    pub(super) fn next_child(&mut self) -> Result<Option<Element<'i>>, ImportError> {
        loop {
            match self.next_content()? {
                Content::Element(child) => return Ok(Some(child)),
                Content::End => return Ok(None),
                Content::Text(_) => {}
            }
        }
    }

    /// The next child element of `parent`, which the outline is inside: `None` at its end
    /// tag, and at once for an empty element.
    pub(super) fn child_of(
        &mut self,
        parent: &Element<'i>,
    ) -> Result<Option<Element<'i>>, ImportError> {
        if parent.is_empty() {
            return Ok(None);
        }
        self.next_child()
    }

    /// What comes next inside the element the outline is in: a child element (the outline is
    /// then inside it, unless it is empty), a piece of its text, or its end.
    pub(super) fn next_content(&mut self) -> Result<Content<'i>, ImportError> {
        loop {
            let at = self.position();
            match self.reader.read_event() {
                Ok(Event::Start(start)) => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(ImportError::at_line(
                            self.lines.at(at),
                            format!(
                                "elements are nested more than {MAX_DEPTH} levels deep; a \
                                 schedule needs far fewer"
                            ),
                        ));
                    }
                    return self.element(&start, at, false).map(Content::Element);
                }
                Ok(Event::Empty(start)) => {
                    return self.element(&start, at, true).map(Content::Element)
                }
                Ok(Event::End(_)) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Content::End);
                }
                Ok(Event::Eof) if self.depth == 0 => return Ok(Content::End),
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
                Ok(Event::Text(_)) => {
                    let end = self.position();
                    let text = self.checked(at, end, "the text")?;
                    if let Some(inside) = text.find("]]>") {
                        return Err(self.misplaced(
                            at + inside,
                            "`]]>` in text, where XML allows it only to end a CDATA section",
                        ));
                    }
                    return Ok(Content::Text(Text::Raw(text)));
                }
                Ok(Event::CData(_)) => {
                    // `<![CDATA[` and `]]>` around it.
                    let end = self.position().saturating_sub(3);
                    let text = self.checked(at + 9, end, "the text")?;
                    return Ok(Content::Text(Text::Raw(text)));
                }
                Ok(Event::Comment(_)) => {
                    let end = self.position();
                    self.checked(at, end, "a comment")?;
                }
                Ok(Event::PI(_)) => {
                    let end = self.position();
                    self.checked(at, end, "a processing instruction")?;
                }
                Ok(Event::Decl(_)) if at > 0 => {
                    return Err(self.misplaced(at, "an XML declaration after the start"));
                }
                Ok(Event::DocType(_)) if self.depth > 0 => {
                    return Err(self.misplaced(at, "a DOCTYPE inside an element"));
                }
                Ok(Event::GeneralRef(reference)) => {
                    return self.reference(&reference, at).map(Content::Text)
                }
                Ok(_) => {}
                Err(error) => return Err(self.error(&error)),
            }
        }
    }

    /// The file from `from` to `to`, refused if it holds a character XML forbids (a C0
    /// control other than tab and line breaks, U+FFFE, U+FFFF): `what` names what it is.
    fn checked(&mut self, from: usize, to: usize, what: &str) -> Result<&'i str, ImportError> {
        let input = self.input;
        let text = input.get(from..to).unwrap_or_default();
        match forbidden_char(text) {
            Some((at, c)) => Err(self.misplaced(
                from + at,
                &format!(
                    "{what} holds U+{:04X}, a character XML does not allow",
                    u32::from(c)
                ),
            )),
            None => Ok(text),
        }
    }

    /// The text a reference stands for: a character reference's character, or one of the
    /// five entities XML defines. Any other (`&nbsp;`) means the file is HTML, or broken.
    fn reference(&mut self, reference: &BytesRef<'_>, at: usize) -> Result<Text<'i>, ImportError> {
        let resolved = if reference.is_char_ref() {
            match reference.resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => Some(Text::Char(c)),
                _ => None,
            }
        } else {
            let entity = match &**reference {
                "lt" => Some("<"),
                "gt" => Some(">"),
                "amp" => Some("&"),
                "apos" => Some("'"),
                "quot" => Some("\""),
                _ => None,
            };
            entity.map(Text::Entity)
        };
        if let Some(text) = resolved {
            return Ok(text);
        }
        let name = shorten(reference);
        let what = if reference.is_char_ref() {
            format!("&{name}; is a character reference to no character XML allows")
        } else {
            format!("an unknown entity &{name};")
        };
        Err(self.misplaced(at, &what))
    }

    /// Steps over `element` and everything inside it.
    pub(super) fn skip(&mut self, element: &Element<'i>) -> Result<(), ImportError> {
        if !element.empty {
            let name = QName(element.qname);
            if let Err(error) = self.reader.read_to_end(name) {
                return Err(self.error(&error));
            }
            self.depth = self.depth.saturating_sub(1);
        }
        Ok(())
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
            let shown = shorten_escaped(qname);
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
                             reference to no character XML allows"
                        )
                    })
                    .and_then(|value| match forbidden_char(&value) {
                        Some((_, c)) => Err(format!(
                            "the value of {key} holds U+{:04X}, a character XML does not allow",
                            u32::from(c)
                        )),
                        None => Ok(value),
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
            line,
            empty,
        })
    }
}
