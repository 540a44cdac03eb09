//! A sorted list of distinct folded words with prefix lookup and, optionally, pg_trgm-style
//! trigram similarity (each word padded with two spaces before and one after; similarity =
//! shared trigrams / trigrams in either).

use std::ops::Range;

use crate::domain::compact::{Lists, StrList};

/// Distinct words, sorted, each identified by its position.
#[derive(Debug, Clone, Default)]
pub(super) struct Vocabulary {
    words: StrList,
    /// Number of distinct trigrams of each word (empty when built without trigrams).
    gram_counts: Box<[u16]>,
    /// Every trigram of any word, sorted; position `i` owns list `i` of `gram_words`.
    grams: Box<[u64]>,
    /// Trigram position -> ids of the words containing it (ascending).
    gram_words: Lists,
}

impl Vocabulary {
    /// Sorts and deduplicates `words`; with `trigrams`, indexes them for [`Self::similar`].
    pub(super) fn build<'a>(words: impl IntoIterator<Item = &'a str>, trigrams: bool) -> Self {
        let mut words: Vec<&str> = words.into_iter().collect();
        words.sort_unstable();
        words.dedup();
        let mut vocabulary = Self {
            words: StrList::new(words.iter().copied()),
            ..Self::default()
        };
        if trigrams {
            // (trigram, word id) pairs, then one sorted list of trigrams and one word list
            // per trigram: no growing map of vectors left behind.
            let mut pairs: Vec<(u64, u32)> = Vec::new();
            let mut counts = Vec::with_capacity(words.len());
            let mut grams = Vec::new();
            for (id, word) in words.iter().enumerate() {
                trigrams_of(word, &mut grams);
                counts.push(u16::try_from(grams.len()).unwrap_or(u16::MAX));
                let id = u32::try_from(id).unwrap_or(u32::MAX);
                pairs.extend(grams.iter().map(|&gram| (gram, id)));
            }
            pairs.sort_unstable();
            let mut distinct: Vec<u64> = pairs.iter().map(|p| p.0).collect();
            distinct.dedup();
            let positioned: Vec<(u32, u32)> = pairs
                .iter()
                .map(|&(gram, id)| {
                    let at = distinct.partition_point(|&g| g < gram);
                    (u32::try_from(at).unwrap_or(u32::MAX), id)
                })
                .collect();
            drop(pairs);
            vocabulary.gram_words = Lists::from_pairs(positioned, distinct.len());
            vocabulary.grams = distinct.into_boxed_slice();
            vocabulary.gram_counts = counts.into_boxed_slice();
        }
        vocabulary
    }

    /// How many words there are.
    pub(super) fn len(&self) -> usize {
        self.words.len()
    }

    /// Word `id`; empty when out of range.
    #[cfg(test)]
    pub(super) fn word(&self, id: usize) -> &str {
        self.words.get(id)
    }

    /// The id of a word, if present.
    pub(super) fn id(&self, word: &str) -> Option<usize> {
        let at = self.words.partition_point(|w| w < word);
        (at < self.len() && self.words.get(at) == word).then_some(at)
    }

    /// The ids of the words starting with `prefix` (a contiguous range: the list is sorted).
    pub(super) fn prefixed(&self, prefix: &str) -> Range<usize> {
        let start = self.words.partition_point(|w| w < prefix);
        let end = self
            .words
            .partition_point(|w| w < prefix || w.starts_with(prefix));
        start..end.max(start)
    }

    /// Adds to `out` every word whose trigram similarity to `word` is at least `threshold`,
    /// with that similarity. `counts` is scratch space reused between calls.
    pub(super) fn similar(
        &self,
        word: &str,
        threshold: f32,
        counts: &mut Vec<u16>,
        out: &mut Vec<(usize, f32)>,
    ) {
        let mut grams = Vec::new();
        trigrams_of(word, &mut grams);
        if grams.is_empty() || self.gram_counts.is_empty() {
            return;
        }
        counts.clear();
        counts.resize(self.words.len(), 0);
        let mut touched: Vec<u32> = Vec::new();
        for gram in &grams {
            let Ok(at) = self.grams.binary_search(gram) else {
                continue;
            };
            for &id in self.gram_words.get(at) {
                if let Some(count) = counts.get_mut(id as usize) {
                    if *count == 0 {
                        touched.push(id);
                    }
                    *count = count.saturating_add(1);
                }
            }
        }
        let query = grams.len() as f32;
        for id in touched {
            let id = id as usize;
            let shared = f32::from(counts.get(id).copied().unwrap_or(0));
            let own = f32::from(self.gram_counts.get(id).copied().unwrap_or(0));
            let union = query + own - shared;
            let similarity = if union > 0.0 { shared / union } else { 0.0 };
            if similarity >= threshold {
                out.push((id, similarity));
            }
        }
    }
}

/// The distinct trigrams of one folded word, sorted, as pg_trgm forms them: the word padded
/// with two spaces in front and one behind, every window of three characters.
pub(super) fn trigrams_of(word: &str, out: &mut Vec<u64>) {
    out.clear();
    if word.is_empty() {
        return;
    }
    // The window starts as the two leading pad spaces; one trailing pad space ends it.
    let mut window = [' '; 3];
    for c in word.chars().chain(std::iter::once(' ')) {
        window = [window[1], window[2], c];
        out.push(pack(window));
    }
    out.sort_unstable();
    out.dedup();
}

fn pack(chars: [char; 3]) -> u64 {
    chars
        .iter()
        .fold(0u64, |acc, c| (acc << 21) | u64::from(u32::from(*c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary(words: &[&str]) -> Vocabulary {
        Vocabulary::build(words.iter().copied(), true)
    }

    #[test]
    fn a_word_has_the_trigrams_pg_trgm_gives_it() {
        // pg_trgm: show_trgm('cat') = {"  c"," ca","at ","cat"}
        let mut grams = Vec::new();
        trigrams_of("cat", &mut grams);
        let mut expected: Vec<u64> = [
            [' ', ' ', 'c'],
            [' ', 'c', 'a'],
            ['c', 'a', 't'],
            ['a', 't', ' '],
        ]
        .into_iter()
        .map(pack)
        .collect();
        expected.sort_unstable();
        assert_eq!(grams, expected);
    }

    #[test]
    fn a_misspelt_word_is_similar_to_the_right_one_and_not_to_others() {
        let v = vocabulary(&["orchestrator", "python", "orchard"]);
        let mut out = Vec::new();
        v.similar("orchestrater", 0.3, &mut Vec::new(), &mut out);
        let found: Vec<&str> = out.iter().map(|(id, _)| v.word(*id)).collect();
        assert_eq!(found, ["orchestrator"]);
        // 10 shared trigrams of 13 + 13 - 10 = 16, as pg_trgm's similarity() says.
        assert!((out[0].1 - 10.0 / 16.0).abs() < 1e-6, "{}", out[0].1);
    }

    #[test]
    fn prefixes_select_a_contiguous_range_of_words() {
        let v = vocabulary(&["pyramid", "python", "pythonic", "rust"]);
        let range = v.prefixed("pyth");
        let found: Vec<&str> = range.map(|id| v.word(id)).collect();
        assert_eq!(found, ["python", "pythonic"]);
        assert!(v.prefixed("zzz").is_empty());
        assert_eq!(v.id("rust"), Some(3));
    }
}
