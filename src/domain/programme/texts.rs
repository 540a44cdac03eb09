//! The long texts of a snapshot's talks (abstracts, descriptions, speakers' biographies)
//! and the fields no command reads (source ids, submission type, language), kept out of the
//! talks in a compact form.
//!
//! The long texts are most of a snapshot's bytes, a command shows at most one of them, and
//! a snapshot stays resident for as long as the bot runs; the unread fields cost a malloc
//! chunk each per talk. So each distinct text is stored once (a speaker's biography comes
//! with every talk they give, most talks say "Talk" and "en") and as token ids against one
//! shared dictionary: a text is split into runs of letters and digits and runs of everything else,
//! the runs are numbered by frequency (the common ones take one byte) and a text becomes
//! the varint ids of its runs. Joining the runs gives back the exact text.

use std::collections::HashMap;

use crate::domain::compact::{next_varint, push_varint, Lists, StrList};
use crate::domain::model::StoredTalk;

/// The texts taken out of a programme's talks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Texts {
    /// Every distinct run, the most frequent first.
    tokens: StrList,
    /// Text id -> its runs' ids as varints: `coded[ends[id - 1]..ends[id]]`.
    coded: Box<[u8]>,
    ends: Box<[u32]>,
    /// Per talk: text id + 1 of each field, 0 for none.
    abstracts: Box<[u32]>,
    descriptions: Box<[u32]>,
    source_ids: Box<[u32]>,
    talk_types: Box<[u32]>,
    languages: Box<[u32]>,
    /// Per talk, per speaker (in the talk's order): text id + 1 of the biography and of the
    /// source id, 0 for none.
    biographies: Lists,
    speaker_ids: Lists,
}

/// What [`Texts::take`] puts back into a talk.
pub(super) struct Taken {
    pub(super) abstract_text: Option<String>,
    pub(super) description: Option<String>,
    pub(super) source_id: Option<String>,
    pub(super) talk_type: Option<String>,
    pub(super) language: Option<String>,
    /// Per speaker: biography and source id.
    pub(super) speakers: Vec<(Option<String>, Option<String>)>,
}

impl Texts {
    /// Moves the abstracts, descriptions, source ids, submission types, languages and the
    /// speakers' biographies and source ids out of `talks` (leaving `None`).
    pub(super) fn take(talks: &mut [StoredTalk]) -> Self {
        let mut distinct: Vec<String> = Vec::new();
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut intern = |text: Option<String>| -> u32 {
            let Some(text) = text else { return 0 };
            if let Some(&id) = ids.get(&text) {
                return id + 1;
            }
            let id = u32::try_from(distinct.len()).unwrap_or(u32::MAX);
            distinct.push(text.clone());
            ids.insert(text, id);
            id + 1
        };
        let n = talks.len();
        let (mut abstracts, mut descriptions) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut source_ids, mut talk_types) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut languages = Vec::with_capacity(n);
        let mut biographies: Vec<(u32, u32)> = Vec::new();
        let mut speaker_ids: Vec<(u32, u32)> = Vec::new();
        for (index, talk) in talks.iter_mut().enumerate() {
            let d = &mut talk.data;
            abstracts.push(intern(d.abstract_text.take().map(String::from)));
            descriptions.push(intern(d.description.take().map(String::from)));
            source_ids.push(intern(d.source_id.take().map(String::from)));
            // Shared labels (`SharedTexts`) are copied into the one buffer like the rest.
            talk_types.push(intern(d.talk_type.take().map(|text| String::from(&*text))));
            languages.push(intern(d.language.take().map(|text| String::from(&*text))));
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for speaker in &mut d.speakers {
                let biography = speaker.biography.take().map(|text| String::from(&*text));
                biographies.push((index, intern(biography)));
                speaker_ids.push((index, intern(speaker.source_id.take().map(String::from))));
            }
        }
        drop(ids);
        let (tokens, coded, ends) = code(&distinct);
        Self {
            tokens,
            coded,
            ends,
            abstracts: abstracts.into_boxed_slice(),
            descriptions: descriptions.into_boxed_slice(),
            source_ids: source_ids.into_boxed_slice(),
            talk_types: talk_types.into_boxed_slice(),
            languages: languages.into_boxed_slice(),
            biographies: Lists::from_grouped(&biographies, n),
            speaker_ids: Lists::from_grouped(&speaker_ids, n),
        }
    }

    /// The abstract of the talk at `talk`.
    pub(super) fn abstract_text(&self, talk: usize) -> Option<String> {
        self.text(self.abstracts.get(talk).copied())
    }

    /// The description of the talk at `talk`.
    pub(super) fn description(&self, talk: usize) -> Option<String> {
        self.text(self.descriptions.get(talk).copied())
    }

    /// The biography the talk at `talk` gives its speaker at `speaker`.
    pub(super) fn biography(&self, talk: usize, speaker: usize) -> Option<String> {
        self.text(self.biographies.get(talk).get(speaker).copied())
    }

    /// Everything taken out of the talk at `talk`.
    pub(super) fn taken(&self, talk: usize) -> Taken {
        let field = |ids: &[u32]| self.text(ids.get(talk).copied());
        let bios = self.biographies.get(talk);
        let ids = self.speaker_ids.get(talk);
        Taken {
            abstract_text: field(&self.abstracts),
            description: field(&self.descriptions),
            source_id: field(&self.source_ids),
            talk_type: field(&self.talk_types),
            language: field(&self.languages),
            speakers: bios
                .iter()
                .zip(ids)
                .map(|(&bio, &id)| (self.text(Some(bio)), self.text(Some(id))))
                .collect(),
        }
    }

    fn text(&self, stored: Option<u32>) -> Option<String> {
        let id = (stored? as usize).checked_sub(1)?;
        let start = id
            .checked_sub(1)
            .and_then(|j| self.ends.get(j))
            .map_or(0, |&e| e as usize);
        let end = self.ends.get(id).map_or(start, |&e| e as usize);
        let coded = self.coded.get(start..end)?;
        let tokens = || {
            let mut bytes = coded;
            std::iter::from_fn(move || next_varint(&mut bytes))
                .map(|token| self.tokens.get(token as usize))
        };
        // Sized first: where `full_talk` boxes the text, a grown string would be copied again
        // to shed its spare room.
        let mut out = String::with_capacity(tokens().map(str::len).sum());
        out.extend(tokens());
        Some(out)
    }
}

