//! A talk borrowed until the plan changes it.

use std::ops::Deref;

use crate::domain::model::TalkData;

/// A talk as an entry or a stored row states it, borrowed, until the plan changes it: then a
/// boxed copy. 16 bytes in a list, where a `Cow<TalkData>` takes the 320 of a talk held
/// inline, whichever it holds: 30 MB more for the new talks of a 100,000-talk first import.
#[derive(Debug, Clone)]
pub enum TalkRef<'a> {
    Borrowed(&'a TalkData),
    Owned(Box<TalkData>),
}

impl<'a> TalkRef<'a> {
    /// The talk, copied first if it is still borrowed.
    pub fn to_mut(&mut self) -> &mut TalkData {
        if let TalkRef::Borrowed(talk) = *self {
            *self = TalkRef::Owned(Box::new(talk.clone()));
        }
        match self {
            TalkRef::Owned(talk) => talk,
            // Made owned just above.
            TalkRef::Borrowed(_) => unreachable!("a borrowed talk was just copied"),
        }
    }

    /// The talk itself: moved out of its box, or copied.
    pub fn into_owned(self) -> TalkData {
        match self {
            TalkRef::Borrowed(talk) => talk.clone(),
            TalkRef::Owned(talk) => *talk,
        }
    }
}

impl Deref for TalkRef<'_> {
    type Target = TalkData;

    fn deref(&self) -> &TalkData {
        match self {
            TalkRef::Borrowed(talk) => talk,
            TalkRef::Owned(talk) => talk,
        }
    }
}

/// Equal when the talks are, borrowed or not (as `Cow` compares).
impl PartialEq for TalkRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl AsRef<TalkData> for TalkRef<'_> {
    fn as_ref(&self) -> &TalkData {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_talk_is_copied_once_when_changed_and_the_original_is_left_alone() {
        let stated = TalkData {
            title: "Stated".to_owned(),
            ..TalkData::default()
        };
        let mut talk = TalkRef::Borrowed(&stated);

        talk.to_mut().title = "Merged".to_owned();
        talk.to_mut().room = Some("Barn".into());

        assert_eq!(stated.title, "Stated");
        assert!(matches!(&talk, TalkRef::Owned(t) if t.title == "Merged" && t.room.is_some()));
        assert_ne!(talk, TalkRef::Borrowed(&stated));
        assert_eq!(
            TalkRef::Owned(Box::new(stated.clone())),
            TalkRef::Borrowed(&stated)
        );
        assert_eq!(talk.into_owned().title, "Merged");
        assert_eq!(std::mem::size_of::<TalkRef<'_>>(), 16);
    }
}
