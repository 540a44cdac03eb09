//! The reminder plan, whole or in parts. [`plan`] is the reference: every reminder of a
//! conference. The parts exist so that a change costs what it touches, not the whole
//! conference: [`plan_dms`] is some attendees' DMs (a subscription or lead change),
//! [`plan_talks`] every post of some talks (the talks an import changed), [`plan_channels`]
//! the room channels' posts. Each part is exactly the matching subset of [`plan`], which
//! the tests check on random inputs; the store retires what a part no longer calls for
//! within the same scope.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::domain::model::{StoredTalk, TalkId};
use crate::domain::programme::Programme;
use crate::domain::text::title_key;

use super::{
    ChannelPlan, LeadTime, PlannedPost, PostBody, PostKey, PostKind, ReminderBody, Subject,
    Subscription, SubscriptionTarget, Target,
};

/// Every reminder `programme` calls for, ordered by due instant, then target, talk and
/// kind. Only confirmed, scheduled talks of kind Talk (not all-day) are reminded.
pub fn plan(
    programme: &Programme,
    subscriptions: &[Subscription],
    user_leads: &HashMap<u64, LeadTime>,
    default_lead: LeadTime,
    channels: &ChannelPlan,
) -> Vec<PlannedPost> {
    let leads = Leads {
        of_user: user_leads,
        default: default_lead,
    };
    plan_where(programme, subscriptions, leads, Some(channels), |_| true)
}

/// The posts of [`plan`] about the talks in `talks` (channel posts and DMs).
pub fn plan_talks(
    programme: &Programme,
    subscriptions: &[Subscription],
    user_leads: &HashMap<u64, LeadTime>,
    default_lead: LeadTime,
    channels: &ChannelPlan,
    talks: &BTreeSet<TalkId>,
) -> Vec<PlannedPost> {
    let leads = Leads {
        of_user: user_leads,
        default: default_lead,
    };
    plan_where(programme, subscriptions, leads, Some(channels), |talk| {
        talks.contains(&talk.id)
    })
}

/// The posts of [`plan`] to the DMs of the users `subscriptions` belong to (each user's
/// lead time from `user_leads`, else `default_lead`): a subscription or lead change
/// replans only its user.
pub fn plan_dms(
    programme: &Programme,
    subscriptions: &[Subscription],
    user_leads: &HashMap<u64, LeadTime>,
    default_lead: LeadTime,
) -> Vec<PlannedPost> {
    let leads = Leads {
        of_user: user_leads,
        default: default_lead,
    };
    plan_where(programme, subscriptions, leads, None, |_| true)
}

/// The posts of [`plan`] to channels.
pub fn plan_channels(programme: &Programme, channels: &ChannelPlan) -> Vec<PlannedPost> {
    let no_leads = HashMap::new();
    let leads = Leads {
        of_user: &no_leads,
        default: channels.lead,
    };
    plan_where(programme, &[], leads, Some(channels), |_| true)
}

#[derive(Clone, Copy)]
struct Leads<'a> {
    of_user: &'a HashMap<u64, LeadTime>,
    default: LeadTime,
}

/// The plan of the talks `wanted` accepts; no channel posts without `channels`.
fn plan_where(
    programme: &Programme,
    subscriptions: &[Subscription],
    leads: Leads<'_>,
    channels: Option<&ChannelPlan>,
    wanted: impl Fn(&StoredTalk) -> bool,
) -> Vec<PlannedPost> {
    let subscribers = Subscribers::new(subscriptions);
    let mut posts = Vec::new();
    for talk in programme
        .attendable()
        .filter_map(|i| programme.talks.get(i))
        .filter(|talk| wanted(talk))
    {
        let Some(body) = ReminderBody::of(talk) else {
            continue;
        };
        let mut push = |target: Target, lead: LeadTime| {
            // An instant too close to chrono's limits to subtract from is no real talk.
            if let Some(due) = body.start.checked_sub_signed(lead.duration()) {
                posts.push(PlannedPost {
                    key: key(target, talk, PostKind::Reminder),
                    due,
                    expires: Some(body.start),
                    body: PostBody::Reminder(body.clone()),
                });
            }
        };
        let channel = channels.and_then(|plan| {
            plan.channel_for(talk.data.room.as_deref())
                .map(|id| (id, plan.lead))
        });
        if let Some((channel, lead)) = channel {
            push(Target::Channel(channel), lead);
        }
        for user in subscribers.of(talk, None) {
            let lead = leads.of_user.get(&user).copied().unwrap_or(leads.default);
            push(Target::Dm(user), lead);
        }
    }
    posts.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.key.cmp(&b.key)));
    posts
}

/// The earliest due instant at or after `now`: how long the delivery loop may sleep.
pub fn next_deadline(planned: &[PlannedPost], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    planned
        .iter()
        .map(|p| p.due)
        .filter(|due| *due >= now)
        .min()
}

pub(super) fn key(target: Target, talk: &StoredTalk, kind: PostKind) -> PostKey {
    PostKey {
        target,
        subject: Subject::Talk(talk.id),
        kind,
        schedule_version: talk.schedule_version,
    }
}

/// Subscriptions indexed by what they cover; room and track names by their folded key.
pub(super) struct Subscribers {
    by_talk: HashMap<TalkId, Vec<u64>>,
    by_room: HashMap<String, Vec<u64>>,
    by_track: HashMap<String, Vec<u64>>,
}

impl Subscribers {
    pub(super) fn new(subscriptions: &[Subscription]) -> Self {
        let mut index = Self {
            by_talk: HashMap::new(),
            by_room: HashMap::new(),
            by_track: HashMap::new(),
        };
        for s in subscriptions {
            let list = match &s.target {
                SubscriptionTarget::Talk(id) => index.by_talk.entry(*id).or_default(),
                SubscriptionTarget::Room(r) => index.by_room.entry(title_key(r)).or_default(),
                SubscriptionTarget::Track(t) => index.by_track.entry(title_key(t)).or_default(),
            };
            list.push(s.user);
        }
        index
    }

    /// Everybody subscribed to `talk`, its room or its track (and to `also_room`, e.g. the
    /// room a talk moved away from), each once, by user id.
    pub(super) fn of(&self, talk: &StoredTalk, also_room: Option<&str>) -> BTreeSet<u64> {
        let d = &talk.data;
        let folded = |name: Option<&str>| name.map(title_key).filter(|k| !k.is_empty());
        let rooms = [folded(d.room.as_deref()), folded(also_room)];
        let lists = [self.by_talk.get(&talk.id)]
            .into_iter()
            .chain(rooms.iter().flatten().map(|r| self.by_room.get(r)))
            .chain(folded(d.track.as_deref()).map(|t| self.by_track.get(&t)));
        lists.flatten().flatten().copied().collect()
    }
}
