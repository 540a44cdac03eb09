//! `/channel channel [room]`: the organisers' room → reminder channel map, pure. The
//! adapter checks who may change it (the organiser check shared by every organiser command),
//! reads the plan to start from and stores the result.

use super::render::{self, ephemeral, name_list, quoted, Pages};
use super::subscriptions::{lead_phrase, name, push_lines};
use super::{escape_markdown, truncate, Reply, Visibility};
use crate::domain::programme::Programme;
use crate::domain::reminders::ChannelPlan;
use crate::domain::text::title_key;

/// Sets `channel` for `room` (as the programme spells it; an earlier entry for the same
/// room under another spelling is replaced), or as the default channel without a room.
/// The error lists the rooms when `room` is not one.
pub fn with_channel(
    programme: &Programme,
    mut plan: ChannelPlan,
    room: Option<&str>,
    channel: u64,
    channel_name: Option<&str>,
) -> Result<ChannelPlan, Reply> {
    match room {
        Some(typed) => {
            let Some(room) = programme.find_room(typed) else {
                return Err(unknown_rooms(programme, &[typed.to_owned()]));
            };
            let key = title_key(room);
            plan.by_room.retain(|name, _| title_key(name) != key);
            plan.by_room.insert(room.to_owned(), channel);
        }
        None => plan.default = Some(channel),
    }
    if let Some(name) = channel_name.filter(|n| !n.trim().is_empty()) {
        plan.names.insert(channel, name.to_owned());
    }
    Ok(plan)
}

/// Rooms that are not in the programme: an error listing the ones that are.
pub fn unknown_rooms(programme: &Programme, unknown: &[String]) -> Reply {
    render::fit(ephemeral(format!(
        "There is no room {} in this programme. Rooms: {}.",
        unknown
            .iter()
            .map(|r| quoted(r))
            .collect::<Vec<_>>()
            .join(", "),
        name_list(programme.rooms().iter().map(String::as_str))
    )))
}

/// The whole channel map after a change, channels as `<#id>` mentions.
pub fn channel_plan(programme: &Programme, plan: &ChannelPlan) -> Reply {
    let mut pages = Pages::default();
    pages.line(&format!(
        "**Reminder channels for {}** (posted {} each talk):",
        truncate(&escape_markdown(&programme.conference.name), 200),
        lead_phrase(plan.lead)
    ));
    let mut lines: Vec<String> = plan
        .by_room
        .iter()
        .map(|(room, channel)| format!("{} → <#{channel}>", name(room)))
        .collect();
    lines.push(match plan.default {
        Some(channel) => format!("Every other room → <#{channel}>"),
        None => "Every other room → no channel reminders".to_owned(),
    });
    push_lines(&mut pages, &lines, "… and more rooms.");
    render::fit(Reply {
        visibility: Visibility::Ephemeral,
        messages: pages.finish(),
    })
}

/// Another server following the same conference manages its reminder channels.
pub fn managed_by_another_server() -> Reply {
    ephemeral(
        "Another server following this conference manages its reminder channels, so they \
         cannot be changed from here."
            .to_owned(),
    )
}
