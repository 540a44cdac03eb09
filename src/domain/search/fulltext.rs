//! Full-text postings: folded word -> talks containing it, with the weight of the best field
//! it appears in.
//!
//! The postings are most of a snapshot's index (about 150 distinct words per talk), so they
//! are stored delta- and varint-encoded in one byte buffer: a posting costs one or two bytes
//! instead of eight, and the build appends to one growing buffer per word instead of
//! sorting a list of every (word, talk) pair.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::vocabulary::Vocabulary;
use super::{top, TextHit};
use crate::domain::compact::{next_varint, push_varint};
use crate::domain::model::StoredTalk;
use crate::domain::text::title_key;

const TITLE: u8 = 3;
const NAME: u8 = 2;
const BODY: u8 = 1;

/// Query words shorter than this match whole words only ("a" would otherwise match all).
const MIN_PREFIX_LEN: usize = 3;

#[derive(Debug, Clone, Default)]
pub(super) struct FullText {
    vocabulary: Vocabulary,
    /// Word id -> its postings: `postings[ends[id - 1]..ends[id]]`.
    ends: Box<[u32]>,
    /// Every word's postings back to back, one per talk containing the word, ascending by
    /// talk: LEB128 of `gap << 2 | weight`, where `gap` counts the talks skipped since the
    /// previous posting (the first counts from talk 0).
    postings: Box<[u8]>,
    talks: usize,
}

/// One word's postings while building.
#[derive(Default)]
struct Growing {
    bytes: Vec<u8>,
    /// The talk after the last one appended.
    next: u32,
}

impl FullText {
    pub(super) fn build(talks: &[StoredTalk]) -> Self {
        // Words get provisional ids in order of first appearance; each talk's (word, weight)
        // pairs are deduplicated and appended to the words' postings. Talks come in order,
        // so every list ascends without sorting.
        let mut ids: HashMap<Box<str>, u32> = HashMap::new();
        let mut lists: Vec<Growing> = Vec::new();
        let mut words: Vec<(u32, u8)> = Vec::new();
        for (index, talk) in talks.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let d = &talk.data;
            words.clear();
            let mut add = |text: &str, weight: u8| {
                for word in title_key(text).split(' ').filter(|w| !w.is_empty()) {
                    let id = match ids.get(word) {
                        Some(&id) => id,
                        None => {
                            let id = u32::try_from(lists.len()).unwrap_or(u32::MAX);
                            ids.insert(Box::from(word), id);
                            lists.push(Growing::default());
                            id
                        }
                    };
                    words.push((id, weight));
                }
            };
            add(&d.title, TITLE);
            for text in d.subtitle.as_deref().into_iter().chain(d.track.as_deref()) {
                add(text, NAME);
            }
            for speaker in &d.speakers {
                add(&speaker.name, NAME);
                if let Some(bio) = &speaker.biography {
                    add(bio, BODY);
                }
            }
            for text in [&d.abstract_text, &d.description].into_iter().flatten() {
                add(text, BODY);
            }
            // By word, heaviest weight first, so dedup keeps the best field.
            words.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            words.dedup_by_key(|w| w.0);
            for &(id, weight) in &words {
                if let Some(list) = lists.get_mut(id as usize) {
                    push_varint(
                        &mut list.bytes,
                        (index - list.next) << 2 | u32::from(weight),
                    );
                    list.next = index + 1;
                }
            }
        }
        let mut by_word: Vec<(Box<str>, u32)> = ids.into_iter().collect();
        by_word.sort_unstable();
        let vocabulary = Vocabulary::build(by_word.iter().map(|(w, _)| &**w), false);
        let total: usize = lists.iter().map(|l| l.bytes.len()).sum();
        let mut postings = Vec::with_capacity(total);
        let mut ends = Vec::with_capacity(by_word.len());
        for (_, id) in &by_word {
            if let Some(list) = lists.get_mut(*id as usize) {
                postings.extend_from_slice(&list.bytes);
                list.bytes = Vec::new();
            }
            ends.push(u32::try_from(postings.len()).unwrap_or(u32::MAX));
        }
        Self {
            vocabulary,
            ends: ends.into_boxed_slice(),
            postings: postings.into_boxed_slice(),
            talks: talks.len(),
        }
    }

    /// Word `id`'s postings as (talk index, weight), ascending by talk.
    fn postings(&self, id: usize) -> impl Iterator<Item = (u32, u8)> + '_ {
        let start = id
            .checked_sub(1)
            .and_then(|j| self.ends.get(j))
            .map_or(0, |&e| e as usize);
        let end = self.ends.get(id).map_or(start, |&e| e as usize);
        let mut bytes = self.postings.get(start..end).unwrap_or(&[]);
        let mut next = 0u32;
        std::iter::from_fn(move || {
            let value = next_varint(&mut bytes)?;
            let talk = next.saturating_add(value >> 2);
            next = talk.saturating_add(1);
            Some((talk, (value & 3) as u8))
        })
    }

    pub(super) fn search(&self, words: &[&str], limit: usize) -> Vec<TextHit> {
        if words.is_empty() || limit == 0 {
            return Vec::new();
        }
        let mut matched = vec![0u8; self.talks];
        let mut weight = vec![0u32; self.talks];
        let mut current = vec![0u8; self.talks];
        let mut touched: Vec<u32> = Vec::new();
        let mut candidates: Vec<u32> = Vec::new();
        for word in words {
            let ids = if word.chars().count() >= MIN_PREFIX_LEN {
                self.vocabulary.prefixed(word)
            } else {
                self.vocabulary.id(word).map_or(0..0, |id| id..id + 1)
            };
            for id in ids {
                for (talk, w) in self.postings(id) {
                    if let Some(best) = current.get_mut(talk as usize) {
                        if *best == 0 {
                            touched.push(talk);
                        }
                        *best = (*best).max(w);
                    }
                }
            }
            for talk in touched.drain(..) {
                let t = talk as usize;
                let (Some(best), Some(count), Some(sum)) =
                    (current.get_mut(t), matched.get_mut(t), weight.get_mut(t))
                else {
                    continue;
                };
                if *count == 0 {
                    candidates.push(talk);
                }
                *count = count.saturating_add(1);
                *sum += u32::from(*best);
                *best = 0;
            }
        }
        let mut hits: Vec<TextHit> = candidates
            .into_iter()
            .map(|talk| {
                let t = talk as usize;
                TextHit {
                    talk: t,
                    matched_words: usize::from(matched.get(t).copied().unwrap_or(0)),
                    query_words: words.len(),
                    weight: weight.get(t).copied().unwrap_or(0),
                }
            })
            .collect();
        top(&mut hits, limit, |a, b| -> Ordering {
            b.matched_words
                .cmp(&a.matched_words)
                .then(b.weight.cmp(&a.weight))
                .then(a.talk.cmp(&b.talk))
        });
        hits
    }
}
