//! Finding elements and their text in roxmltree's tree.

use std::borrow::Cow;

use roxmltree::Node;

/// The child elements an event is read from: the first of each name, as [`child`] finds it,
/// in one pass over the children (looking each up in turn was a visible share of a parse).
#[derive(Default)]
pub(super) struct EventFields<'a, 'input> {
    pub(super) title: Option<Node<'a, 'input>>,
    pub(super) subtitle: Option<Node<'a, 'input>>,
    pub(super) status: Option<Node<'a, 'input>>,
    pub(super) state: Option<Node<'a, 'input>>,
    pub(super) date: Option<Node<'a, 'input>>,
    pub(super) start: Option<Node<'a, 'input>>,
    pub(super) duration: Option<Node<'a, 'input>>,
    pub(super) talk_type: Option<Node<'a, 'input>>,
    pub(super) abstract_text: Option<Node<'a, 'input>>,
    pub(super) description: Option<Node<'a, 'input>>,
    pub(super) persons: Option<Node<'a, 'input>>,
    pub(super) track: Option<Node<'a, 'input>>,
    pub(super) language: Option<Node<'a, 'input>>,
    pub(super) room: Option<Node<'a, 'input>>,
    pub(super) url: Option<Node<'a, 'input>>,
}

impl<'a, 'input> EventFields<'a, 'input> {
    pub(super) fn of(event: Node<'a, 'input>) -> Self {
        let mut found = Self::default();
        for node in event.children().filter(Node::is_element) {
            let slot = match node.tag_name().name() {
                "title" => &mut found.title,
                "subtitle" => &mut found.subtitle,
                "status" => &mut found.status,
                "state" => &mut found.state,
                "date" => &mut found.date,
                "start" => &mut found.start,
                "duration" => &mut found.duration,
                "type" => &mut found.talk_type,
                "abstract" => &mut found.abstract_text,
                "description" => &mut found.description,
                "persons" => &mut found.persons,
                "track" => &mut found.track,
                "language" => &mut found.language,
                "room" => &mut found.room,
                "url" => &mut found.url,
                _ => continue,
            };
            slot.get_or_insert(node);
        }
        found
    }
}

/// The first child element called `name`.
pub(super) fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// All child elements called `name`.
pub(super) fn elements<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// All the text inside an element (CDATA included), tags ignored: borrowed from the document
/// when it is one piece, as nearly every field is.
pub(super) fn text_of<'a>(node: Node<'a, '_>) -> Cow<'a, str> {
    let mut pieces = node
        .descendants()
        .filter(Node::is_text)
        .filter_map(|n| n.text());
    let Some(first) = pieces.next() else {
        return Cow::Borrowed("");
    };
    match pieces.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut text = String::with_capacity(first.len() + second.len());
            text.push_str(first);
            text.push_str(second);
            text.extend(pieces);
            Cow::Owned(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_fields_are_the_first_child_of_each_name_as_child_finds_them() {
        let xml = "<event><title>First</title><!-- c --><title>Second</title>\
            <persons><title>nested</title></persons><type>Talk</type><unknown/></event>";
        let doc = roxmltree::Document::parse(xml).expect("parses");
        let event = doc.root_element();

        let found = EventFields::of(event);

        assert_eq!(found.title, child(event, "title"));
        assert_eq!(found.title.map(text_of).as_deref(), Some("First"));
        assert_eq!(found.talk_type, child(event, "type"));
        assert_eq!(found.persons, child(event, "persons"));
        assert!(found.start.is_none() && found.url.is_none());
    }

    #[test]
    fn text_of_joins_every_piece_and_borrows_a_single_one() {
        let xml = "<e><one>plain &amp; simple</one><two>a<![CDATA[<b>]]>c<i>d</i></two>\
            <none/></e>";
        let doc = roxmltree::Document::parse(xml).expect("parses");
        let e = doc.root_element();
        let of = |name| text_of(child(e, name).expect("element"));

        assert!(matches!(of("one"), Cow::Borrowed("plain & simple")));
        assert_eq!(of("two"), "a<b>cd");
        assert!(matches!(of("two"), Cow::Owned(_)));
        assert_eq!(of("none"), "");
    }
}
