//! Helpers shared by the unit tests (compiled only for tests).

use proptest::test_runner::Config;

/// A property-test configuration with `default` cases: modest, so the suite stays fast;
/// `PROPTEST_CASES=N` raises it for a long fuzzing run.
pub fn proptest_config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        ..Config::default()
    }
}

/// The longest prefix of `s` of at most `at` bytes that ends on a character boundary.
pub fn prefix_at(s: &str, at: usize) -> &str {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    &s[..at]
}

/// `base` with each `(byte offset, text)` edit inserted in turn (offsets moved back to a
/// character boundary, past the end meaning the end): random mutations for fuzzing a parser.
pub fn with_insertions(base: &str, edits: Vec<(usize, String)>) -> String {
    let mut text = base.to_owned();
    for (at, insert) in edits {
        let at = prefix_at(&text, at).len();
        text.insert_str(at, &insert);
    }
    text
}
