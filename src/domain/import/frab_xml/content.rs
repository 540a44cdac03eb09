//! What an element holds, read off the outline as it streams past: the fields of an
//! `<event>`, its speakers, and the text of any element.

use std::borrow::Cow;

use super::outline::{Content, Element, Outline};
use super::rich;
use crate::domain::import::ImportError;
use crate::domain::model::SpeakerData;
use crate::domain::text::clean_line;

/// An element's text, and the element for errors to name.
pub(super) type Field<'i> = (Element<'i>, Cow<'i, str>);

/// The fields an event is read from: the first child element of each name, later ones
/// stepped over.
#[derive(Default)]
pub(super) struct EventFields<'i> {
    pub(super) title: Option<Cow<'i, str>>,
    pub(super) subtitle: Option<Cow<'i, str>>,
    pub(super) status: Option<Cow<'i, str>>,
    pub(super) state: Option<Cow<'i, str>>,
    pub(super) date: Option<Cow<'i, str>>,
    pub(super) start: Option<Cow<'i, str>>,
    pub(super) duration: Option<Cow<'i, str>>,
    pub(super) talk_type: Option<Cow<'i, str>>,
    pub(super) track: Option<Cow<'i, str>>,
    pub(super) language: Option<Cow<'i, str>>,
    pub(super) room: Option<Cow<'i, str>>,
    pub(super) url: Option<Cow<'i, str>>,
    /// `Some` once met: the readable text, if there is any.
    pub(super) abstract_text: Option<Option<String>>,
    pub(super) description: Option<Option<String>>,
    pub(super) persons: Option<Vec<SpeakerData>>,
}

impl<'i> EventFields<'i> {
    /// Reads `event` up to its end tag.
    pub(super) fn read(
        outline: &mut Outline<'i>,
        event: &Element<'i>,
    ) -> Result<Self, ImportError> {
        let mut found = Self::default();
        while let Some(child) = outline.child_of(event)? {
            let slot = match child.name {
                "title" => &mut found.title,
                "subtitle" => &mut found.subtitle,
                "status" => &mut found.status,
                "state" => &mut found.state,
                "date" => &mut found.date,
                "start" => &mut found.start,
                "duration" => &mut found.duration,
                "type" => &mut found.talk_type,
                "track" => &mut found.track,
                "language" => &mut found.language,
                "room" => &mut found.room,
                "url" => &mut found.url,
                "abstract" if found.abstract_text.is_none() => {
                    found.abstract_text = Some(rich::read(outline, &child)?);
                    continue;
                }
                "description" if found.description.is_none() => {
                    found.description = Some(rich::read(outline, &child)?);
                    continue;
                }
                "persons" if found.persons.is_none() => {
                    found.persons = Some(persons(outline, &child)?);
                    continue;
                }
                _ => {
                    outline.skip(&child)?;
                    continue;
                }
            };
            if slot.is_some() {
                outline.skip(&child)?;
            } else {
                *slot = Some(text(outline, &child)?);
            }
        }
        Ok(found)
    }
}

/// The first child element of each of `names` in `element`, with its text, up to
/// `element`'s end tag.
pub(super) fn fields<'i, const N: usize>(
    outline: &mut Outline<'i>,
    element: &Element<'i>,
    names: [&str; N],
) -> Result<[Option<Field<'i>>; N], ImportError> {
    let mut found = [const { None }; N];
    while let Some(child) = outline.child_of(element)? {
        let slot = names
            .iter()
            .position(|name| *name == child.name)
            .and_then(|at| found.get_mut(at))
            .filter(|slot| slot.is_none());
        match slot {
            Some(slot) => {
                let text = text(outline, &child)?;
                *slot = Some((child, text));
            }
            None => outline.skip(&child)?,
        }
    }
    Ok(found)
}

/// All the text inside `element` (CDATA included), tags ignored, up to its end tag:
/// borrowed from the file when it is one piece, as nearly every field is.
pub(super) fn text<'i>(
    outline: &mut Outline<'i>,
    element: &Element<'i>,
) -> Result<Cow<'i, str>, ImportError> {
    let mut text = Cow::Borrowed("");
    if element.is_empty() {
        return Ok(text);
    }
    let mut depth = 0_usize;
    loop {
        match outline.next_content()? {
            Content::Text(piece) if text.is_empty() => text = piece.read(),
            Content::Text(piece) => text.to_mut().push_str(&piece.read()),
            Content::Element(inner) if !inner.is_empty() => depth += 1,
            Content::Element(_) => {}
            Content::End if depth == 0 => return Ok(text),
            Content::End => depth -= 1,
        }
    }
}

/// `<persons><person id="2">Name</person></persons>`, up to its end tag.
fn persons<'i>(
    outline: &mut Outline<'i>,
    list: &Element<'i>,
) -> Result<Vec<SpeakerData>, ImportError> {
    let mut speakers = Vec::new();
    while let Some(child) = outline.child_of(list)? {
        if child.name != "person" {
            outline.skip(&child)?;
            continue;
        }
        let name = text(outline, &child)?;
        if let Some(name) = clean_line(&name) {
            speakers.push(SpeakerData {
                source_id: child.attribute("id").and_then(clean_line).map(Into::into),
                name,
                biography: None,
            });
        }
    }
    // Grown as read, a list of one speaker has room for four, and talks are held until the
    // import is written. Shrunk where it lies, unlike schedule.json's persons
    // (`pretalx_json::wire::Speakers`): not looked at in the heap, but this format's peak did
    // not rise when the speaker shrank (BENCHMARKS.md).
    speakers.shrink_to_fit();
    Ok(speakers)
}

#[cfg(test)]
mod tests;
