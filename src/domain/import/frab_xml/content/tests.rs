use proptest::prelude::*;

use super::*;

/// `element` with a sibling after it, so that a reader that stops short of its end tag, or
/// reads past it, is caught.
fn wrapped(element: &str) -> String {
    format!("<w>{element}<after/></w>")
}

/// The element in `wrapped` read with `read`, which must stop right after its end tag.
fn reading<'i, T>(wrapped: &'i str, read: impl FnOnce(&mut Outline<'i>, &Element<'i>) -> T) -> T {
    let mut outline = Outline::new(wrapped);
    let _root = outline.root().expect("an element");
    let Ok(Content::Element(element)) = outline.next_content() else {
        panic!("no element in {wrapped}");
    };
    let value = read(&mut outline, &element);
    assert!(
        matches!(outline.next_content(), Ok(Content::Element(e)) if e.name == "after"),
        "the reader stops right after the element's end tag: {wrapped}"
    );
    assert!(matches!(outline.next_content(), Ok(Content::End)));
    value
}

fn text_of(xml: &str) -> Result<String, String> {
    let xml = wrapped(xml);
    let mut outline = Outline::new(&xml);
    let mut element = None;
    for _ in 0..2 {
        if let Content::Element(e) = outline.next_content().map_err(|e| e.to_string())? {
            element = Some(e);
        }
    }
    let element = element.expect("an element");
    let text = text(&mut outline, &element).map_err(|e| e.to_string())?;
    assert!(
        matches!(outline.next_content(), Ok(Content::Element(e)) if e.name == "after"),
        "text stops right after the element's end tag: {xml}"
    );
    Ok(text.into_owned())
}

#[test]
fn event_fields_are_the_first_child_of_each_name() {
    let xml = "<event><title>First</title><!-- c --><title>Second</title>\
        <persons><title>nested</title><person id=\" 7 \">Ada  Lovelace</person>\
        <person>  </person><speaker>x</speaker></persons><persons><person>Later</person></persons>\
        <type>Talk</type><unknown><start>09:00</start></unknown><abstract>One</abstract>\
        <abstract>Two</abstract><description/></event>";

    let xml = wrapped(xml);
    let found = reading(&xml, EventFields::read).expect("reads");

    assert_eq!(found.title.as_deref(), Some("First"));
    assert_eq!(found.talk_type.as_deref(), Some("Talk"));
    // An element of an unknown name is stepped over with everything in it.
    assert_eq!(found.start, None);
    assert_eq!(found.abstract_text, Some(Some("One".to_owned())));
    assert_eq!(found.description, Some(None));
    let persons = found.persons.expect("persons");
    assert_eq!(
        persons.len(),
        1,
        "a blank name is no speaker, a later list is ignored"
    );
    assert_eq!(persons[0].name, "Ada Lovelace");
    assert_eq!(persons[0].source_id.as_deref(), Some("7"));
    assert!(found.url.is_none() && found.duration.is_none());
}

#[test]
fn empty_elements_are_read_without_reading_past_them() {
    let xml = wrapped("<event/>");
    let found = reading(&xml, EventFields::read).expect("reads");
    assert!(found.title.is_none() && found.persons.is_none());

    let xml = wrapped("<event><persons/><abstract/><title/><description></description></event>");
    let found = reading(&xml, EventFields::read).expect("reads");
    assert_eq!(found.persons.as_deref(), Some(&[][..]));
    assert_eq!(found.abstract_text, Some(None));
    assert_eq!(found.description, Some(None));
    assert_eq!(found.title.as_deref(), Some(""));

    for xml in ["<t/>", "<t></t>"] {
        assert_eq!(text_of(xml).as_deref(), Ok(""));
    }
}

