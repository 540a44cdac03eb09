//! Talk listing pages: the two scraped samples and hand-written edge cases.

use std::sync::Arc;

use super::*;

const PYTHON_103_BIO: &str = "Wesley J Chun is the author of the bestselling Core Python titles \
and the Python Fundamentals Live Lessons companion video. He is coauthor of Python Web Development \
with Django (, and has written for Linux Journal, CNET, and InformIT. Wesley is an architect and \
Developer Advocate at Google.";

#[test]
fn the_fundamentals_listing_holds_sixteen_talks_in_page_order() {
    let schedule = import(FUNDAMENTALS);

    assert_eq!(schedule.talks.len(), 16);
    assert_catalogue_entries(&schedule);
    let titles: Vec<&str> = schedule.talks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(
        titles.first(),
        Some(&"Python 103: Memory Model & Best Practices")
    );
    assert_eq!(titles.get(2), Some(&"Magic Considered Harmful?"));
    assert_eq!(
        titles.last(),
        Some(&"Turnkey Distributed Tracing: OpenTracing and Python")
    );
}

#[test]
fn the_first_fundamentals_talk_has_its_speaker_track_level_texts_and_bio() {
    let schedule = import(FUNDAMENTALS);

    let talk = talk(&schedule, "Python 103: Memory Model & Best Practices");
    assert_eq!(names(talk), ["Wesley Chun"]);
    assert_eq!(bio(talk, "Wesley Chun"), Some(PYTHON_103_BIO));
    assert_eq!(talk.track.as_deref(), Some("Language Internals"));
    assert_eq!(talk.level.as_deref(), Some("Intermediate"));
    assert_eq!(talk.talk_type, None);
    assert!(talk
        .description
        .as_deref()
        .is_some_and(|d| d.starts_with("There's a growing crowd of Python users")
            && d.ends_with("not create these bugs to begin with!")));
    assert!(talk.abstract_text.as_deref().is_some_and(|a| a
        .starts_with("In \"Python 101,\" you learned basic Python syntax.")
        && a.ends_with("take your Python skills to the next level.")));
}

#[test]
fn a_talk_without_a_speaker_line_keeps_its_title_track_and_both_abstract_paragraphs() {
    let schedule = import(FUNDAMENTALS);

    let magic = talk(&schedule, "Magic Considered Harmful?");
    assert!(magic.speakers.is_empty());
    assert_eq!(magic.track.as_deref(), Some("Fundamentals"));
    assert_eq!(magic.level.as_deref(), Some("Intermediate"));
    assert_eq!(
        magic.description.as_deref(),
        Some(
            "We talk about magic tongue-in-cheek and often with a negative connotation.\u{a0} \
This talk will look to clearly define magic and answer the question of \"when is magic harmful?\""
        )
    );
    assert_eq!(
        magic.abstract_text.as_deref(),
        Some(
            "This talk will look into some libraries we use (and love!) and the magic that \
powers them.\n\nWe will look at how things like namedtuple, Django models, and the Flask request \
object are implemented. We will look at how each of these libraries encapsulates complexity. At \
the end of the talk (hopefully) we will understand more about the internals of these libraries \
and have new tools to gauge if magic should be considered harmful for yourself."
        )
    );
    // The next talk's heading is read after the abstract's second paragraph.
    let tower = talk(&schedule, "The Tower of Abstraction");
    assert_eq!(names(tower), ["Alex Martelli"]);
    assert_eq!(bio(tower, "Alex Martelli"), None);
    assert_eq!(tower.abstract_text, None);
}

#[test]
fn an_abstract_with_a_list_keeps_its_paragraphs_and_lines() {
    let schedule = import(FUNDAMENTALS);

    let talk = talk(
        &schedule,
        "Unspeakably Evil Hacks in Service of Marginally Improved Syntax: \"Compile-Time\" \
Python Programming",
    );
    assert_eq!(
        talk.abstract_text.as_deref(),
        Some(
            "In this talk, we provide an introduction to several lesser-known techniques for \
hacking extending the functionality of Python. Along the way, we consider the costs (in clarity, \
portability, or otherwise) of employing nonstandard tools to work around limitations of Python.\
\n\nTopics may include:\n- Runtime Bytecode Rewriting (\n- Hooking the Lexer with Custom \
Encodings (\n- Import Hooks (,"
        )
    );
    assert_eq!(names(talk), ["Scott Sanderson"]);
}

