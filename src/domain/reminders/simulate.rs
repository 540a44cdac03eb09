//! A rehearsal of the plan: every post in a window as one line of text.

use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, SecondsFormat, Utc};

use super::{decide, plan, ChannelPlan, Decision, LeadTime, PlannedPost, Subscription, Target};
use crate::domain::programme::Programme;

/// Every post planned to be due in `window` (start included, end excluded), each rendered
/// as if sent on time: "due instant (RFC 3339 UTC) TAB target TAB text", in plan order.
/// Line breaks and tabs inside a text become spaces, so a post is exactly one line.
/// `others` are posts the reminder plan does not make (an import's schedule updates waiting in
/// the outbox, the boards' edits): they are listed among the reminders at their due instants.
pub fn simulate(
    programme: &Programme,
    subscriptions: &[Subscription],
    user_leads: &HashMap<u64, LeadTime>,
    default_lead: LeadTime,
    channels: &ChannelPlan,
    others: &[PlannedPost],
    window: Range<DateTime<Utc>>,
) -> Vec<String> {
    let mut posts = plan(programme, subscriptions, user_leads, default_lead, channels);
    posts.extend(others.iter().cloned());
    // Stable: the plan's own order among posts due together.
    posts.sort_by_key(|post| post.due);
    posts
        .into_iter()
        .filter(|post| window.contains(&post.due))
        .filter_map(|post| {
            let text = match decide(&post, post.due) {
                Decision::Send(message) => message.content,
                // A post due after its talk started is never sent; nothing to rehearse.
                Decision::Drop(_) => return None,
            };
            let text: String = text
                .chars()
                .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
                .collect();
            Some(format!(
                "{}\t{}\t{}",
                post.due.to_rfc3339_opts(SecondsFormat::Secs, true),
                target_label(post.key.target, channels),
                text
            ))
        })
        .collect()
}

/// Why [`simulate`] found nothing to post in `window`, for the person who asked: each reason
/// that holds (no channel map, no subscriptions, no talks starting in the window), or, when
/// none does, that the reminders fall outside the window.
pub fn why_nothing(
    programme: &Programme,
    subscriptions: &[Subscription],
    channels: &ChannelPlan,
    window: Range<DateTime<Utc>>,
) -> String {
    let mut reasons = Vec::new();
    if channels.by_room.is_empty() && channels.default.is_none() {
        reasons.push("this conference has no channel map (`/channel` sets one)".to_owned());
    }
    if subscriptions.is_empty() {
        reasons.push("nobody has subscribed to anything".to_owned());
    }
    let starting = programme
        .talks
        .iter()
        .filter(|talk| talk.data.slot.is_some_and(|s| window.contains(&s.start)))
        .count();
    if starting == 0 {
        reasons.push("no talk starts in the window".to_owned());
    }
    let reasons = if reasons.is_empty() {
        "every reminder falls before or after the window".to_owned()
    } else {
        reasons.join("; ")
    };
    format!(
        "Nothing would be posted between {} and {}: {reasons}.",
        window.start.to_rfc3339_opts(SecondsFormat::Secs, true),
        window.end.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// `channel:<name>` (or `channel:<id>` when the plan knows no name) or `dm:<user id>`.
pub fn target_label(target: Target, channels: &ChannelPlan) -> String {
    match target {
        Target::Channel(id) => match channels.names.get(&id) {
            Some(name) => format!("channel:{name}"),
            None => format!("channel:{id}"),
        },
        Target::Dm(user) => format!("dm:{user}"),
        Target::Guild(guild) => format!("events:{guild}"),
    }
}
