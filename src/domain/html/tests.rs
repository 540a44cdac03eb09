use super::*;
use proptest::prelude::*;

#[test]
fn paragraphs_are_separated_by_a_blank_line() {
    let html = "<p>AnyConf welcome.</p>\n   <p>Second   paragraph\nwraps.</p>";
    assert_eq!(
        html_to_text(html),
        "AnyConf welcome.\n\nSecond paragraph wraps."
    );
}

#[test]
fn line_breaks_and_divs_start_new_lines() {
    assert_eq!(html_to_text("one<br>two<br/>three"), "one\ntwo\nthree");
    assert_eq!(html_to_text("a<br><br><br>b"), "a\n\nb");
    assert_eq!(html_to_text("<div>a</div><div>b</div>"), "a\nb");
    assert_eq!(html_to_text("<h2>Title</h2>Body"), "Title\n\nBody");
}

#[test]
fn list_items_get_bullets() {
    let html = "<p>You will learn:</p><ul><li>ownership</li><li> lifetimes </li></ul>";
    assert_eq!(
        html_to_text(html),
        "You will learn:\n\n• ownership\n• lifetimes"
    );
}

#[test]
fn links_keep_their_text_and_show_a_different_url() {
    let html = r#"See <a href="https://example.com/slides">the slides</a> or <a href='https://example.com/'>example.com</a>."#;
    assert_eq!(
        html_to_text(html),
        "See the slides (https://example.com/slides) or example.com."
    );
}

#[test]
fn relative_and_script_links_show_only_their_text() {
    let html = r#"<a href="/talk/12">talk</a> and <a href="javascript:alert(1)">this</a>"#;
    assert_eq!(html_to_text(html), "talk and this");
}

#[test]
fn scripts_and_styles_are_dropped_with_their_content() {
    let html =
        "before<script>if (a < b) { alert('</p>') }</script><STYLE>p{color:red}</STYLE>after";
    assert_eq!(html_to_text(html), "beforeafter");
    assert_eq!(html_to_text("x<script>never closed"), "x");
}

#[test]
fn comments_and_doctypes_disappear() {
    assert_eq!(
        html_to_text("<!DOCTYPE html>a<!-- <p>hidden</p> -->b"),
        "ab"
    );
}

#[test]
fn entities_are_decoded_once() {
    assert_eq!(
        html_to_text("Tom &amp; Jerry &lt;3 &#233;t&#xE9; &amp;lt; &nbsp;&quot;x&quot; &apos;"),
        "Tom & Jerry <3 été &lt; \"x\" '"
    );
}

#[test]
fn unknown_and_malformed_entities_stay_as_written() {
    assert_eq!(
        html_to_text("AT&T &bogus; &#xZZ; &#; &#0;"),
        "AT&T &bogus; &#xZZ; &#; \u{FFFD}"
    );
}

#[test]
fn a_less_than_sign_in_text_is_kept() {
    assert_eq!(
        html_to_text("if a < b and c<3 then"),
        "if a < b and c<3 then"
    );
    assert_eq!(html_to_text("x <b unclosed"), "x <b unclosed");
}

#[test]
fn unknown_tags_are_stripped_and_quoted_brackets_do_not_end_a_tag() {
    let html = r#"<span class="a>b">kept</span> <custom-tag>also</custom-tag>"#;
    assert_eq!(html_to_text(html), "kept also");
}

#[test]
fn multibyte_text_survives_around_tags() {
    let html = "<p>Grüße, 東京 🎉</p><p>naïve—done</p>";
    assert_eq!(html_to_text(html), "Grüße, 東京 🎉\n\nnaïve—done");
}

#[test]
fn control_characters_are_removed() {
    assert_eq!(html_to_text("a\u{7}b&#7;c"), "abc");
}

#[test]
fn html_is_recognised_and_markdown_is_not() {
    assert!(looks_like_html("<p>Hello</p>"));
    assert!(looks_like_html("line<br/>break"));
    assert!(looks_like_html("<A HREF=\"x\">y</A>"));
    assert!(looks_like_html("Fish &amp; chips"));
    assert!(!looks_like_html(
        "# Heading\n\n*Use* `Vec<T>` and Option<String>."
    ));
    assert!(!looks_like_html("a < b & c > d"));
    assert!(!looks_like_html(""));
}

#[test]
fn unicode_white_space_separates_words_as_ascii_white_space_does() {
    assert_eq!(
        html_to_text("a\u{b}b\u{85}c\u{a0}d\u{3000}e\u{1c}f"),
        // U+001C is a control character, not white space: dropped, not a separator.
        "a b c d ef"
    );
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(256))]

    #[test]
    fn any_input_converts_without_panicking(s in "\\PC*") {
        let text = html_to_text(&s);
        let _ = looks_like_html(&s);
        prop_assert!(!text.starts_with(char::is_whitespace));
    }

    #[test]
    fn plain_text_becomes_its_words_with_one_space_between(s in "[ \t\n\r\x0b\x0c\x00\x01\x1c-\x1fa-z]*|\\PC*|[ a\u{a0}\u{85}\u{2003}\u{e9}\u{3000}\u{1f389}]*") {
        let plain = s.replace(['<', '&'], "");
        let words = plain.split_whitespace().collect::<Vec<_>>().join(" ");
        prop_assert_eq!(html_to_text(&plain), crate::domain::text::clean(&words).unwrap_or_default());
    }

    #[test]
    fn tag_soup_converts_without_panicking(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("<p>".to_owned()), Just("</p>".to_owned()), Just("<a href=\"".to_owned()),
                Just("\">".to_owned()), Just("</a>".to_owned()), Just("<script>".to_owned()),
                Just("<!--".to_owned()), Just("&#x".to_owned()), Just("&amp".to_owned()),
                Just(";".to_owned()), Just("<li>".to_owned()), Just("é東🎉".to_owned()),
                Just("<".to_owned()), Just(">".to_owned()), Just("'".to_owned()),
                "[a-z ]{0,5}",
            ],
            0..40,
        )
    ) {
        let html = parts.concat();
        let _ = html_to_text(&html);
        let _ = looks_like_html(&html);
    }
}

#[test]
fn a_tag_broken_by_a_new_tag_is_kept_as_text() {
    assert_eq!(html_to_text("a <b c<i>d</i>"), "a <b cd");
    assert_eq!(html_to_text(r#"<a href="x>y">z</a>"#), "z");
}

#[test]
fn hostile_unterminated_tags_are_handled_in_linear_time() {
    let hostile = "<a \"".repeat(200_000);

    let started = std::time::Instant::now();
    let text = html_to_text(&hostile);

    assert!(text.starts_with("<a \""), "{}", &text[..20]);
    // Quadratic behaviour took seconds here; linear takes milliseconds even unoptimised.
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn tag_names_are_recognised_in_any_case() {
    assert!(looks_like_html("Intro<BR>more"));
    assert!(looks_like_html("<Ul><LI>one</LI></Ul>"));
    assert!(!looks_like_html("Vec<Item> and Box<Dyn> are not markup"));
}
