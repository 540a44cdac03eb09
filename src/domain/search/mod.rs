//! In-memory search over one programme snapshot, built once and queried per keystroke.
//!
//! Two lookups:
//! - [`SearchIndex::names`] for autocomplete over titles and speaker names: accents and case
//!   folded, whole-key prefix matches first, then entries where every typed word starts a
//!   word, then typo-tolerant trigram similarity (pg_trgm's, per word);
//! - [`SearchIndex::full_text`] over titles, speakers, abstracts, descriptions and
//!   biographies: a talk containing every query word ranks above partial matches, and a
//!   title hit weighs more than a body hit.
//!
//! Everything a query compares against is folded and indexed at build time; a query only
//! folds its own text and walks short posting lists.

mod fulltext;
mod vocabulary;

use std::cmp::Ordering;

use crate::domain::compact::{Lists, StrList};
use crate::domain::model::StoredTalk;
use crate::domain::programme::Speaker;
use crate::domain::text::title_key;

use fulltext::FullText;
use vocabulary::Vocabulary;

/// The least trigram similarity (averaged over the query's words) that counts as a match.
pub const SIMILARITY_THRESHOLD: f32 = 0.3;

/// Query words beyond this many are ignored: nobody types more, and it bounds the work.
const MAX_QUERY_WORDS: usize = 8;

/// What a name hit points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// An index into `Programme::talks`.
    Talk(usize),
    /// An index into `Programme::speakers()`.
    Speaker(usize),
}

/// How well a name matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchTier {
    /// The folded name starts with the folded query.
    Prefix,
    /// Every query word starts a word of the name.
    WordPrefix,
    /// Trigram similarity at or above [`SIMILARITY_THRESHOLD`].
    Similar,
}

/// One autocomplete match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NameHit {
    pub target: Target,
    pub tier: MatchTier,
    /// Mean per-word similarity, 0..=1 (1 for prefix matches).
    pub score: f32,
}

/// One full-text match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextHit {
    /// An index into `Programme::talks`.
    pub talk: usize,
    /// How many of the query's words the talk contains.
    pub matched_words: usize,
    /// How many words the query has.
    pub query_words: usize,
    /// Summed field weights of the matches (title 3, speaker or subtitle 2, body 1).
    pub weight: u32,
}

/// The search index of one programme snapshot.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    /// Folded keys of the entries: titles (in programme order), then speaker names (in
    /// speaker order).
    keys: StrList,
    /// What each entry points at (same index as `keys`).
    targets: Box<[Target]>,
    /// Words of the entries' keys.
    vocabulary: Vocabulary,
    /// Vocabulary word id -> entries containing it (ascending).
    word_entries: Lists,
    full_text: FullText,
}

