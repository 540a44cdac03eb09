//! The schedule.json as it is written: typed, tolerant of unknown fields, absent fields and
//! `null`s, so real exports parse and a malformed one fails with serde's line and column.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::de::{Error, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::fields;
use crate::domain::model::SpeakerData;
use crate::domain::text::clean_line;

/// Reads `null` as the type's default (an empty list), as `#[serde(default)]` only covers
/// absent fields.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Free text (an abstract, a description, a biography) as readable text, converted as it is
/// read: a decoded string is dropped at once instead of living beside the talk made from it
/// (every multi-paragraph abstract has escapes to decode: 140 MB for 100,000 talks).
fn rich<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Box<str>>, D::Error> {
    let text: Option<Text<'de>> = Option::deserialize(deserializer)?;
    Ok(text.as_deref().and_then(fields::rich_text).map(Into::into))
}

/// A talk's persons as speakers, read as they come.
fn speakers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<SpeakerData>, D::Error> {
    Ok(Option::<Speakers>::deserialize(deserializer)?.map_or_else(Vec::new, |s| s.0))
}

/// The speakers of a talk in a new list of exactly their number. Talks are held until the
/// import is written, so neither a list grown as read (room for four) nor one shrunk where it
/// lies is kept: with the 56-byte speaker, shrinking every talk's list in place left some
/// 23,000 free blocks of 464 bytes among the talks' texts (11 MB; BENCHMARKS.md).
struct Speakers(Vec<SpeakerData>);

impl<'de> Deserialize<'de> for Speakers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpeakersVisitor;

        impl<'de> Visitor<'de> for SpeakersVisitor {
            type Value = Speakers;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut read = Vec::new();
                while let Some(person) = seq.next_element::<Person<'de>>()? {
                    read.extend(person.speaker());
                }
                let mut speakers = Vec::with_capacity(read.len());
                speakers.append(&mut read);
                Ok(Speakers(speakers))
            }
        }

        deserializer.deserialize_seq(SpeakersVisitor)
    }
}

/// A string as the file holds it, borrowed unless it had escapes to decode: a 100,000-talk
/// schedule.json otherwise held a copy of nearly all of its text besides the file itself.
/// (serde's own `Cow<str>` always copies inside an `Option`.)
#[derive(Debug, PartialEq)]
pub(super) struct Text<'a>(Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(text: &'a str) -> Self {
        Self(Cow::Borrowed(text))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

#[derive(Deserialize)]
#[serde(expecting = "a pretalx/frab schedule object")]
pub(super) struct Root<'a> {
    #[serde(borrow)]
    pub(super) schedule: Option<ScheduleJson<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a schedule object")]
pub(super) struct ScheduleJson<'a> {
    #[serde(borrow)]
    pub(super) conference: Option<Conference<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a conference object")]
pub(super) struct Conference<'a> {
    #[serde(borrow)]
    pub(super) acronym: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) title: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) time_zone_name: Option<Text<'a>>,
    #[serde(borrow, default, deserialize_with = "null_default")]
    pub(super) rooms: Vec<RoomInfo<'a>>,
    #[serde(borrow, default, deserialize_with = "null_default")]
    pub(super) days: Vec<Day<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a room object")]
pub(super) struct RoomInfo<'a> {
    #[serde(borrow)]
    pub(super) name: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) description: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a day object")]
pub(super) struct Day<'a> {
    #[serde(borrow)]
    pub(super) date: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) day_start: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) day_end: Option<Text<'a>>,
    #[serde(borrow, default, deserialize_with = "null_default")]
    pub(super) rooms: BTreeMap<String, Option<Vec<Talk<'a>>>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a talk object")]
pub(super) struct Talk<'a> {
    #[serde(borrow)]
    pub(super) guid: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub(super) code: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub(super) id: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub(super) date: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) start: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) duration: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) room: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) title: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) subtitle: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) track: Option<Text<'a>>,
    #[serde(borrow, rename = "type")]
    pub(super) talk_type: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) language: Option<Text<'a>>,
    #[serde(rename = "abstract", default, deserialize_with = "rich")]
    pub(super) abstract_text: Option<Box<str>>,
    #[serde(default, deserialize_with = "rich")]
    pub(super) description: Option<Box<str>>,
    #[serde(borrow)]
    pub(super) url: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) status: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) state: Option<Text<'a>>,
    #[serde(default, deserialize_with = "speakers")]
    pub(super) persons: Vec<SpeakerData>,
}

#[derive(Deserialize)]
#[serde(expecting = "a person object")]
pub(super) struct Person<'a> {
    #[serde(borrow)]
    pub(super) code: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub(super) id: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub(super) public_name: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) name: Option<Text<'a>>,
    #[serde(borrow)]
    pub(super) full_name: Option<Text<'a>>,
    #[serde(default, deserialize_with = "rich")]
    pub(super) biography: Option<Box<str>>,
}