#[test]
fn text_joins_every_piece_and_borrows_a_single_one() {
    let xml =
        "<e><one>plain &amp; simple</one><two>a<![CDATA[<b>&amp;]]>c<i>d</i>&#x41;<!-- x -->e\
        </two><none/><three>just text</three></e>";
    let xml = wrapped(xml);
    let [one, two, none, three, missing] = reading(&xml, |outline, e| {
        fields(outline, e, ["one", "two", "none", "three", "missing"])
    })
    .expect("reads");

    fn text(field: Option<Field<'_>>) -> Option<Cow<'_, str>> {
        field.map(|(_, text)| text)
    }
    assert_eq!(text(one).as_deref(), Some("plain & simple"));
    assert_eq!(text(two).as_deref(), Some("a<b>&amp;cdAe"));
    assert_eq!(text(none).as_deref(), Some(""));
    assert!(matches!(text(three), Some(Cow::Borrowed("just text"))));
    assert!(missing.is_none());
}

#[test]
fn line_ends_are_read_as_xml_reads_them() {
    assert_eq!(text_of("<t>a\r\nb\rc\n</t>").as_deref(), Ok("a\nb\nc\n"));
}

#[test]
fn a_character_xml_forbids_is_malformed_xml_however_it_is_written() {
    let cases = [
        (
            "<t>\n\nbad \u{1} text</t>",
            "line 3: malformed XML: the text holds U+0001, a character XML does not allow",
        ),
        (
            "<t>fine\u{ff0c} then \u{ffff}</t>",
            "line 1: malformed XML: the text holds U+FFFF, a character XML does not allow",
        ),
        (
            "<t><![CDATA[\u{1f}]]></t>",
            "line 1: malformed XML: the text holds U+001F, a character XML does not allow",
        ),
        (
            "<t>\n&#1;</t>",
            "line 2: malformed XML: &#1; is a character reference to no character XML allows",
        ),
        (
            "<t><x a=\"&#x1B;\"/></t>",
            "line 1: malformed XML: <x>: the value of a holds U+001B, a character XML does \
             not allow",
        ),
        (
            "<t>a ]]> b</t>",
            "line 1: malformed XML: `]]>` in text, where XML allows it only to end a CDATA \
             section",
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(text_of(xml), Err(expected.to_owned()), "{xml:?}");
    }
    assert_eq!(
        text_of("<t>tab\there\u{feff}\u{fffd}</t>").as_deref(),
        Ok("tab\there\u{feff}\u{fffd}")
    );
}

#[test]
fn references_inside_text_are_xml_s_own_only() {
    assert_eq!(
        text_of("<t>&lt;&gt;&amp;&apos;&quot;&#233;&#x1F600;</t>").as_deref(),
        Ok("<>&'\"é😀")
    );
    assert_eq!(
        text_of("<t>\n&nbsp;</t>"),
        Err("line 2: malformed XML: an unknown entity &nbsp;".to_owned())
    );
    assert_eq!(
        text_of("<t>&#0;</t>"),
        Err(
            "line 1: malformed XML: &#0; is a character reference to no character XML allows"
                .to_owned()
        )
    );
}

#[test]
fn a_lone_carriage_return_is_a_line_end_wherever_it_is() {
    // The event trees (roxmltree) kept a lone `\r` just before a reference; XML reads every
    // `\r` not followed by `\n` as a line end. A character reference is taken as written.
    assert_eq!(
        text_of("<t>a\r&amp;b\r<!-- c -->c&#13;</t>").as_deref(),
        Ok("a\n&b\nc\r")
    );
}

/// All the text an element holds, as a tree gives it: the reference `text` is held to.
fn tree_text(xml: &str) -> String {
    let doc = roxmltree::Document::parse(xml).expect("well-formed test XML");
    doc.root_element()
        .descendants()
        .filter(roxmltree::Node::is_text)
        .filter_map(|node| node.text())
        .collect()
}

fn content() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[a-z é.]{0,6}",
        Just("\r\n".to_owned()),
        Just("\n  ".to_owned()),
        Just("&amp;".to_owned()),
        Just("&lt;b&gt;".to_owned()),
        Just("&#233;&#x1F600;".to_owned()),
        Just("<![CDATA[a<b>&amp;\r\nc]]>".to_owned()),
        Just("<!-- c -->".to_owned()),
        Just("<?pi x?>".to_owned()),
        Just("<empty/>".to_owned()),
        Just("<e a=\"1\"></e>".to_owned()),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(|parts| format!("<n>{}</n>", parts.concat()))
    })
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(256))]

    #[test]
    fn text_is_what_a_tree_of_the_element_holds(parts in prop::collection::vec(content(), 0..5)) {
        let xml = format!("<t>{}</t>", parts.concat());
        prop_assert_eq!(text_of(&xml), Ok(tree_text(&xml)), "{:?}", xml);
    }
}
