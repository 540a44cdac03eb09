//! Text normalisation shared by importers and the merge logic.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The key two spellings of one talk title share: accents folded, case folded, punctuation
/// dropped, white space collapsed. `"Good Enough" IS Good Enough!` and
/// `good enough is good enough` give the same key.
pub fn title_key(title: &str) -> String {
    // ASCII is its own decomposition and has no combining marks: skipping the decomposer
    // keeps the key identical at a fraction of the cost (diffs fold every title and name).
    if title.is_ascii() {
        fold_key(title.chars(), title.len())
    } else {
        fold_key(title.nfkd().filter(|c| !is_combining_mark(*c)), title.len())
    }
}

/// Lower-cased alphanumeric words of `chars`, single-spaced.
fn fold_key(chars: impl Iterator<Item = char>, capacity: usize) -> String {
    let mut key = String::with_capacity(capacity);
    let mut pending_space = false;
    for c in chars {
        if c.is_alphanumeric() {
            if pending_space && !key.is_empty() {
                key.push(' ');
            }
            pending_space = false;
            // Every title and name of an import is folded, several times: pushing
            // `to_lowercase`'s iterator for plain ASCII was a tenth of a 100,000-talk import's
            // time (BENCHMARKS.md, "The importing process's own time").
            if c.is_ascii() {
                key.push(c.to_ascii_lowercase());
            } else {
                key.extend(c.to_lowercase());
            }
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
    // Nearly every value has nothing to remove: trim it as it is instead of rebuilding it char
    // by char (this was 12 % of an unchanged re-import of 10,000 talks).
    if !has_dropped_control(value) {
        let trimmed = value.trim();
        return (!trimmed.is_empty()).then(|| trimmed.to_owned());
    }
    without_controls(value)
}

/// [`clean`] of a value the caller built and no longer needs: trimmed where it lies instead
/// of copied. Its spare capacity is given back, because imported text is held until the
/// import is written (with glibc, shrinking a block leaves it in place).
pub fn clean_owned(mut value: String) -> Option<String> {
    if has_dropped_control(&value) {
        return without_controls(&value);
    }
    value.truncate(value.trim_end().len());
    let blank = value.len() - value.trim_start().len();
    value.drain(..blank);
    value.shrink_to_fit();
    (!value.is_empty()).then_some(value)
}

/// [`clean`] of a value that holds a control character to drop, rebuilt char by char.
fn without_controls(value: &str) -> Option<String> {
    let cleaned: String = value
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    let trimmed = cleaned.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Whether `value` holds a control character [`clean`] removes: one of C0 (U+0000-U+001F,
/// except `\n` and `\t`), DEL or C1 (U+0080-U+009F, UTF-8 `C2 80`-`C2 9F`), exactly the
/// chars `char::is_control` accepts. Scans bytes, which is several times faster than decoding.
fn has_dropped_control(value: &str) -> bool {
    // Most text has no byte that could start one, and a pass over 64-byte blocks without an
    // early exit inside a block (a loop the compiler can unroll and vectorise) finds the first
    // block that has. The exact scan starts there: Latin-1 punctuation (no-break space, £, «)
    // also starts with C2, so European text often gets that far.
    const BLOCK: usize = 64;
    let may_start = |b: u8| (b < 0x20 && b != b'\n' && b != b'\t') | (b == 0x7F) | (b == 0xC2);
    let Some(first) = value
        .as_bytes()
        .chunks(BLOCK)
        .position(|block| block.iter().fold(false, |seen, &b| seen | may_start(b)))
    else {
        return false;
    };
    let bytes = value.as_bytes().get(first * BLOCK..).unwrap_or_default();
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b'\n' | b'\t' => false,
        0x00..=0x1F | 0x7F => true,
        0xC2 => bytes
            .get(i + 1)
            .is_some_and(|next| (0x80..=0x9F).contains(next)),
        _ => false,
    })
}

/// Like [`clean`], for one-line values (titles, names, rooms): line breaks and runs of white
/// space become single spaces.
pub fn clean_line(value: &str) -> Option<String> {
    // Controls go before the words are found: `a \u{1} b` is then two words, not three
    // joined around one that vanishes into a double space. Those that are white space
    // (`\r`, U+0085) are kept to part words.
    let kept: std::borrow::Cow<'_, str> = if has_dropped_control(value) {
        value
            .chars()
            .filter(|c| !c.is_control() || c.is_whitespace())
            .collect::<String>()
            .into()
    } else {
        value.into()
    };
    let mut joined = String::with_capacity(kept.len());
    for word in kept.split_whitespace() {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(word);
    }
    clean_owned(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_titles_fold_as_the_decomposing_path_folds_them() {
        let decomposed = |s: &str| fold_key(s.nfkd().filter(|c| !is_combining_mark(*c)), 0);
        let every_ascii: String = (0u8..128).map(char::from).collect();
        let samples = [
            every_ascii.as_str(),
            "  Rust\x0b/async_io - \"Why\" it's\tFAST!\r\n  ",
            "C++ & Go: 2 langs--1 talk",
            "",
        ];
        for sample in samples {
            assert!(sample.is_ascii());
            assert_eq!(title_key(sample), decomposed(sample), "{sample:?}");
        }
        assert_eq!(title_key("  Rust\x0b/async_io"), "rust async io");
        // Every byte alone and between two letters, where a separator shows as a space.
        for byte in 0u8..128 {
            let sample = format!("a{}b", char::from(byte));
            assert_eq!(title_key(&sample), decomposed(&sample), "{byte:#04x}");
        }
    }

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
        assert_eq!(clean_line("a \u{1} b"), Some("a b".to_owned()));
        assert_eq!(clean_line("a\u{1}b\u{85}c\r\nd"), Some("ab c d".to_owned()));
        assert_eq!(clean_line(" \u{7f} \u{0}\t"), None);
    }

    #[test]
    fn clean_keeps_text_without_control_characters_and_drops_del_and_c1_controls() {
        assert_eq!(
            clean(" Café £5\tÜber\n€ "),
            Some("Café £5\tÜber\n€".to_owned())
        );
        assert_eq!(clean("a\u{7f}b\u{85}c\u{9f}d"), Some("abcd".to_owned()));
        assert_eq!(clean("\u{80}\u{a0}x\u{a0}"), Some("x".to_owned()));
        assert_eq!(clean("\r\n a\r\nb \r"), Some("a\nb".to_owned()));
    }

    #[test]
    fn a_control_character_is_found_wherever_it_lies_and_latin1_punctuation_is_not_one() {
        // Offsets across several 64-byte blocks, on ASCII and on text shifted by a two-byte
        // character; U+0085 at offset 63 puts its C2 and 85 in different blocks.
        for filler in ["x", "é"] {
            for at in 0..200 {
                let before = filler.repeat(at / filler.len());
                for (control, is_dropped) in [
                    ('\0', true),
                    ('\u{7f}', true),
                    ('\u{85}', true),
                    ('\u{a0}', false),
                    ('\n', false),
                ] {
                    let value = format!("{before}{control}{}", "y".repeat(200 - at));
                    assert_eq!(
                        has_dropped_control(&value),
                        is_dropped,
                        "{control:?} after {} bytes",
                        before.len()
                    );
                    let expected: String = value
                        .chars()
                        .filter(|c| !c.is_control() || *c == '\n')
                        .collect();
                    assert_eq!(clean(&value), Some(expected.trim().to_owned()));
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        #[test]
        fn any_ascii_title_folds_as_the_decomposing_path_folds_it(title in "[\\x00-\\x7f]{0,40}") {
            let decomposed = fold_key(title.nfkd().filter(|c| !is_combining_mark(*c)), 0);
            proptest::prop_assert_eq!(title_key(&title), decomposed);
        }

        #[test]
        fn clean_removes_exactly_the_control_characters_it_promises(value in "\\PC*|[\\x00-\\u{a0} a\u{e9}]*") {
            let filtered: String = value
                .chars()
                .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                .collect();
            let expected = Some(filtered.trim()).filter(|t| !t.is_empty()).map(str::to_owned);
            proptest::prop_assert_eq!(clean(&value), expected);
        }

        #[test]
        fn clean_owned_gives_what_clean_gives(value in "\\PC*|[\\x00-\\u{a0} a\u{e9}]*|[ \n\t]*\\PC{0,80}[ \n\t]*|[ \u{a0}\u{2003}\u{3000}a\u{e9}\u{1f389}]*") {
            let cleaned = clean_owned(value.clone());
            if let Some(text) = &cleaned {
                proptest::prop_assert_eq!(text.capacity(), text.len());
            }
            proptest::prop_assert_eq!(cleaned, clean(&value));
        }

        #[test]
        fn clean_line_gives_the_words_of_the_text_without_controls_single_spaced(value in "\\PC*|[\\x00-\\u{a0} a\u{e9}]*|[ \\x01\\x7f\\u{85}\\u{a0}\u{2003}a]*") {
            let kept: String = value.chars().filter(|c| !c.is_control() || c.is_whitespace()).collect();
            let words: Vec<&str> = kept.split_whitespace().collect();
            let expected = Some(words.join(" ")).filter(|line| !line.is_empty());
            let line = clean_line(&value);
            if let Some(line) = &line {
                proptest::prop_assert!(!line.contains("  "), "{:?}", line);
                proptest::prop_assert!(!line.chars().any(char::is_control), "{:?}", line);
            }
            proptest::prop_assert_eq!(line, expected);
        }
    }
}
