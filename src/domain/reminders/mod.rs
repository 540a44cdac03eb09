//! Reminder planning: what is posted, where, when and saying what. Pure: the programme,
//! the subscriptions and `now` come in, plain values go out; the store keeps them in an
//! outbox and the delivery loop sends them.
//!
//! - [`plan`] lists every reminder the programme calls for: one per remindable talk to its
//!   room's channel (else the default channel) at start − channel lead, and one DM per
//!   subscriber (talk, room or track subscription; several matching subscriptions still make
//!   one DM) at start − their own lead.
//! - Each post has a [`PostKey`] (target, talk, kind, schedule version). A talk's schedule
//!   version changes when it moves or is (un)cancelled, so its old reminders' keys leave the
//!   plan: the delivery layer drops pending *reminders* whose key is no longer planned, and
//!   a talk that comes back gets fresh keys and is reminded again.
//! - [`change_notices`] turns an import diff into "Moved"/"Cancelled" DMs, due at once.
//! - [`due_now`]/[`decide`] run at delivery time: the text is rendered from the true `now`
//!   ("starting in 3 minutes" after downtime) and a post is dropped once its talk started.
//! - [`simulate`] renders a window of the plan as lines for `confbot simulate`.

mod changes;
mod delivery;
mod early;
mod lead;
mod resend;
mod simulate;
mod text;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use crate::domain::announcements::AnnouncementId;
use crate::domain::model::{StoredTalk, TalkId};
use crate::domain::programme::Programme;
use crate::domain::text::title_key;

pub use changes::change_notices;
pub use delivery::{decide, due_now, Decision, DropReason};
pub use early::{early_start, EarlyStart};
pub use lead::{LeadTime, LeadTimeError};
pub use resend::{possible_contents, resend, Resend};
pub use simulate::{simulate, target_label, why_nothing};
pub use text::{reminder_content, starting_in, PostBody, ReminderBody};

/// An attendee's wish to hear about talks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subscription {
    /// The Discord user id.
    pub user: u64,
    pub target: SubscriptionTarget,
}

/// What a subscription covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubscriptionTarget {
    /// One talk.
    Talk(TalkId),
    /// Every talk in a room (matched ignoring case, accents and punctuation).
    Room(String),
    /// Every talk of a track (matched like rooms).
    Track(String),
}

/// Where a conference's channel reminders go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPlan {
    /// Room name → Discord channel id (names matched like [`SubscriptionTarget::Room`]).
    pub by_room: BTreeMap<String, u64>,
    /// The channel for talks whose room has none; `None`: no channel reminder then.
    pub default: Option<u64>,
    /// How long before the start channel reminders go out.
    pub lead: LeadTime,
    /// Channel names to show instead of ids (simulate, logs); may be empty.
    pub names: BTreeMap<u64, String>,
}

impl ChannelPlan {
    /// The channel for a talk in `room`: the room's own channel, else the default.
    pub fn channel_for(&self, room: Option<&str>) -> Option<u64> {
        let own = room.and_then(|room| {
            self.by_room.get(room).copied().or_else(|| {
                let key = title_key(room);
                self.by_room
                    .iter()
                    .find(|(name, _)| title_key(name) == key)
                    .map(|(_, id)| *id)
            })
        });
        own.or(self.default)
    }
}

/// Where a post goes. Channels order before DMs at the same instant, so a large fan-out
/// never delays the channel post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A guild channel id.
    Channel(u64),
    /// A direct message to this user id.
    Dm(u64),
}

/// What a post is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PostKind {
    Reminder,
    Moved,
    Cancelled,
    /// An organiser announcement (see `domain::announcements`).
    Announcement,
}

impl PostKind {
    /// The kind as stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reminder => "reminder",
            Self::Moved => "moved",
            Self::Cancelled => "cancelled",
            Self::Announcement => "announcement",
        }
    }
}

/// What a post is about: a talk (reminders, change notices) or an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Talk(TalkId),
    Announcement(AnnouncementId),
}

impl Subject {
    /// The talk, for posts about one.
    pub fn talk(self) -> Option<TalkId> {
        match self {
            Self::Talk(talk) => Some(talk),
            Self::Announcement(_) => None,
        }
    }
}

/// The identity of a post: the outbox's unique key. Sending is "exactly once" per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostKey {
    pub target: Target,
    pub subject: Subject,
    pub kind: PostKind,
    /// For a talk, its schedule version the post was planned from; for an announcement, the
    /// occurrence's index.
    pub schedule_version: i32,
}

/// One post the scheduler will make.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlannedPost {
    pub key: PostKey,
    /// When to send it.
    pub due: DateTime<Utc>,
    /// After this instant the post is pointless and dropped (the talk's start); `None`
    /// never expires.
    pub expires: Option<DateTime<Utc>>,
    pub body: PostBody,
}

/// Every reminder `programme` calls for, ordered by due instant, then target, talk and
/// kind. Only confirmed, scheduled talks of kind Talk (not all-day) are reminded.
pub fn plan(
    programme: &Programme,
    subscriptions: &[Subscription],
    user_leads: &HashMap<u64, LeadTime>,
    default_lead: LeadTime,
    channels: &ChannelPlan,
) -> Vec<PlannedPost> {
    let subscribers = Subscribers::new(subscriptions);
    let mut posts = Vec::new();
    for talk in programme
        .attendable()
        .filter_map(|i| programme.talks.get(i))
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
        if let Some(channel) = channels.channel_for(talk.data.room.as_deref()) {
            push(Target::Channel(channel), channels.lead);
        }
        for user in subscribers.of(talk, None) {
            let lead = user_leads.get(&user).copied().unwrap_or(default_lead);
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

fn key(target: Target, talk: &StoredTalk, kind: PostKind) -> PostKey {
    PostKey {
        target,
        subject: Subject::Talk(talk.id),
        kind,
        schedule_version: talk.schedule_version,
    }
}

/// Subscriptions indexed by what they cover; room and track names by their folded key.
struct Subscribers {
    by_talk: HashMap<TalkId, Vec<u64>>,
    by_room: HashMap<String, Vec<u64>>,
    by_track: HashMap<String, Vec<u64>>,
}

impl Subscribers {
    fn new(subscriptions: &[Subscription]) -> Self {
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
    fn of(&self, talk: &StoredTalk, also_room: Option<&str>) -> BTreeSet<u64> {
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

#[cfg(test)]
mod tests;
