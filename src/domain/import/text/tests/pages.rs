//! Proposal pages and reStructuredText notes.

use super::*;

#[test]
fn a_proposal_page_gives_title_speaker_bio_track_type_level_and_description() {
    let schedule = import(PROPOSAL);

    assert_eq!(schedule.talks.len(), 1);
    assert_catalogue_entries(&schedule);
    let talk = talk(&schedule, "The S in Python stands for Speed");
    assert_eq!(names(talk), ["Shuvam Manna"]);
    assert_eq!(talk.track.as_deref(), Some("Core Python"));
    assert_eq!(talk.talk_type.as_deref(), Some("Talks"));
    assert_eq!(talk.level.as_deref(), Some("Intermediate"));
    assert_eq!(talk.abstract_text, None);
    let bio = bio(talk, "Shuvam Manna").unwrap_or_default();
    assert!(bio.starts_with("Hi there! My name is Shuvam and I'm a Designer → Generalist"));
    assert!(bio.ends_with("an avid detractor of Pineapple on Pizzas."));
    assert_eq!(bio.lines().count(), 3);
}

#[test]
fn a_proposal_description_keeps_its_paragraphs_and_the_outline_list() {
    let schedule = import(PROPOSAL);

    let description = talk(&schedule, "The S in Python stands for Speed")
        .description
        .clone()
        .unwrap_or_default();
    let paragraphs: Vec<&str> = description.split("\n\n").collect();
    assert_eq!(paragraphs.len(), 5);
    assert!(paragraphs[0].starts_with("In January 2020 I joined a Start-up as the Fourth Engineer"));
    assert!(paragraphs[1].ends_with("But translated to shorter coffee breaks. Bummer!"));
    assert_eq!(paragraphs[2], "Basic Outline");
    assert_eq!(
        paragraphs[3].lines().take(2).collect::<Vec<_>>(),
        [
            "• Why is Python slow? [3 Min]",
            "• Comparative study of execution speeds for Node, C, Python with the N-Body \
Algorithm [2 Min]"
        ]
    );
    assert_eq!(paragraphs[3].lines().count(), 9);
    assert_eq!(
        paragraphs[4],
        "• Basic Knowledge of Python\n• Knowing the Pain of slow execution of Python"
    );
}

#[test]
fn a_proposal_whose_first_line_is_a_label_is_refused_naming_the_line() {
    let page = "\n\nSection: Web\nType: Talks\nTarget Audience: All\n";

    let err = parse(page, &ImportOptions::default()).unwrap_err();

    assert_eq!(
        err,
        ImportError::at_line(
            3,
            "expected the talk title on the first line of the proposal page, found a labelled line"
        )
    );
}

#[test]
fn a_proposal_without_a_speaker_line_starts_its_description_at_once() {
    let page = "A Talk\n\nThis talk explains things at length, with examples.\n\n\
Prerequisites:\n\nPython\n\nSection: Web\nType: Workshop\n";

    let schedule = import(page);

    let talk = talk(&schedule, "A Talk");
    assert!(talk.speakers.is_empty());
    assert_eq!(
        talk.description.as_deref(),
        Some("This talk explains things at length, with examples.\n\nPrerequisites:\nPython")
    );
    assert_eq!(talk.talk_type.as_deref(), Some("Workshop"));
    assert_eq!(talk.level, None);
}

#[test]
fn talk_notes_give_the_title_the_author_and_a_readable_description() {
    let schedule = import(NOTES);

    assert_eq!(schedule.talks.len(), 1);
    assert_catalogue_entries(&schedule);
    let talk = talk(&schedule, "Python is Only Slow If You Use it Wrong");
    assert_eq!(names(talk), ["Avery Pennarun"]);
    assert_eq!(bio(talk, "Avery Pennarun"), Some("Works at Google"));
    assert_eq!((talk.track.as_deref(), talk.level.as_deref()), (None, None));
    let description = talk.description.as_deref().unwrap_or_default();
    assert!(description.starts_with(
        "Bup\n* Written in Python\n* Backup software\n* Uses Git as a data store\n\
* 80 megs/second\n\nsshuttle\n* VPN that handles wireless speeds\n* Also in Python\n\n\
How to Use Python Wrong\n* Tight Inner Loops\n"
    ));
    assert!(description.contains(
        "\n\nWays to Make it Fast\n* Use Regex and C modules\n   * Word based instead of char \
based ~5x faster\n"
    ));
    assert!(description.ends_with(
        "   * Advice: Stay away from GC\n      * Break circular references\n      * Most \
common, trees with reference to parents\n         * Full tree need to be GC'ed\n      * Better: \
use the `weakref` module"
    ));
    assert!(!description.contains("Author") && !description.contains("==="));
    assert!(!description.contains("---"));
}

#[test]
fn notes_with_several_linked_authors_list_each_with_their_own_bio() {
    let notes = "Async Everything\n================\n\nAuthors\n-------\n\
- Ann Lee (https://ann.example)\n- Teaches at a school\n- Bo Chan (@bo)\n\nIntro\n-----\n\
Some text.\n";

    let schedule = import(notes);

    let talk = talk(&schedule, "Async Everything");
    assert_eq!(names(talk), ["Ann Lee", "Bo Chan"]);
    assert_eq!(bio(talk, "Ann Lee"), Some("Teaches at a school"));
    assert_eq!(bio(talk, "Bo Chan"), None);
    assert_eq!(talk.description.as_deref(), Some("Intro\nSome text."));
}

#[test]
fn an_author_item_before_the_linked_name_still_describes_that_speaker() {
    let notes = "=====\nTitle\n=====\n\nAuthor\n------\n  * Works at Google\n\
  * Avery Pennarun (http://twitter.com/apenwarr)\n";

    let schedule = import(notes);

    let talk = talk(&schedule, "Title");
    assert_eq!(names(talk), ["Avery Pennarun"]);
    assert_eq!(bio(talk, "Avery Pennarun"), Some("Works at Google"));
    assert_eq!(talk.description, None);
}
