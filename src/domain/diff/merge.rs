//! Merging what an import states into a stored talk, and naming what changed.

use crate::domain::diff::{Field, TalkRef};
use crate::domain::model::{ScheduleScope, SpeakerData, TalkData};
use crate::domain::text::name_key;

/// A talk first seen in this import: the entry itself, unless it must be changed.
pub(super) fn new_talk(talk: &TalkData, scope: ScheduleScope) -> TalkRef<'_> {
    let placed = talk.source_id.is_some() || talk.slot.is_some() || talk.room.is_some();
    if scope == ScheduleScope::Timetable || !placed {
        return TalkRef::Borrowed(talk);
    }
    // Listings carry no schedule: they create unscheduled catalogue entries.
    let mut data = talk.clone();
    data.source_id = None;
    data.slot = None;
    data.room = None;
    TalkRef::Owned(Box::new(data))
}

/// Applies what `incoming` states onto `merged` (the current version of the talk), in place.
pub(super) fn merge(merged: &mut TalkData, incoming: &TalkData, scope: ScheduleScope) {
    fn take<T: Clone>(field: &mut Option<T>, value: &Option<T>) {
        if value.is_some() {
            field.clone_from(value);
        }
    }
    take(&mut merged.subtitle, &incoming.subtitle);
    take(&mut merged.abstract_text, &incoming.abstract_text);
    take(&mut merged.description, &incoming.description);
    take(&mut merged.track, &incoming.track);
    take(&mut merged.level, &incoming.level);
    take(&mut merged.talk_type, &incoming.talk_type);
    take(&mut merged.language, &incoming.language);
    take(&mut merged.url, &incoming.url);
    merged.speakers = merge_speakers(&merged.speakers, &incoming.speakers, scope);
    if scope == ScheduleScope::Timetable {
        // The timetable owns identity, naming and placement.
        merged.source_id.clone_from(&incoming.source_id);
        merged.title.clone_from(&incoming.title);
        take(&mut merged.room, &incoming.room);
        if incoming.slot.is_some() {
            merged.slot = incoming.slot;
        }
        merged.status = incoming.status;
        merged.kind = incoming.kind;
    }
}

/// The timetable decides who speaks; a listing only adds speakers where none are known.
/// Biographies are kept unless the incoming side states one.
fn merge_speakers(
    current: &[SpeakerData],
    incoming: &[SpeakerData],
    scope: ScheduleScope,
) -> Vec<SpeakerData> {
    let names_from_incoming =
        !incoming.is_empty() && (scope == ScheduleScope::Timetable || current.is_empty());
    // Each name is folded once (folding was most of a merge when done per comparison).
    let current_keys: Vec<String> = current.iter().map(|s| name_key(&s.name)).collect();
    let incoming_keys: Vec<String> = incoming.iter().map(|s| name_key(&s.name)).collect();
    let (base, base_keys) = if names_from_incoming {
        (incoming, &incoming_keys)
    } else {
        (current, &current_keys)
    };
    base.iter()
        .zip(base_keys)
        .map(|(speaker, key)| {
            let old = find_by_key(current, &current_keys, key);
            let new = find_by_key(incoming, &incoming_keys, key);
            SpeakerData {
                source_id: new
                    .and_then(|s| s.source_id.clone())
                    .or_else(|| old.and_then(|s| s.source_id.clone())),
                name: speaker.name.clone(),
                biography: new
                    .and_then(|s| s.biography.clone())
                    .or_else(|| old.and_then(|s| s.biography.clone())),
            }
        })
        .collect()
}

/// The first speaker of `list` whose name has the key `key` (`keys[i]` is `list[i]`'s).
fn find_by_key<'a>(list: &'a [SpeakerData], keys: &[String], key: &str) -> Option<&'a SpeakerData> {
    keys.iter().position(|k| k == key).and_then(|i| list.get(i))
}

/// The reported fields that differ between two versions of a talk.
pub fn changed_fields(before: &TalkData, after: &TalkData) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut check = |changed: bool, field: Field| {
        if changed {
            fields.push(field);
        }
    };
    check(
        before.slot.map(|s| s.start) != after.slot.map(|s| s.start),
        Field::Start,
    );
    check(
        before.slot.map(|s| s.end) != after.slot.map(|s| s.end),
        Field::End,
    );
    check(before.room != after.room, Field::Room);
    check(before.title != after.title, Field::Title);
    // Compared in place: copying every name and biography was a visible share of a re-import.
    let same_names = before
        .speakers
        .iter()
        .map(|s| &s.name)
        .eq(after.speakers.iter().map(|s| &s.name));
    check(!same_names, Field::Speakers);
    check(before.status != after.status, Field::Status);
    check(before.kind != after.kind, Field::Kind);
    check(before.subtitle != after.subtitle, Field::Subtitle);
    check(before.abstract_text != after.abstract_text, Field::Abstract);
    check(before.description != after.description, Field::Description);
    check(before.track != after.track, Field::Track);
    check(before.level != after.level, Field::Level);
    check(before.talk_type != after.talk_type, Field::Type);
    check(before.language != after.language, Field::Language);
    check(before.url != after.url, Field::Url);
    let same_bios = before
        .speakers
        .iter()
        .map(|s| &s.biography)
        .eq(after.speakers.iter().map(|s| &s.biography));
    check(same_names && !same_bios, Field::Biography);
    // A source id adopted by a catalogue entry is not a user-visible change on its own.
    fields
}