/// The runs of `text`: maximal stretches of alphanumeric characters and of the rest.
fn runs(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let word = first.is_alphanumeric();
        let end = rest
            .char_indices()
            .find(|(_, c)| c.is_alphanumeric() != word)
            .map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(run)
    })
}

/// The dictionary (most frequent run first, ties by text) and the texts coded against it.
fn code(texts: &[String]) -> (StrList, Box<[u8]>, Box<[u32]>) {
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for text in texts {
        for run in runs(text) {
            *counts.entry(run).or_default() += 1;
        }
    }
    let mut by_count: Vec<(&str, u32)> = counts.into_iter().collect();
    by_count.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let ids: HashMap<&str, u32> = by_count
        .iter()
        .enumerate()
        .map(|(id, &(run, _))| (run, u32::try_from(id).unwrap_or(u32::MAX)))
        .collect();
    let mut coded = Vec::new();
    let mut ends = Vec::with_capacity(texts.len());
    for text in texts {
        for run in runs(text) {
            push_varint(&mut coded, ids.get(run).copied().unwrap_or(0));
        }
        ends.push(u32::try_from(coded.len()).unwrap_or(u32::MAX));
    }
    let tokens = StrList::new(by_count.iter().map(|&(run, _)| run));
    (tokens, coded.into_boxed_slice(), ends.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{SpeakerData, TalkData, TalkId};
    use std::sync::Arc;

    fn talk(abstract_text: Option<&str>, bios: &[Option<&str>]) -> StoredTalk {
        StoredTalk {
            id: TalkId(1),
            schedule_version: 1,
            data: TalkData {
                title: "T".to_owned(),
                abstract_text: abstract_text.map(Into::into),
                speakers: bios
                    .iter()
                    .map(|b| SpeakerData {
                        name: "S".to_owned(),
                        biography: b.map(Arc::from),
                        ..SpeakerData::default()
                    })
                    .collect(),
                ..TalkData::default()
            },
        }
    }

    #[test]
    fn every_text_comes_back_exactly_and_the_talks_no_longer_hold_it() {
        let odd = "  Ünïcode, *markdown*\r\n\ttabs — and 2 numbers...";
        let mut talks = vec![
            talk(Some(odd), &[Some("Bio one."), None, Some("")]),
            talk(None, &[]),
            talk(Some(""), &[Some("Bio one.")]),
        ];
        talks[1].data.description = Some("Only a description".into());
        let texts = Texts::take(&mut talks);
        assert_eq!(texts.abstract_text(0).as_deref(), Some(odd));
        assert_eq!(texts.abstract_text(1), None);
        assert_eq!(texts.abstract_text(2).as_deref(), Some(""));
        assert_eq!(texts.description(1).as_deref(), Some("Only a description"));
        assert_eq!(texts.description(0), None);
        assert_eq!(texts.biography(0, 0).as_deref(), Some("Bio one."));
        assert_eq!(texts.biography(0, 1), None);
        assert_eq!(texts.biography(0, 2).as_deref(), Some(""));
        assert_eq!(texts.biography(2, 0).as_deref(), Some("Bio one."));
        assert_eq!(texts.biography(1, 0), None);
        assert_eq!(texts.abstract_text(9), None);
        assert!(talks.iter().all(|t| t.data.abstract_text.is_none()
            && t.data.description.is_none()
            && t.data.speakers.iter().all(|s| s.biography.is_none())));
    }

    #[test]
    fn the_unread_fields_come_back_too() {
        let mut one = talk(None, &[Some("Bio"), None]);
        one.data.source_id = Some("ABC123".into());
        one.data.talk_type = Some("Talk".into());
        one.data.language = Some("en".into());
        one.data.speakers[1].source_id = Some("P7".into());
        let mut talks = vec![one];
        let texts = Texts::take(&mut talks);
        let taken = texts.taken(0);
        assert_eq!(taken.source_id.as_deref(), Some("ABC123"));
        assert_eq!(taken.talk_type.as_deref(), Some("Talk"));
        assert_eq!(taken.language.as_deref(), Some("en"));
        assert_eq!(
            taken.speakers,
            [
                (Some("Bio".to_owned()), None),
                (None, Some("P7".to_owned()))
            ]
        );
        let d = &talks[0].data;
        assert!(d.source_id.is_none() && d.talk_type.is_none() && d.language.is_none());
        assert!(d.speakers.iter().all(|s| s.source_id.is_none()));
    }

    #[test]
    fn runs_split_words_from_the_rest_and_join_back() {
        let text = "Hé, 42 wörds!";
        assert_eq!(
            runs(text).collect::<Vec<_>>(),
            ["Hé", ", ", "42", " ", "wörds", "!"]
        );
        assert_eq!(runs("").count(), 0);
    }
}
