use super::*;

/// `xml`'s root element read with `read`, which must stop at the root's end tag.
fn reading<'i, T>(xml: &'i str, read: impl FnOnce(&mut Outline<'i>, &Element<'i>) -> T) -> T {
    let mut outline = Outline::new(xml);
    let root = outline.root().expect("an element");
    let value = read(&mut outline, &root);
    assert!(
        matches!(outline.next_content(), Ok(Content::End)),
        "the reader stops at the element's end tag: {xml}"
    );
    value
}

fn text_of(xml: &str) -> Result<String, String> {
    let mut outline = Outline::new(xml);
    let root = outline.root().map_err(|e| e.to_string())?;
    text(&mut outline, &root)
        .map(Cow::into_owned)
        .map_err(|e| e.to_string())
}

#[test]
fn event_fields_are_the_first_child_of_each_name() {
    let xml = "<event><title>First</title><!-- c --><title>Second</title>\
        <persons><title>nested</title><person id=\" 7 \">Ada  Lovelace</person>\
        <person>  </person><speaker>x</speaker></persons><persons><person>Later</person></persons>\
        <type>Talk</type><unknown><start>09:00</start></unknown><abstract>One</abstract>\
        <abstract>Two</abstract><description/></event>";

    let found = reading(xml, EventFields::read).expect("reads");

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
fn an_empty_event_has_no_fields_and_the_reader_moves_on() {
    let found = reading("<event/>", |outline, event| {
        EventFields::read(outline, event)
    })
    .expect("reads");
    assert!(found.title.is_none() && found.persons.is_none());
}

#[test]
fn text_joins_every_piece_and_borrows_a_single_one() {
    let xml =
        "<e><one>plain &amp; simple</one><two>a<![CDATA[<b>&amp;]]>c<i>d</i>&#x41;<!-- x -->e\
        </two><none/><three>just text</three></e>";
    let [one, two, none, three, missing] = reading(xml, |outline, e| {
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
