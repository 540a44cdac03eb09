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
