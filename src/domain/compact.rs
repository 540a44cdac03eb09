//! Flat containers for the programme snapshot and its search index: one allocation per
//! container instead of one per string or per list. A snapshot lives as long as the process, so every header, malloc chunk and
//! growth slack it keeps is resident for good (issue 3's idle-memory target).

/// Strings stored back to back: string `i` is `text[ends[i - 1]..ends[i]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StrList {
    text: Box<str>,
    ends: Box<[u32]>,
}

impl StrList {
    /// The strings, in order.
    pub(crate) fn new<'a>(strings: impl IntoIterator<Item = &'a str>) -> Self {
        let mut text = String::new();
        let mut ends = Vec::new();
        for s in strings {
            text.push_str(s);
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Self {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// String `i`; empty when out of range.
    pub(crate) fn get(&self, i: usize) -> &str {
        let start = i
            .checked_sub(1)
            .and_then(|j| self.ends.get(j))
            .map_or(0, |&e| e as usize);
        let end = self.ends.get(i).map_or(start, |&e| e as usize);
        self.text.get(start..end).unwrap_or("")
    }

    /// The first position whose string is not `pred`-true (the list must be partitioned).
    pub(crate) fn partition_point(&self, mut pred: impl FnMut(&str) -> bool) -> usize {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            if pred(self.get(mid)) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }
}

/// Lists of `u32` stored back to back (compressed sparse rows): list `i` is
/// `items[ends[i - 1]..ends[i]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Lists {
    items: Box<[u32]>,
    ends: Box<[u32]>,
}

impl Lists {
    /// From `(list, item)` pairs: sorted and deduplicated here, so each list ascends. Lists
    /// without pairs are empty; there are `lists` of them.
    pub(crate) fn from_pairs(mut pairs: Vec<(u32, u32)>, lists: usize) -> Self {
        pairs.sort_unstable();
        pairs.dedup();
        Self::from_grouped(&pairs, lists)
    }

    /// From `(list, item)` pairs already grouped by ascending list, keeping each list's
    /// items in the order given (duplicates too).
    pub(crate) fn from_grouped(pairs: &[(u32, u32)], lists: usize) -> Self {
        let mut ends = Vec::with_capacity(lists);
        let mut at = 0;
        for list in 0..lists {
            let list = u32::try_from(list).unwrap_or(u32::MAX);
            at += pairs
                .get(at..)
                .map_or(0, |rest| rest.partition_point(|p| p.0 <= list));
            ends.push(u32::try_from(at).unwrap_or(u32::MAX));
        }
        Self {
            items: pairs.iter().map(|p| p.1).collect(),
            ends: ends.into_boxed_slice(),
        }
    }

    /// List `i`; empty when out of range.
    pub(crate) fn get(&self, i: usize) -> &[u32] {
        let start = i
            .checked_sub(1)
            .and_then(|j| self.ends.get(j))
            .map_or(0, |&e| e as usize);
        let end = self.ends.get(i).map_or(start, |&e| e as usize);
        self.items.get(start..end).unwrap_or(&[])
    }
}

/// Appends `value` as LEB128: seven bits a byte, low bits first, high bit = more follows.
pub(crate) fn push_varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads one LEB128 value from the front of `bytes`, advancing it; `None` at the end.
pub(crate) fn next_varint(bytes: &mut &[u8]) -> Option<u32> {
    let mut value = 0u32;
    let mut shift = 0;
    while let Some((&byte, rest)) = bytes.split_first() {
        *bytes = rest;
        value |= u32::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
        if byte & 0x80 == 0 {
            return Some(value);
        }
        shift += 7;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_come_back_in_order_and_out_of_range_is_empty() {
        let list = StrList::new(["", "ab", "ünï"]);
        assert_eq!(list.len(), 3);
        assert_eq!([list.get(0), list.get(1), list.get(2)], ["", "ab", "ünï"]);
        assert_eq!(list.get(3), "");
        assert_eq!(list.partition_point(|s| s < "b"), 2);
    }

    #[test]
    fn lists_from_pairs_ascend_without_duplicates() {
        let lists = Lists::from_pairs(vec![(2, 7), (0, 3), (2, 1), (2, 7)], 4);
        assert_eq!(lists.get(0), [3]);
        assert!(lists.get(1).is_empty());
        assert_eq!(lists.get(2), [1, 7]);
        assert!(lists.get(3).is_empty() && lists.get(9).is_empty());
        let grouped = Lists::from_grouped(&[(0, 5), (0, 5), (0, 1), (2, 0)], 3);
        assert_eq!(grouped.get(0), [5, 5, 1]);
        assert!(grouped.get(1).is_empty());
        assert_eq!(grouped.get(2), [0]);
    }

    #[test]
    fn varints_round_trip() {
        let values = [0, 1, 127, 128, 300, 16_383, 16_384, u32::MAX];
        let mut bytes = Vec::new();
        for v in values {
            push_varint(&mut bytes, v);
        }
        let mut rest = bytes.as_slice();
        let back: Vec<u32> = std::iter::from_fn(|| next_varint(&mut rest)).collect();
        assert_eq!(back, values);
    }
}