impl Person<'_> {
    fn speaker(self) -> Option<SpeakerData> {
        let name = [&self.public_name, &self.name, &self.full_name]
            .into_iter()
            .find_map(|v| v.as_deref().and_then(clean_line))?;
        Some(SpeakerData {
            source_id: [&self.code, &self.id]
                .into_iter()
                .find_map(|v| v.as_ref().and_then(Scalar::text))
                .map(Into::into),
            name,
            biography: self.biography.map(Arc::from),
        })
    }
}

/// An identifier written as a string or a number (`"id": 1234`, `"code": "GK99DE"`).
#[derive(Deserialize)]
#[serde(untagged, expecting = "a string or a number")]
pub(super) enum Scalar<'a> {
    #[serde(borrow)]
    Text(Text<'a>),
    Number(serde_json::Number),
}

impl Scalar<'_> {
    pub(super) fn text(&self) -> Option<String> {
        match self {
            Self::Text(s) => clean_line(s),
            Self::Number(n) => Some(n.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn borrowed(text: &Option<Text<'_>>) -> bool {
        matches!(text, Some(Text(Cow::Borrowed(_))))
    }

    #[test]
    fn strings_without_escapes_borrow_the_input_and_escaped_ones_are_decoded() {
        let input = r#"{"guid": "a1", "code": 7, "title": "Plain", "description": "Two\nlines",
            "room": "Caf\u00e9", "persons": [{"public_name": "Ada", "biography": "Says \"hi\""}]}"#;

        let talk: Talk<'_> = serde_json::from_str(input).expect("parses");

        assert!(borrowed(&talk.title));
        assert_eq!(talk.title.as_deref(), Some("Plain"));
        assert!(!borrowed(&talk.room));
        assert_eq!(talk.room.as_deref(), Some("Café"));
        assert!(matches!(
            &talk.guid,
            Some(Scalar::Text(Text(Cow::Borrowed("a1"))))
        ));
        assert_eq!(
            talk.code.as_ref().and_then(Scalar::text).as_deref(),
            Some("7")
        );
        let person: Person<'_> =
            serde_json::from_str(r#"{"public_name": "Ada", "name": "A\u0064a"}"#).expect("parses");
        assert!(borrowed(&person.public_name));
        assert!(!borrowed(&person.name));
        assert_eq!(person.name.as_deref(), Some("Ada"));
    }

    #[test]
    fn free_text_and_persons_are_converted_as_they_are_read() {
        let input = r#"{"abstract": "  First\n\n\n  Second  ",
            "description": "<p>One &amp; <b>two</b></p>", "persons": [
            {"public_name": "Ada", "code": "A1", "biography": "Says \"hi\"\n\nTwice."},
            {"biography": "nameless"}, {"name": " Grace ", "id": 7, "biography": null}]}"#;

        let talk: Talk<'_> = serde_json::from_str(input).expect("parses");

        assert_eq!(talk.abstract_text.as_deref(), Some("First\n\nSecond"));
        assert_eq!(talk.description.as_deref(), Some("One & two"));
        let speakers: Vec<_> = talk
            .persons
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.source_id.as_deref(),
                    s.biography.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            speakers,
            [
                ("Ada", Some("A1"), Some("Says \"hi\"\n\nTwice.")),
                ("Grace", Some("7"), None),
            ]
        );
        // Held until the import is written: no room for more than were read. (A list shrunk
        // where it lies would pass this too; which block it is in shows only in the heap.)
        assert_eq!(talk.persons.capacity(), 2);
        let empty: Talk<'_> =
            serde_json::from_str(r#"{"abstract": null, "persons": null}"#).expect("parses");
        assert!(empty.abstract_text.is_none() && empty.description.is_none());
        assert!(empty.persons.is_empty());
    }

    #[test]
    fn persons_that_are_not_a_list_or_not_objects_are_refused_as_before() {
        let error = serde_json::from_str::<Talk<'_>>(r#"{"persons": {"name": "Ada"}}"#)
            .err()
            .expect("an object is no list of persons");

        assert!(
            error
                .to_string()
                .starts_with("invalid type: map, expected a sequence"),
            "{error}"
        );
        let error = serde_json::from_str::<Talk<'_>>(r#"{"persons": ["Ada"]}"#)
            .err()
            .expect("a string is no person");
        assert!(
            error
                .to_string()
                .starts_with("invalid type: string \"Ada\", expected a person object"),
            "{error}"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_as_before() {
        let error = serde_json::from_str::<Talk<'_>>(r#"{"title": 5}"#)
            .err()
            .expect("a number is no title");

        assert!(
            error
                .to_string()
                .starts_with("invalid type: integer `5`, expected a string"),
            "{error}"
        );
    }
}
