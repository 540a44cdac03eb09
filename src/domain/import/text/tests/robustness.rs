//! No input makes the importer panic: arbitrary text, and the samples cut short or mangled.
//! Case counts are modest; `PROPTEST_CASES` raises them.

use proptest::prelude::*;

use super::*;

const SAMPLES: [&str; 4] = [FUNDAMENTALS, PROPOSAL, NOTES, PYBAY];

/// Lines that steer the parsers into their less-travelled branches.
const TRICKY_LINES: [&str; 16] = [
    "",
    "Web, Beginner",
    "Description: d",
    "Abstract:",
    "Bio3: b",
    "Speaker Info:",
    "Section: Core",
    "Type: Talk",
    "=====",
    "-----",
    "  * item (http://x.example)",
    "Authors",
    ":author: Ann (, B",
    "Please reload",
    "  •  ",
    "é\u{a0}\u{301}\t\r",
];

/// Whatever the importer returns, it never panics and never returns an untitled talk.
fn check(input: &str) {
    if let Ok(schedule) = parse(input, &ImportOptions::default()) {
        assert!(!schedule.talks.is_empty());
        assert!(schedule.talks.iter().all(|t| !t.title.trim().is_empty()));
    }
}

/// Applies line edits (delete, duplicate, replace with a tricky line) to a sample.
fn mutate(sample: &str, edits: &[(usize, u8, usize)]) -> String {
    let mut lines: Vec<&str> = sample.split('\n').collect();
    for &(at, op, tricky) in edits {
        if lines.is_empty() {
            break;
        }
        let at = at % lines.len();
        let replacement = TRICKY_LINES[tricky % TRICKY_LINES.len()];
        match op % 3 {
            0 => {
                lines.remove(at);
            }
            1 => lines.insert(at, lines[at]),
            _ => lines[at] = replacement,
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(64))]

    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        check(&input);
    }

    #[test]
    fn text_made_of_tricky_lines_never_panics(
        picks in prop::collection::vec(0..TRICKY_LINES.len(), 0..60),
    ) {
        let input: Vec<&str> = picks.iter().map(|&i| TRICKY_LINES[i]).collect();
        check(&input.join("\n"));
    }

    #[test]
    fn truncated_samples_never_panic(sample in 0..SAMPLES.len(), cut in 0.0..1.0f64) {
        let text = SAMPLES[sample];
        let chars = text.chars().count();
        let keep = (chars as f64 * cut) as usize;
        let truncated: String = text.chars().take(keep).collect();
        check(&truncated);
    }

    #[test]
    fn mutated_samples_never_panic(
        sample in 0..SAMPLES.len(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..25),
    ) {
        check(&mutate(SAMPLES[sample], &edits));
    }
}

#[test]
fn paragraphs_are_runs_of_lines_with_the_blank_lines_before_each() {
    let lines = split_lines("\nA\n\nB\n  \nC\nD\n\n\n\nE\n\n");

    let found: Vec<(Vec<&str>, usize, usize)> = paragraphs(&lines)
        .iter()
        .map(|p| {
            let texts = p.lines.iter().map(|l| l.text).collect();
            (texts, p.blanks_before, p.first_no())
        })
        .collect();

    assert_eq!(
        found,
        [
            (vec!["A"], 1, 2),
            (vec!["B"], 1, 4),
            (vec!["C", "D"], 1, 6),
            (vec!["E"], 3, 11),
        ]
    );
}
