//! RFC 5545 TEXT values: escapes resolved, lists split on their bare commas.

/// Resolves RFC 5545 TEXT escapes: `\\` `\;` `\,` `\n` `\N`. An unknown escape keeps its
/// character (lenient, as most readers are), a trailing lone backslash is kept.
pub(super) fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    // The text between escapes is copied a run at a time: char by char, this was the
    // largest part of reading a 100,000-talk calendar whose descriptions hold line breaks.
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        let (run, escape) = rest.split_at(at);
        out.push_str(run);
        let mut after = escape.chars();
        after.next();
        match after.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
        rest = after.as_str();
    }
    out.push_str(rest);
    out
}

/// Splits a raw TEXT list on commas that are not escaped.
pub(super) fn split_unescaped_commas(raw: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in raw.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => {
                parts.push(raw.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(raw.get(start..).unwrap_or_default());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_are_resolved_and_lists_split_only_on_bare_commas() {
        let list: Vec<String> = split_unescaped_commas(r"Web\, APIs,Data\\Science\;x,\N")
            .into_iter()
            .map(unescape)
            .collect();
        assert_eq!(list, vec!["Web, APIs", "Data\\Science;x", "\n"]);
        assert_eq!(unescape(r"a\nb\Nc\,\;\\"), "a\nb\nc,;\\");
        assert_eq!(unescape("caf\u{e9}\\\u{e9}\\"), "caf\u{e9}\u{e9}\\");
    }

    /// The rule char by char, as RFC 5545 states it: what the run-copying `unescape` must
    /// match on any text.
    fn unescape_char_by_char(raw: &str) -> String {
        let mut out = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn unescaping_matches_the_rule_char_by_char(raw in "([a-z\u{e9}\u{1F600} ,;nN]|\\\\)*") {
            proptest::prop_assert_eq!(unescape(&raw), unescape_char_by_char(&raw));
        }
    }
}
