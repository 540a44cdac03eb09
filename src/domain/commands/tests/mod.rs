//! Command tests: exact replies on the product owner's seed, the demo conference and small
//! built programmes; limits and robustness in `robustness.rs`.

mod days;
mod lookups;
mod next;
mod robustness;
mod subscriptions;

use super::*;

/// Asserts every Discord limit on a reply.
pub(super) fn assert_within_limits(reply: &Reply) {
    assert!(
        !reply.messages.is_empty(),
        "a reply has at least one message"
    );
    assert!(reply.messages.len() <= 10);
    for message in &reply.messages {
        assert!(message.content.chars().count() <= limits::CONTENT);
        assert!(!message.content.trim().is_empty() || !message.embeds.is_empty());
        assert!(message.embeds.len() <= limits::EMBEDS_PER_MESSAGE);
        let mut total = 0;
        for embed in &message.embeds {
            assert!(embed.title.chars().count() <= limits::EMBED_TITLE);
            assert!(embed.description.chars().count() <= limits::EMBED_DESCRIPTION);
            assert!(embed.fields.len() <= limits::FIELDS);
            for field in &embed.fields {
                assert!((1..=limits::FIELD_NAME).contains(&field.name.chars().count()));
                assert!((1..=limits::FIELD_VALUE).contains(&field.value.chars().count()));
                total += field.name.chars().count() + field.value.chars().count();
            }
            total += embed.title.chars().count() + embed.description.chars().count();
            total += embed.footer.as_deref().map_or(0, |f| f.chars().count());
        }
        assert!(total <= limits::EMBED_TOTAL);
    }
}

/// The only message's content.
pub(super) fn content(reply: &Reply) -> &str {
    assert_eq!(reply.messages.len(), 1, "{reply:#?}");
    &reply.messages[0].content
}
