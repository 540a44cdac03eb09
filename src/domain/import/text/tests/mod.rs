//! Tests of the plain-text importer: the product owner's samples, small hand-written pages
//! for the edge cases, and property tests that no input makes it panic.

mod listings;
mod pages;
mod robustness;
mod streamed;

use super::*;
use crate::domain::model::{TalkKind, TalkStatus};

const FUNDAMENTALS: &str =
    include_str!("../../../../../tests/fixtures/seed001-listing-fundamentals.txt");
const PROPOSAL: &str = include_str!("../../../../../tests/fixtures/seed002-proposal-page.txt");
const NOTES: &str = include_str!("../../../../../tests/fixtures/seed003-talk-notes.rst");
const PYBAY: &str = include_str!("../../../../../tests/fixtures/seed004-listing-pybay.txt");

fn import(input: &str) -> ImportedSchedule {
    parse(input, &ImportOptions::default()).expect("the text imports")
}

fn talk<'a>(schedule: &'a ImportedSchedule, title: &str) -> &'a TalkData {
    schedule
        .talks
        .iter()
        .find(|t| t.title == title)
        .unwrap_or_else(|| panic!("no talk titled {title:?}"))
}

fn names(talk: &TalkData) -> Vec<&str> {
    talk.speakers.iter().map(|s| s.name.as_str()).collect()
}

fn bio<'a>(talk: &'a TalkData, name: &str) -> Option<&'a str> {
    talk.speakers
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name:?} does not speak in {:?}", talk.title))
        .biography
        .as_deref()
}

/// Every talk of a text page is an unscheduled catalogue entry.
fn assert_catalogue_entries(schedule: &ImportedSchedule) {
    assert_eq!(schedule.scope, ScheduleScope::Catalogue);
    assert_eq!(schedule.name, None);
    assert!(schedule.days.is_empty());
    for talk in &schedule.talks {
        assert_eq!(talk.slot, None, "{}", talk.title);
        assert_eq!(talk.room, None, "{}", talk.title);
        assert_eq!(talk.source_id, None, "{}", talk.title);
        assert_eq!(talk.kind, TalkKind::Talk, "{}", talk.title);
        assert_eq!(talk.status, TalkStatus::Confirmed, "{}", talk.title);
    }
}

#[test]
fn empty_input_is_refused_with_what_was_expected() {
    let err = parse("", &ImportOptions::default()).unwrap_err();

    assert_eq!(err, ImportError::msg(NO_TALK));
    assert!(err.to_string().starts_with(
        "no talk found: expected a listing (title, speaker, \"Track, Level\" line), a proposal page"
    ));
}

#[test]
fn random_garbage_is_refused_with_the_same_explanation() {
    let garbage = "\u{0}\u{7}%%%\n\n)(*&^ lorem, ipsum\n\n:::\n\u{feff}zzz";

    let err = parse(garbage, &ImportOptions::default()).unwrap_err();

    assert_eq!(err, ImportError::msg(NO_TALK));
}

#[test]
fn input_over_the_size_limit_is_refused() {
    let options = ImportOptions {
        max_bytes: 100,
        ..ImportOptions::default()
    };

    let err = parse(FUNDAMENTALS, &options).unwrap_err();

    assert_eq!(
        err,
        ImportError::TooLarge {
            size: FUNDAMENTALS.len(),
            limit: 100
        }
    );
}

#[test]
fn speaker_lines_split_on_commas_and_and_and_drop_handles() {
    assert_eq!(
        split_names("Kendall Chuang, David Clark"),
        ["Kendall Chuang", "David Clark"]
    );
    assert_eq!(
        split_names("Ann Lee and Bo Chan & Cy Dee"),
        ["Ann Lee", "Bo Chan", "Cy Dee"]
    );
    assert_eq!(split_names("Shuvam Manna (~shuvam)"), ["Shuvam Manna"]);
    assert_eq!(
        split_names("By Avery Pennarun (http://a.example/x,y and z)"),
        ["Avery Pennarun"]
    );
    assert_eq!(split_names(" , "), Vec::<String>::new());
}

#[test]
fn labels_are_short_words_before_a_colon() {
    assert_eq!(
        split_label("Bio2: David"),
        Some(("bio2".to_owned(), "David"))
    );
    assert_eq!(
        split_label("Target  Audience:Intermediate"),
        Some(("target audience".to_owned(), "Intermediate"))
    );
    assert_eq!(split_label("http://example.org"), None);
    assert_eq!(
        split_label("In 1989, Richard Gabriel: worse is better"),
        None
    );
    assert_eq!(split_label(": nothing"), None);
}