#[test]
fn a_description_followed_by_two_blank_lines_still_ends_at_the_abstract() {
    let schedule = import(FUNDAMENTALS);

    let pants = talk(
        &schedule,
        "Pants, or How I Learned to Stop Worrying and Love Builds",
    );
    assert!(pants
        .description
        .as_deref()
        .is_some_and(|d| d.ends_with("stand-alone executables which simplify deployment.")));
    assert_eq!(
        pants.abstract_text.as_deref(),
        Some(
            "Pants is a modern build system written in Python. It can build Python, Java, C++, \
Go and more. Twitter, Square and FourSquare use it internally, and contribute to it."
        )
    );
    assert_eq!(pants.track.as_deref(), Some("Scalable Python"));
}

#[test]
fn the_last_talk_ends_before_the_page_footer() {
    let schedule = import(FUNDAMENTALS);

    let last = talk(
        &schedule,
        "Turnkey Distributed Tracing: OpenTracing and Python",
    );
    assert_eq!(names(last), ["Ben Sigelman"]);
    assert!(bio(last, "Ben Sigelman").is_some_and(|b| b.starts_with(
        "Ben is a cofounder at \
LightStep"
    ) && b
        .ends_with("storage, analysis, and alerting system.")));
    assert_eq!(last.track.as_deref(), Some("Performant Python"));
    let abstract_text = last.abstract_text.as_deref().unwrap_or_default();
    assert_eq!(abstract_text.split("\n\n").count(), 3);
}

#[test]
fn the_pybay_listing_holds_37_talks_and_skips_the_block_without_a_title() {
    let schedule = import(PYBAY);

    assert_eq!(schedule.talks.len(), 37);
    assert_catalogue_entries(&schedule);
    let first = schedule.talks.first().expect("a first talk");
    assert_eq!(first.title, "Python 103: Memory Model & Best Practices");
    assert_eq!(bio(first, "Wesley Chun"), Some(PYTHON_103_BIO));
    let last = schedule.talks.last().expect("a last talk");
    assert_eq!(
        last.title,
        "Turnkey Distributed Tracing: OpenTracing and Python"
    );
    assert_eq!(names(last), ["Ben Sigelman"]);
    // Line 484 opens a block ("We talk about magic ...") whose title the page lost.
    assert!(schedule.talks.iter().all(|t| !t
        .description
        .as_deref()
        .unwrap_or_default()
        .starts_with("We talk about magic")));
}

#[test]
fn the_talks_around_the_untitled_block_keep_only_their_own_text() {
    let schedule = import(PYBAY);

    let before = talk(
        &schedule,
        "Building a Tic-Tac-Toe Two-Player Game using Tornado over Websockets",
    );
    assert_eq!(
        bio(before, "Ramesh Sampath"),
        Some(
            "Ramesh loves building data products that blend visualization and machine \
learning. He mostly uses Flask / Tornado to create web apps, Pandas / Scikit-learn for build \
machine learning models and D3 for visualizations."
        )
    );
    assert_eq!(before.level.as_deref(), Some("Beginner"));
    let after = talk(&schedule, "A Guide to Bad Programming");
    assert_eq!(names(after), ["Paul Bailey"]);
    assert_eq!(after.track.as_deref(), Some("/etc"));
    assert_eq!(after.level.as_deref(), Some("Advanced"));
}

#[test]
fn two_speakers_on_one_line_each_get_their_numbered_bio() {
    let schedule = import(PYBAY);

    let talk = talk(&schedule, "Log Visualization for dummies");
    assert_eq!(names(talk), ["Varang Amin", "Darlene Wong"]);
    assert_eq!(
        bio(talk, "Darlene Wong"),
        Some(
            "Darlene Wong is working as a Sr Staff Engineer at Palo Alto Networks. Before PAN, \
she worked in development role at Juniper Networks & Cisco Systems."
        )
    );
    assert!(bio(talk, "Varang Amin").is_some_and(|b| b.starts_with("Varang Amin is working")));
    assert_eq!(talk.track.as_deref(), Some("Dealing with Data"));
    assert_eq!(talk.level.as_deref(), Some("Beginner"));
}

