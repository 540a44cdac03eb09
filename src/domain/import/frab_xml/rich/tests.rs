use proptest::prelude::*;
use roxmltree::{Document, Node};

use super::*;
use crate::domain::html;

/// How abstracts were first read: the elements, as a tree, written out as HTML, then parsed
/// again. Reading them from the stream must give the same text.
fn rewritten(node: Node<'_, '_>) -> String {
    fn escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }
    let mut out = String::new();
    let mut open: Vec<Node<'_, '_>> = Vec::new();
    for descendant in node.descendants().skip(1) {
        while let Some(top) = open.last() {
            if descendant.parent() == Some(*top) {
                break;
            }
            out.push_str(&format!("</{}>", top.tag_name().name()));
            open.pop();
        }
        if descendant.is_element() {
            let name = descendant.tag_name().name();
            match descendant.attribute("href") {
                Some(href) => out.push_str(&format!("<{name} href=\"{}\">", escape(href))),
                None => out.push_str(&format!("<{name}>")),
            }
            open.push(descendant);
        } else if let Some(text) = descendant.text().filter(|_| descendant.is_text()) {
            out.push_str(&escape(text));
        }
    }
    while let Some(top) = open.pop() {
        out.push_str(&format!("</{}>", top.tag_name().name()));
    }
    crate::domain::text::clean(&html::html_to_text(&out)).unwrap_or_default()
}

/// The text `read` gives of the element `xml`, which must stop right after its end tag (a
/// sibling follows it to catch one that reads past it).
fn streamed(xml: &str) -> Option<String> {
    let wrapped = format!("<w>{xml}<after/></w>");
    let mut outline = Outline::new(&wrapped);
    let _root = outline.root().expect("an element");
    let Ok(Content::Element(element)) = outline.next_content() else {
        panic!("no element in {xml}");
    };
    let text = read(&mut outline, &element).expect("well-formed test XML");
    assert!(
        matches!(outline.next_content(), Ok(Content::Element(e)) if e.name == "after"),
        "read stops right after the element's end tag: {xml}"
    );
    text
}

/// What `read` gives, and how an abstract was first read: with child elements, through the
/// HTML they make; without, as the text it holds (plain, or escaped HTML).
fn both(xml: &str) -> (String, String) {
    let doc = Document::parse(xml).expect("well-formed test XML");
    let root = doc.root_element();
    let reference = if root.children().any(|c| c.is_element()) {
        rewritten(root)
    } else {
        let text: String = root
            .descendants()
            .filter(Node::is_text)
            .filter_map(|n| n.text())
            .collect();
        fields::rich_text(&text).unwrap_or_default()
    };
    (streamed(xml).unwrap_or_default(), reference)
}

#[test]
fn abstracts_read_as_they_were_read_through_html() {
    let cases = [
        "<abstract><p>One  <b>bold</b> idea.</p><p>Second\n paragraph.</p></abstract>",
        "<abstract><ul><li>one</li><li>two <a href=' https://example.org/x '>link</a></li></ul></abstract>",
        "<abstract><p>See <a href=\"https://example.org/\">example.org</a> &amp; more &lt;tags&gt;</p></abstract>",
        "<abstract><P>Upper</P><BR/>case<Script>drop(me)</Script>kept<style>p{}</style></abstract>",
        "<abstract>a<br/><br/><br/>b<div>c</div><table><tr><td>x</td><td>y</td></tr></table></abstract>",
        "<abstract><_x href=\"q&quot;\">odd</_x><my-list><li>item</li></my-list><h2>Head</h2></abstract>",
        "<abstract><a href=\"mailto:a@b.c\">write <i>us</i></a><a>no target</a><!-- note --></abstract>",
        "<abstract>kept<script-x>dropped <b>too</b></script-x><style.a>gone</style.a>after</abstract>",
    ];
    for xml in cases {
        let (walked, reparsed) = both(xml);
        assert_eq!(walked, reparsed, "{xml}");
    }
    assert_eq!(both(cases[0]).0, "One bold idea.\n\nSecond paragraph.");
}

#[test]
fn text_without_elements_is_read_as_plain_or_escaped_html() {
    let cases = [
        ("<abstract/>", None),
        ("<abstract> \n </abstract>", None),
        (
            "<abstract>&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;</abstract>",
            Some("One\n\nTwo"),
        ),
        (
            "<abstract>\n    First\n      indented<!-- c --> line\n\n\n    Second\n  </abstract>",
            Some("First\n  indented line\n\nSecond"),
        ),
        (
            "<abstract><![CDATA[<b>bold</b>]]> text</abstract>",
            Some("bold text"),
        ),
        (
            "<abstract>lead <b>bold</b> &amp; tail</abstract>",
            Some("lead bold & tail"),
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(streamed(xml).as_deref(), expected, "{xml}");
    }
}

fn raw_in_raw(xml: &str) -> bool {
    let doc = Document::parse(xml).expect("well-formed test XML");
    let raw = |n: &Node<'_, '_>| {
        n.is_element() && is_raw_text(tag_part(&n.tag_name().name().to_ascii_lowercase()))
    };
    doc.descendants()
        .filter(raw)
        .any(|n| n.descendants().skip(1).any(|d| raw(&d)))
}

fn fragment() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[a-zA-Z .,]{0,8}",
        Just("&amp;".to_owned()),
        Just("&lt;b&gt;".to_owned()),
        Just("é東 \n\t".to_owned()),
        Just("<br/>".to_owned()),
        Just("<!-- c -->".to_owned()),
        Just("<![CDATA[a<b>\r\n]]>".to_owned()),
        Just("&#233;&#x20;\r\n".to_owned()),
        Just("<x-y/>".to_owned()),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        (
            prop::sample::select(vec![
                "p", "b", "li", "ul", "a", "div", "Script", "style", "style-x", "td", "h3", "_x",
                "x-y", "pre",
            ]),
            prop::option::of(prop::sample::select(vec![
                "https://example.org/",
                " example.org ",
                "mailto:x@y.z",
                "/rel",
                "q&quot;",
            ])),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(name, href, children)| {
                let href = href.map_or(String::new(), |h| format!(" href=\"{h}\""));
                format!("<{name}{href}>{}</{name}>", children.concat())
            })
    })
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(256))]

    #[test]
    fn any_element_content_reads_as_it_read_through_html(
        lead in prop_oneof![Just(""), Just("<p>lead</p>"), Just(" lead &amp; <![CDATA[text]]> ")],
        parts in prop::collection::vec(fragment(), 1..4)
    ) {
        let xml = format!("<abstract>{lead}{}</abstract>", parts.concat());
        // A style inside a style: the HTML reading ended the outer one at the inner end tag
        // and kept the rest as text; the stream reader drops the whole element, as a browser
        // would.
        prop_assume!(!raw_in_raw(&xml));
        let (walked, reparsed) = both(&xml);
        prop_assert_eq!(walked, reparsed, "{}", xml);
    }
}
