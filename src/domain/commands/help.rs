//! `/help`: what the bot does and every command.

use super::render::ephemeral;
use super::{escape_markdown, truncate, Reply};
use crate::domain::programme::Programme;

/// Answers `/help`. Ephemeral: only the asker needs it.
pub(super) fn answer(programme: &Programme) -> Reply {
    let name = truncate(&escape_markdown(&programme.conference.name), 200);
    ephemeral(format!(
        "**confbot** answers questions about the programme of {name}. Times show in your own \
         time zone.\n\
         `/talk query` — find a talk by title, speaker or topic (typos are fine); share the card \
         and click **Remind me** to be reminded before it starts.\n\
         `/next [room] [track]` — the next talk in each room.\n\
         `/now [room]` — what is on right now and how long it has left.\n\
         `/schedule [day] [room]` — a day's programme (`today`, `tomorrow`, `saturday` or \
         `2026-04-25`).\n\
         `/speaker name` — a speaker's biography and talks.\n\
         `/subscribe talk|room|track` — be reminded before a talk, or every talk of a room or \
         track; `/unsubscribe` stops it.\n\
         `/mytalks` — your subscriptions, with a calendar file of your talks.\n\
         `/remind [lead]` — how many minutes before a talk you are reminded.\n\
         `/channel channel [room]` — organisers: where a room's reminders are posted.\n\
         `/setup` — organisers: this server's conference, zone, schedule source, channels, \
         organiser role and default lead; `/sync` — re-import the schedule now; \
         `/status overview` — the sync, what is next, recent failures; `/status audit` — who \
         changed what.\n\
         `/announce` — organisers: post an announcement now, later or repeatedly, after a \
         preview; `/announcements` lists, cancels or edits them.\n\
         `/help` — this message.\n\
         Only `/talk` answers are visible to the channel; everything else is just for you."
    ))
}