#[test]
fn talks_listed_on_both_pages_share_their_title_keys() {
    let fundamentals = import(FUNDAMENTALS);
    let pybay = import(PYBAY);

    let pybay_keys: Vec<String> = pybay.talks.iter().map(|t| title_key(&t.title)).collect();
    let shared: Vec<&str> = fundamentals
        .talks
        .iter()
        .filter(|t| pybay_keys.contains(&title_key(&t.title)))
        .map(|t| t.title.as_str())
        .collect();
    assert_eq!(shared.len(), 15, "{shared:?}");
    assert!(!shared.contains(&"Magic Considered Harmful?"));
    assert_eq!(
        title_key(&talk(&pybay, "Python 103: Memory Model & Best Practices").title),
        "python 103 memory model best practices"
    );
    assert_eq!(
        title_key(&talk(&fundamentals, "Python 103: Memory Model & Best Practices").title),
        "python 103 memory model best practices"
    );
}

const BLOCK: &str = "Good Enough Is Good Enough\n\nAnn Lee\n\nFundamentals, All\n\n\
Description: Short.\n";
const RICHER_BLOCK: &str = "\"Good Enough\" IS Good Enough!\n\nAnn Lee and Bo Chan\n\n\
Fundamentals, All\n\nDescription: A longer description.\n\nAbstract: More.\n\nBio: Ann's bio.\n\n\
Bio2: Bo's bio.\n";

#[test]
fn a_talk_repeated_in_one_file_yields_one_talk_with_merged_fields() {
    let page = format!("{BLOCK}\n\n{RICHER_BLOCK}\n\n{BLOCK}");

    let schedule = import(&page);

    assert_eq!(schedule.talks.len(), 1);
    let talk = talk(&schedule, "Good Enough Is Good Enough");
    assert_eq!(names(talk), ["Ann Lee", "Bo Chan"]);
    assert_eq!(bio(talk, "Ann Lee"), Some("Ann's bio."));
    assert_eq!(bio(talk, "Bo Chan"), Some("Bo's bio."));
    assert_eq!(talk.description.as_deref(), Some("A longer description."));
    assert_eq!(talk.abstract_text.as_deref(), Some("More."));
    assert_eq!(talk.level.as_deref(), Some("All"));
}

#[test]
fn a_biography_repeated_on_several_talks_is_held_once() {
    let other = "Second Talk\n\nBo Chan and Ann Lee\n\nFundamentals, All\n\n\
Description: Another.\n\nBio: Bo's bio.\n\nBio2: Ann's bio.\n";
    let page = format!("{RICHER_BLOCK}\n\n{other}");

    let schedule = import(&page);

    let shared = |title: &str, name: &str| {
        talk(&schedule, title)
            .speakers
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.biography.clone())
            .unwrap_or_else(|| panic!("{name:?} has a biography in {title:?}"))
    };
    let first = "\"Good Enough\" IS Good Enough!";
    for name in ["Ann Lee", "Bo Chan"] {
        let (one, two) = (shared(first, name), shared("Second Talk", name));
        assert_eq!(one, two);
        assert!(Arc::ptr_eq(&one, &two), "{name}'s biography is one text");
    }
    assert!(!Arc::ptr_eq(
        &shared(first, "Ann Lee"),
        &shared(first, "Bo Chan")
    ));
}

#[test]
fn a_track_level_line_without_a_title_is_refused_naming_its_line() {
    let err = parse(
        "\nWeb, Beginner\n\nDescription: x\n",
        &ImportOptions::default(),
    )
    .unwrap_err();

    assert_eq!(
        err.to_string(),
        "line 2: a \"Track, Level\" line without a talk title above it"
    );
}

#[test]
fn windows_line_endings_give_the_same_talks() {
    let crlf = FUNDAMENTALS.replace('\n', "\r\n");

    assert_eq!(import(&crlf), import(FUNDAMENTALS));
}
