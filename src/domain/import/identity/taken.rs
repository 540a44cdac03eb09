//! The ids handed out so far, each with the place of the talk that holds it, kept in as
//! little memory as a 100,000-talk import allows: a map of `String`s gave every id an
//! allocation of its own and a key beside its place in every slot (with schedule.json's
//! places, 12.4 MB of a 100,000-talk file: BENCHMARKS.md, "A talk listing read as it
//! comes", its last part).

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

#[derive(Debug)]
pub(super) struct Taken<P> {
    /// Every id's text, one after another.
    text: String,
    /// Each id's end in `text` (it starts where the one before ends) and its place.
    held: Vec<(usize, P)>,
    /// Positions in `held`, found by their id's hash.
    table: HashTable<usize>,
    hasher: RandomState,
}

impl<P> Default for Taken<P> {
    fn default() -> Self {
        Self {
            text: String::new(),
            held: Vec::new(),
            table: HashTable::new(),
            hasher: RandomState::new(),
        }
    }
}

impl<P> Taken<P> {
    /// The place of the talk that holds `id`.
    pub(super) fn get(&self, id: &str) -> Option<&P> {
        let hash = self.hasher.hash_one(id);
        let at = self
            .table
            .find(hash, |&at| id_at(&self.text, &self.held, at) == id)?;
        self.held.get(*at).map(|(_, place)| place)
    }

    pub(super) fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// Records `id`, which is not taken, as held by the talk at `place`.
    pub(super) fn insert(&mut self, id: &str, place: P) {
        let Self {
            text,
            held,
            table,
            hasher,
        } = self;
        text.push_str(id);
        held.push((text.len(), place));
        let at = held.len() - 1;
        table.insert_unique(hasher.hash_one(id), at, |&at| {
            hasher.hash_one(id_at(text, held, at))
        });
    }
}

/// The `at`th id.
fn id_at<'t, P>(text: &'t str, held: &[(usize, P)], at: usize) -> &'t str {
    let start = at
        .checked_sub(1)
        .and_then(|before| held.get(before))
        .map_or(0, |(end, _)| *end);
    let end = held.get(at).map_or(start, |(end, _)| *end);
    text.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Whatever ids are taken, in whatever order, each is found with its place, and an
        /// id not taken is not found, as a map of `String`s finds them.
        #[test]
        fn ids_are_found_as_a_map_finds_them(
            ids in proptest::collection::vec("[a-c]{0,3}", 0..200),
            probes in proptest::collection::vec("[a-d]{0,4}", 0..50),
        ) {
            let mut taken = Taken::default();
            let mut map = HashMap::new();
            for (place, id) in ids.iter().enumerate() {
                if !map.contains_key(id) {
                    taken.insert(id, place);
                    map.insert(id.clone(), place);
                }
            }
            for id in ids.iter().chain(&probes) {
                prop_assert_eq!(taken.get(id), map.get(id));
                prop_assert_eq!(taken.contains(id), map.contains_key(id));
            }
        }
    }
}