impl SearchIndex {
    /// Indexes `talks` (as ordered in the programme) and `speakers`.
    pub fn build(talks: &[StoredTalk], speakers: &[Speaker]) -> Self {
        let (keys, targets): (Vec<String>, Vec<Target>) = talks
            .iter()
            .enumerate()
            .map(|(i, t)| (title_key(&t.data.title), Target::Talk(i)))
            .chain(
                speakers
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (title_key(&s.name), Target::Speaker(i))),
            )
            .filter(|(key, _)| !key.is_empty())
            .unzip();
        let vocabulary = Vocabulary::build(keys.iter().flat_map(|k| k.split(' ')), true);
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for word in key.split(' ') {
                if let Some(id) = vocabulary.id(word) {
                    pairs.push((u32::try_from(id).unwrap_or(u32::MAX), index));
                }
            }
        }
        let word_entries = Lists::from_pairs(pairs, vocabulary.len());
        Self {
            keys: StrList::new(keys.iter().map(String::as_str)),
            targets: targets.into_boxed_slice(),
            vocabulary,
            word_entries,
            full_text: FullText::build(talks),
        }
    }

    /// Titles and speaker names matching `typed`, best first, at most `limit`. Ties keep
    /// programme order (titles before speakers), so the same query always gives the same list.
    pub fn names(&self, typed: &str, limit: usize) -> Vec<NameHit> {
        let query = title_key(typed);
        let words: Vec<&str> = query
            .split(' ')
            .filter(|w| !w.is_empty())
            .take(MAX_QUERY_WORDS)
            .collect();
        if words.is_empty() || limit == 0 {
            return Vec::new();
        }
        let n = self.targets.len();
        let mut total = vec![0f32; n];
        let mut prefixed = vec![0u8; n];
        let mut current = vec![0f32; n];
        let mut touched: Vec<u32> = Vec::new();
        let mut candidates: Vec<u32> = Vec::new();
        let mut matches: Vec<(usize, f32)> = Vec::new();
        let mut counts: Vec<u16> = Vec::new();
        for word in &words {
            matches.clear();
            matches.extend(self.vocabulary.prefixed(word).map(|id| (id, 1.0)));
            // Trigrams of one or two letters say nothing; such words must be prefixes.
            if word.chars().count() >= 3 {
                self.vocabulary
                    .similar(word, SIMILARITY_THRESHOLD, &mut counts, &mut matches);
            }
            for &(id, similarity) in &matches {
                for &entry in self.word_entries.get(id) {
                    if let Some(best) = current.get_mut(entry as usize) {
                        if *best == 0.0 {
                            touched.push(entry);
                        }
                        *best = best.max(similarity);
                    }
                }
            }
            for entry in touched.drain(..) {
                let e = entry as usize;
                let (Some(best), Some(sum), Some(count)) =
                    (current.get_mut(e), total.get_mut(e), prefixed.get_mut(e))
                else {
                    continue;
                };
                if *sum == 0.0 {
                    candidates.push(entry);
                }
                *sum += *best;
                if *best >= 1.0 {
                    *count = count.saturating_add(1);
                }
                *best = 0.0;
            }
        }
        let word_count = words.len() as f32;
        let mut hits: Vec<(u32, NameHit)> = candidates
            .into_iter()
            .filter_map(|entry| {
                let e = entry as usize;
                let target = *self.targets.get(e)?;
                let score = total.get(e)? / word_count;
                let tier = if usize::from(*prefixed.get(e)?) >= words.len() {
                    if self.keys.get(e).starts_with(query.as_str()) {
                        MatchTier::Prefix
                    } else {
                        MatchTier::WordPrefix
                    }
                } else if score >= SIMILARITY_THRESHOLD {
                    MatchTier::Similar
                } else {
                    return None;
                };
                Some((
                    entry,
                    NameHit {
                        target,
                        tier,
                        score,
                    },
                ))
            })
            .collect();
        let order = |a: &(u32, NameHit), b: &(u32, NameHit)| -> Ordering {
            a.1.tier
                .cmp(&b.1.tier)
                .then_with(|| b.1.score.total_cmp(&a.1.score))
                .then_with(|| a.0.cmp(&b.0))
        };
        top(&mut hits, limit, order);
        hits.into_iter().map(|(_, hit)| hit).collect()
    }

    /// Talks whose title, speakers, abstract, description or speaker biographies contain the
    /// query's words (a query word matches words it starts, from three letters on), best
    /// first, at most `limit`.
    pub fn full_text(&self, query: &str, limit: usize) -> Vec<TextHit> {
        let key = title_key(query);
        let words: Vec<&str> = key
            .split(' ')
            .filter(|w| !w.is_empty())
            .take(MAX_QUERY_WORDS)
            .collect();
        self.full_text.search(&words, limit)
    }
}

/// Keeps the `limit` smallest items by `order`, sorted, without sorting everything.
fn top<T>(items: &mut Vec<T>, limit: usize, order: impl Fn(&T, &T) -> Ordering) {
    if items.len() > limit && limit > 0 {
        items.select_nth_unstable_by(limit - 1, &order);
        items.truncate(limit);
    }
    items.sort_by(&order);
    items.truncate(limit);
}

#[cfg(test)]
mod tests;
