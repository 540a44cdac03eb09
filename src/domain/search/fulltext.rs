//! Full-text postings: folded word -> talks containing it, with the weight of the best field
//! it appears in.

use std::cmp::Ordering;

use super::vocabulary::Vocabulary;
use super::{top, TextHit};
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
    /// Word id -> (talk index, weight), ascending by talk, one entry per talk.
    postings: Vec<Vec<(u32, u8)>>,
    talks: usize,
}

impl FullText {
    pub(super) fn build(talks: &[StoredTalk]) -> Self {
        // (word, talk, weight) triples, then grouped by word.
        let mut triples: Vec<(Box<str>, u32, u8)> = Vec::new();
        for (index, talk) in talks.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let d = &talk.data;
            let mut add = |text: &str, weight: u8| {
                for word in title_key(text).split(' ').filter(|w| !w.is_empty()) {
                    triples.push((Box::from(word), index, weight));
                }
            };
            add(&d.title, TITLE);
            for text in [&d.subtitle, &d.track].into_iter().flatten() {
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
        }
        // Sort by word, talk, heaviest weight first, so dedup keeps the best field.
        triples.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(b.2.cmp(&a.2)));
        triples.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let words: Vec<Box<str>> = triples.iter().map(|t| t.0.clone()).collect();
        let vocabulary = Vocabulary::build(words, false);
        let mut postings: Vec<Vec<(u32, u8)>> = vec![Vec::new(); vocabulary.len()];
        for (word, talk, weight) in triples {
            if let Some(list) = vocabulary.id(&word).and_then(|id| postings.get_mut(id)) {
                list.push((talk, weight));
            }
        }
        Self {
            vocabulary,
            postings,
            talks: talks.len(),
        }
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
                for &(talk, w) in self.postings.get(id).map_or(&[][..], Vec::as_slice) {
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
