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
mod delta;
mod early;
mod lead;
mod plan;
mod resend;
mod simulate;
mod text;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use plan::{key, Subscribers};

use crate::domain::announcements::AnnouncementId;
use crate::domain::model::{QuestionId, TalkId};
use crate::domain::text::title_key;

pub use changes::change_notices;
pub use delivery::{decide, due_now, Decision, DropReason};
pub use delta::{plan_delta, PlanDelta};
pub use early::{early_start, EarlyStart};
pub use lead::{LeadTime, LeadTimeError};
pub use plan::{next_deadline, plan, plan_channels, plan_dms, plan_talks};
pub use resend::{possible_contents, resend, Resend};
pub use simulate::{simulate, target_label, why_nothing};
pub(crate) use text::{added, back_on, cancelled, is_web_url, moved};
pub use text::{reminder_content, starting_in, with_thread_link, PostBody, ReminderBody};

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
    /// A server (guild id): its scheduled events.
    Guild(u64),
}

/// What a post is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PostKind {
    Reminder,
    Moved,
    Cancelled,
    /// An organiser announcement (see `domain::announcements`).
    Announcement,
    /// One part of an import's public schedule update (see `domain::updates`).
    ScheduleUpdate,
    /// What a live board's message shows from a talk boundary on (see `domain::board`).
    Board,
    /// A talk's Q&A thread started on its channel reminder (see `domain::threads`).
    Thread,
    /// The archiving of a talk's thread.
    ThreadClose,
    /// A question's card in its talk's thread, posted or brought up to date (see
    /// `domain::questions`).
    Question,
    /// A talk's Discord Event created, brought up to date or cancelled (see
    /// `domain::events`).
    Event,
}

impl PostKind {
    /// The kind as stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reminder => "reminder",
            Self::Moved => "moved",
            Self::Cancelled => "cancelled",
            Self::Announcement => "announcement",
            Self::ScheduleUpdate => "schedule_update",
            Self::Board => "board",
            Self::Thread => "thread",
            Self::ThreadClose => "thread_close",
            Self::Question => "question",
            Self::Event => "event",
        }
    }
}

/// What a post is about: a talk (reminders, change notices), an announcement, an import
/// (its public schedule update; the import record's id), or a board's message (the panel's
/// id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Talk(TalkId),
    Announcement(AnnouncementId),
    Import(i64),
    Panel(i64),
    Question(QuestionId),
}

impl Subject {
    /// The talk, for posts about one.
    pub fn talk(self) -> Option<TalkId> {
        match self {
            Self::Talk(talk) => Some(talk),
            Self::Announcement(_) | Self::Import(_) | Self::Panel(_) | Self::Question(_) => None,
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
    /// occurrence's index; for a schedule update, the message part's index; for a board, a
    /// digest of the period and its text; for a question's card, the change's number.
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

#[cfg(test)]
mod tests;
