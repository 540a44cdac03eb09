//! A rehearsal of the plan: every post in a window as one line of text.

use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, SecondsFormat, Utc};

use super::{decide, plan, ChannelPlan, Decision, LeadTime, Subscription, Target};
use crate::domain::programme::Programme;

/// Every post planned to be due in `window` (start included, end excluded), each rendered
/// as if sent on time: "due instant (RFC 3339 UTC) TAB target TAB text", in plan order.
/// Line breaks and tabs inside a text become spaces, so a post is exactly one line.
pub fn simulate(
    programme: &Programme,
    subscriptions: &[Subscription],
    user_leads: &HashMap<u64, LeadTime>,
    default_lead: LeadTime,
    channels: &ChannelPlan,
    window: Range<DateTime<Utc>>,
) -> Vec<String> {
    plan(programme, subscriptions, user_leads, default_lead, channels)
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

/// `channel:<name>` (or `channel:<id>` when the plan knows no name) or `dm:<user id>`.
pub fn target_label(target: Target, channels: &ChannelPlan) -> String {
    match target {
        Target::Channel(id) => match channels.names.get(&id) {
            Some(name) => format!("channel:{name}"),
            None => format!("channel:{id}"),
        },
        Target::Dm(user) => format!("dm:{user}"),
    }
}
