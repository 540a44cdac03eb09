//! `discord.shards` and `discord.shard_range`: how many gateway shards the bot has in all,
//! and which of them this process runs. Pure parsing and checking; the caller names the key.

use std::fmt;
use std::ops::RangeInclusive;

/// The gateway shards this process runs (`first..=last`) out of `total` across every process.
/// Always valid: at least one shard, `first <= last < total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    first: u32,
    last: u32,
    total: u32,
}

impl Default for ShardRange {
    /// One shard, run here: an unsharded bot.
    fn default() -> Self {
        Self {
            first: 0,
            last: 0,
            total: 1,
        }
    }
}

impl ShardRange {
    /// Every shard of `total`.
    fn all(total: u32) -> Self {
        Self {
            first: 0,
            last: total - 1,
            total,
        }
    }

    /// The first shard this process runs.
    pub fn first(&self) -> u32 {
        self.first
    }

    /// The last shard this process runs (inclusive).
    pub fn last(&self) -> u32 {
        self.last
    }

    /// The number of shards across all processes (`discord.shards`).
    pub fn total(&self) -> u32 {
        self.total
    }

    /// How many shards this process runs.
    pub fn count(&self) -> u32 {
        self.last - self.first + 1
    }

    /// The ids of the shards this process runs.
    pub fn ids(&self) -> RangeInclusive<u32> {
        self.first..=self.last
    }

    /// Whether this process runs shard `id`.
    pub fn contains(&self, id: u32) -> bool {
        self.ids().contains(&id)
    }
}

impl fmt::Display for ShardRange {
    /// `0-1 of 4`, or `3 of 4` for a single shard.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{} of {}", self.first, self.total)
        } else {
            write!(f, "{}-{} of {}", self.first, self.last, self.total)
        }
    }
}

/// Which key a problem is with, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ShardError {
    /// `discord.shards` is wrong.
    Shards(String),
    /// `discord.shard_range` is wrong.
    Range(String),
}

/// `discord.shard_range` as written: a shard number, or text such as `"3"` or `"0-1"`.
pub(super) enum RangeText<'a> {
    Number(u32),
    Text(&'a str),
}

/// Checks `total` (`discord.shards`) and the optional range; no range (or an empty text)
/// means every shard.
pub(super) fn parse(total: u32, range: Option<RangeText<'_>>) -> Result<ShardRange, ShardError> {
    if total == 0 {
        return Err(ShardError::Shards("must be at least 1".into()));
    }
    let (first, last) = match range {
        None => return Ok(ShardRange::all(total)),
        Some(RangeText::Number(shard)) => (shard, shard),
        Some(RangeText::Text(text)) if text.trim().is_empty() => return Ok(ShardRange::all(total)),
        Some(RangeText::Text(text)) => bounds(text).ok_or_else(|| {
            ShardError::Range(format!(
                "expected a shard such as \"3\" or an inclusive range such as \"0-1\", \
                 not {text:?}"
            ))
        })?,
    };
    if first > last {
        return Err(ShardError::Range(format!(
            "{first}-{last} starts after it ends"
        )));
    }
    if last >= total {
        let outside = if first >= total { first } else { last };
        return Err(ShardError::Range(format!(
            "shard {outside} does not exist: discord.shards is {total}, so shards are \
             numbered 0 to {}",
            total - 1
        )));
    }
    Ok(ShardRange { first, last, total })
}

/// `"3"` -> (3, 3), `"0-1"` -> (0, 1); spaces around the numbers are allowed.
fn bounds(text: &str) -> Option<(u32, u32)> {
    let number = |part: &str| {
        let part = part.trim();
        // `u32::from_str` accepts a leading `+`; a shard number is digits only.
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    match text.split_once('-') {
        None => number(text).map(|shard| (shard, shard)),
        Some((first, last)) => Some((number(first)?, number(last)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(total: u32, range: &str) -> Result<ShardRange, ShardError> {
        parse(total, Some(RangeText::Text(range)))
    }

    fn range_error(result: Result<ShardRange, ShardError>) -> String {
        match result {
            Err(ShardError::Range(message)) => message,
            other => panic!("expected a shard_range error, got {other:?}"),
        }
    }

    #[test]
    fn without_a_range_the_process_runs_every_shard() {
        let all = parse(4, None).unwrap();
        assert_eq!((all.first(), all.last(), all.total()), (0, 3, 4));
        assert_eq!(parse(1, None).unwrap(), ShardRange::default());
        assert_eq!(text(4, " ").unwrap(), all);
    }

    #[test]
    fn a_single_shard_or_an_inclusive_range_is_read() {
        let one = text(4, "3").unwrap();
        assert_eq!(one.ids(), 3..=3);
        assert_eq!(one.to_string(), "3 of 4");
        let two = text(4, " 0 - 1 ").unwrap();
        assert_eq!(two.ids(), 0..=1);
        assert!(two.contains(1) && !two.contains(2));
        assert_eq!(two.to_string(), "0-1 of 4");
        assert_eq!(parse(4, Some(RangeText::Number(2))).unwrap().ids(), 2..=2);
    }

    #[test]
    fn zero_shards_are_refused_on_the_shards_key() {
        assert_eq!(
            parse(0, None),
            Err(ShardError::Shards("must be at least 1".into()))
        );
    }

    #[test]
    fn a_range_outside_the_shards_is_refused() {
        assert_eq!(
            range_error(text(2, "1-2")),
            "shard 2 does not exist: discord.shards is 2, so shards are numbered 0 to 1"
        );
        assert!(range_error(text(2, "5")).starts_with("shard 5 does not exist"));
        assert!(range_error(parse(1, Some(RangeText::Number(1)))).starts_with("shard 1 "));
    }

    #[test]
    fn a_range_that_starts_after_it_ends_is_refused() {
        assert_eq!(range_error(text(4, "3-1")), "3-1 starts after it ends");
    }

    #[test]
    fn anything_else_is_refused_with_the_expected_forms() {
        for bad in ["a", "0..1", "-1", "1-", "0-1-2", "+1", "0,1", "99999999999"] {
            let message = range_error(text(4, bad));
            assert!(
                message.starts_with("expected a shard such as \"3\" or an inclusive range"),
                "{bad}: {message}"
            );
            assert!(message.ends_with(&format!("not {bad:?}")), "{message}");
        }
    }
}
