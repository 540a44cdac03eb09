//! Change notices: what subscribers are told when an import moves or cancels a talk.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::text::{cancelled, moved};
use super::{key, PlannedPost, PostBody, PostKind, Subscribers, Subscription, Target};
use crate::domain::diff::{DiffEntry, Field, ImportDiff};
use crate::domain::model::{StoredTalk, TalkId, TalkKind, TalkStatus};
use crate::domain::programme::Programme;

/// DMs for the talks `diff` moved (start or room changed) or cancelled, to everybody
/// subscribed to the talk, its track, its room or the room it left; due at `now`.
///
/// `programme` is the snapshot after the import (it gives the talks' new schedule
/// versions, so a talk moved twice notifies twice). Entries without a talk id, talks that
/// are not of kind Talk or are all-day, and notices about talks that already started are
/// left out. A talk that is un-cancelled gets no notice here: its new schedule version
/// puts it back in [`super::plan`] with fresh keys, so it is simply reminded again.
pub fn change_notices(
    diff: &ImportDiff,
    programme: &Programme,
    subscriptions: &[Subscription],
    now: DateTime<Utc>,
) -> Vec<PlannedPost> {
    let subscribers = Subscribers::new(subscriptions);
    let talks: HashMap<TalkId, &StoredTalk> = programme.talks.iter().map(|t| (t.id, t)).collect();
    let mut posts = Vec::new();
    for entry in diff.changed.iter().chain(&diff.cancelled) {
        let Some(talk) = entry.talk_id.and_then(|id| talks.get(&TalkId(id))) else {
            continue;
        };
        let Some((kind, content, expires)) = notice(entry, talk) else {
            continue;
        };
        if expires.is_some_and(|at| now > at) {
            continue;
        }
        let left_room = entry.before.as_ref().and_then(|b| b.room.as_deref());
        for user in subscribers.of(talk, left_room) {
            posts.push(PlannedPost {
                key: key(Target::Dm(user), talk, kind),
                due: now,
                expires,
                body: PostBody::Notice {
                    content: content.clone(),
                },
            });
        }
    }
    posts.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.key.cmp(&b.key)));
    posts
}

/// The notice one diff entry calls for: kind, text and expiry (the start it announces).
fn notice(
    entry: &DiffEntry,
    talk: &StoredTalk,
) -> Option<(PostKind, String, Option<DateTime<Utc>>)> {
    let d = &talk.data;
    if d.kind != TalkKind::Talk || d.slot.is_some_and(|s| s.all_day) {
        return None;
    }
    let before = entry.before.as_deref()?;
    let confirmed = TalkStatus::Confirmed;
    let (was_on, is_on) = (before.status == confirmed, entry.after.status == confirmed);
    if was_on && !is_on {
        let content = cancelled(&d.title, Some(before));
        return Some((PostKind::Cancelled, content, before.start));
    }
    let relocated = entry.fields.contains(&Field::Start) || entry.fields.contains(&Field::Room);
    if was_on && is_on && relocated {
        let content = moved(&d.title, before, &entry.after);
        return Some((PostKind::Moved, content, entry.after.start));
    }
    None
}
