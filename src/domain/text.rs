//! Text normalisation shared by importers and the merge logic.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The key two spellings of one talk title share: accents folded, case folded, punctuation
/// dropped, white space collapsed. `"Good Enough" IS Good Enough!` and
/// `good enough is good enough` give the same key.
pub fn title_key(title: &str) -> String {
    let mut key = String::with_capacity(title.len());
    let mut pending_space = false;
    for c in title.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if pending_space && !key.is_empty() {
                key.push(' ');
            }
            pending_space = false;
            key.extend(c.to_lowercase());
        } else if c.is_whitespace() || c == '-' || c == '_' || c == '/' {
            pending_space = true;
        }
        // Other punctuation (quotes, ?, !, :) is dropped without splitting the word.
    }
    key
}

/// The key for a person's name: the same folding as [`title_key`].
pub fn name_key(name: &str) -> String {
    title_key(name)
}

/// Trims a free-text value and turns an empty one into `None`. Control characters other than
/// line breaks and tabs are removed: imported text is untrusted.
pub fn clean(value: &str) -> Option<String> {
    let cleaned: String = value
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    let trimmed = cleaned.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Like [`clean`], for one-line values (titles, names, rooms): line breaks and runs of white
/// space become single spaces.
pub fn clean_line(value: &str) -> Option<String> {
    let joined = value.split_whitespace().collect::<Vec<_>>().join(" ");
    clean(&joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_keys_ignore_case_accents_and_punctuation() {
        assert_eq!(
            title_key("\"Good Enough\" IS Good Enough!"),
            title_key("good enough is good enough")
        );
        assert_eq!(title_key("Café — Über-Python"), "cafe uber python");
        assert_eq!(
            title_key("  Python   103:  Memory Model "),
            "python 103 memory model"
        );
        assert_ne!(title_key("Python 103"), title_key("Python 102"));
    }

    #[test]
    fn clean_drops_empty_values_and_control_characters() {
        assert_eq!(clean("  \t "), None);
        assert_eq!(clean(" a\u{7}b\nc "), Some("ab\nc".to_owned()));
        assert_eq!(clean_line(" a \n  b "), Some("a b".to_owned()));
    }
}
