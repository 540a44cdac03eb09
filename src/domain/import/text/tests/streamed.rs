//! A talk listing read as it comes, line runs at a time, against the same text read whole:
//! the same schedule, or a reason to read it whole, never anything else.

use proptest::prelude::*;

use super::*;

/// Reads `text` through [`Streamed`] in runs of lines, each `runs[i % len]` lines long.
fn streamed(text: &str, runs: &[usize]) -> Result<ImportedSchedule, &'static str> {
    let mut reader = Streamed::new();
    let mut rest = text;
    let mut k = 0;
    while !rest.is_empty() {
        let lines = runs.get(k % runs.len()).copied().unwrap_or(1).max(1);
        k += 1;
        let end = rest
            .match_indices('\n')
            .nth(lines - 1)
            .map_or(rest.len(), |(at, _)| at + 1);
        let (piece, after) = rest.split_at(end);
        reader.piece(piece);
        rest = after;
    }
    reader.finish()
}

fn is_listing(text: &str) -> bool {
    detect(&split_lines(text)) == Shape::Listing
}

/// The property every reading must hold: what is read as it comes is what the whole
/// reading gives, and a listing the whole reading reads is read as it comes.
fn reads_as_whole(text: &str, runs: &[usize]) -> Result<(), TestCaseError> {
    let whole = parse(text, &ImportOptions::default());
    match streamed(text, runs) {
        Ok(read) => prop_assert_eq!(Ok(read), whole),
        Err(why) => prop_assert!(
            !is_listing(text) || whole.is_err(),
            "a listing the whole reading reads was left to it ({why})"
        ),
    }
    Ok(())
}

#[test]
fn the_sample_listings_read_as_they_come_as_they_read_whole() {
    for (name, text) in [("fundamentals", FUNDAMENTALS), ("pybay", PYBAY)] {
        for runs in [vec![1], vec![2, 7], vec![usize::MAX]] {
            let read = streamed(text, &runs).unwrap_or_else(|why| panic!("{name}: {why}"));
            assert_eq!(read, import(text), "{name} in runs of {runs:?}");
        }
    }
    let untitled = streamed(PYBAY, &[3]).expect("pybay reads");
    assert_eq!(
        untitled.warnings,
        import(PYBAY).warnings,
        "the untitled block's warning"
    );
    assert_eq!(untitled.warnings.len(), 1);
}

#[test]
fn pages_that_are_not_listings_are_left_to_the_whole_reading() {
    for text in [PROPOSAL, NOTES, "just some words\n", ""] {
        assert_eq!(
            streamed(text, &[4]),
            Err("not a talk listing"),
            "{text:.40}"
        );
    }
    assert_eq!(
        streamed("\nWeb, Beginner\n\nDescription: x\n", &[1]),
        Err("no talk with a title"),
        "the whole reading names the untitled line"
    );
}

#[test]
fn a_footer_cuts_the_last_talk_only_when_no_anchor_follows_it() {
    let text = "Talk A\n\nAnn Lee\n\nWeb, Beginner\n\nDescription: a.\n\nPlease reload\n\n\
                More of a.\n\nTalk B\n\nBo Chen\n\nData, Advanced\n\nAbstract: b.\n\n\
                Bottom of page\n\nFollow us on social media.\n";
    let read = streamed(text, &[1]).expect("a listing");

    assert_eq!(read, import(text));
    let descriptions: Vec<_> = read.talks.iter().map(|t| t.description.clone()).collect();
    assert_eq!(
        descriptions,
        [Some("a.\n\nMore of a.".into()), None],
        "the first footer is page noise, the last ends the fields"
    );
    assert_eq!(read.talks[1].abstract_text.as_deref(), Some("b."));
}

#[test]
fn an_anchor_line_inside_a_paragraph_after_a_footer_keeps_what_follows_the_footer() {
    let text = "Talk A\n\nAnn Lee\n\nWeb, Beginner\n\nDescription: a.\n\nPlease reload\n\n\
                More text.\nData, All\n\nLast words.\n";
    let read = streamed(text, &[1]).expect("a listing");

    assert_eq!(read, import(text));
    assert_eq!(
        read.talks[0].description.as_deref(),
        Some("a.\n\nMore text.\nData, All\n\nLast words."),
        "the footer is not after the last anchor line"
    );
}

#[test]
fn noise_beside_an_anchor_is_blanked_as_the_whole_reading_blanks_it() {
    // Written, the anchor shares its paragraph with "Top of page"; blanked, it stands alone.
    let text =
        "Listing\n\nWeb, Beginner\n\nTalk A\n\nAnn Lee\nTop of page\nData, All\n\nBio: Ann.\n";
    assert_eq!(streamed(text, &[1]), Ok(import(text)));
}

#[test]
fn a_page_without_an_anchor_in_its_first_megabyte_is_left_early() {
    let mut reader = Streamed::new();
    let line = format!("{}\n\n", "words ".repeat(20));
    while !reader.failed() {
        reader.piece(&line);
    }
    assert_eq!(
        reader.finish(),
        Err("no talk listing in the first megabyte")
    );
}

/// One paragraph of a listing-like page.
fn paragraph() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["Talk A", "Rust at *scale*", "Talk A", "Ünïcode @here"]),
        3 => prop::sample::select(vec!["Ann Lee", "Bo Chen, Cy Diaz", "By Dee (http://x.y)"]),
        5 => prop::sample::select(vec!["Systems, Beginner", "Web, Intermediate", "Data, All"]),
        4 => prop::sample::select(vec![
            "Description: Short.",
            "Abstract: An abstract.",
            "Bio: Ann writes.",
            "Bio2: Bo too.",
            "Target Audience: all",
        ]),
        2 => prop::sample::select(vec!["More text.", "* a list item", "- another, Expert"]),
        2 => prop::sample::select(vec![
            "Top of page",
            "Please reload",
            "Bottom of page",
            "For talks overview, All",
        ]),
    ]
    .prop_map(str::to_owned)
}

/// What comes between two paragraphs: a line break keeps them one paragraph.
fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "\n",
        "\n\n",
        "\n\n",
        "\n\n\n",
        "\r\n\r\n",
        "\n \n\n\n",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_listing_like_page_read_as_it_comes_reads_as_it_does_whole(
        parts in proptest::collection::vec((paragraph(), separator()), 0..40),
        ending in prop::sample::select(vec!["", "\n", "\n\n"]),
        runs in proptest::collection::vec(1usize..6, 1..4),
    ) {
        let mut text: String = parts.iter().map(|(p, s)| format!("{p}{s}")).collect();
        text.push_str(ending);
        reads_as_whole(&text, &runs)?;
    }

    #[test]
    fn a_page_of_whole_talks_is_read_as_it_comes(
        talks in proptest::collection::vec(
            (paragraph(), paragraph(), proptest::collection::vec(paragraph(), 0..4), separator()),
            1..12,
        ),
        runs in proptest::collection::vec(1usize..6, 1..4),
    ) {
        let text: String = talks
            .iter()
            .map(|(title, speakers, fields, gap)| {
                format!("{title}\n\n{speakers}\n\nWeb, Beginner\n\n{}{gap}", fields.join("\n\n"))
            })
            .collect();
        prop_assert!(is_listing(&text));
        reads_as_whole(&text, &runs)?;
    }
}
