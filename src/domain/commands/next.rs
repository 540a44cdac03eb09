//! `/next [room] [track]` and `/now [room]`: what starts next and what is on, from `now`.
//! Only talks that take place count: cancelled talks, breaks and all-day entries are skipped.

use chrono::{DateTime, Utc};

use super::render::{ephemeral, headline, in_room, name_list, quoted, relative, when, Pages};
use super::{Reply, Visibility};
use crate::domain::programme::Programme;

/// A validated room/track filter.
struct Filter<'a> {
    room: Option<&'a str>,
    track: Option<&'a str>,
}

impl Filter<'_> {
    fn keeps(&self, programme: &Programme, index: usize) -> bool {
        let Some(talk) = programme.talks.get(index) else {
            return false;
        };
        self.room
            .map_or(true, |r| talk.data.room.as_deref() == Some(r))
            && self
                .track
                .map_or(true, |t| talk.data.track.as_deref() == Some(t))
    }

    /// " in Barn", " in track Web", or nothing.
    fn describe(&self) -> String {
        let mut out = String::new();
        if let Some(room) = self.room {
            out.push_str(&format!(" in {}", super::escape_markdown(room)));
        }
        if let Some(track) = self.track {
            out.push_str(&format!(" in track {}", super::escape_markdown(track)));
        }
        out
    }
}

/// Resolves the room and track options against the programme, or explains which exist.
fn filter<'a>(
    programme: &'a Programme,
    room: Option<&str>,
    track: Option<&str>,
) -> Result<Filter<'a>, Reply> {
    let given = |o: Option<&str>| {
        o.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let room = match given(room) {
        None => None,
        Some(typed) => Some(programme.find_room(&typed).ok_or_else(|| {
            ephemeral(format!(
                "There is no room {} in this programme. Rooms: {}.",
                quoted(&typed),
                name_list(programme.rooms().iter().map(String::as_str))
            ))
        })?),
    };
    let track = match given(track) {
        None => None,
        Some(typed) => Some(programme.find_track(&typed).ok_or_else(|| {
            ephemeral(format!(
                "There is no track {} in this programme. Tracks: {}.",
                quoted(&typed),
                name_list(programme.tracks().iter().map(String::as_str))
            ))
        })?),
    };
    Ok(Filter { room, track })
}

/// Answers `/next`: the next talk in each room (or the chosen room/track).
pub(super) fn next(
    programme: &Programme,
    now: DateTime<Utc>,
    room: Option<&str>,
    track: Option<&str>,
) -> Reply {
    let filter = match filter(programme, room, track) {
        Ok(filter) => filter,
        Err(reply) => return reply,
    };
    // Talks are in start order, so the first upcoming talk seen in a room is its next one.
    let mut seen_rooms: Vec<Option<&str>> = Vec::new();
    let mut lines = Pages::default();
    for index in programme
        .attendable()
        .filter(|&i| filter.keeps(programme, i))
    {
        let Some(talk) = programme.talks.get(index) else {
            continue;
        };
        let Some(slot) = talk.data.slot.filter(|s| s.start >= now) else {
            continue;
        };
        let room = talk.data.room.as_deref();
        if seen_rooms.contains(&room) {
            continue;
        }
        seen_rooms.push(room);
        lines.line(&format!(
            "{}: starts {}{} ({})",
            headline(talk),
            relative(slot.start),
            in_room(talk),
            when(slot.start, now)
        ));
    }
    if lines.len() == 0 {
        return ephemeral(nothing_ahead(
            programme,
            now,
            &filter,
            "No more talks start",
        ));
    }
    Reply {
        visibility: Visibility::Ephemeral,
        messages: lines.finish(),
    }
}

/// Answers `/now`: the talks running at `now`, with how long they have left.
pub(super) fn now(programme: &Programme, now: DateTime<Utc>, room: Option<&str>) -> Reply {
    let filter = match filter(programme, room, None) {
        Ok(filter) => filter,
        Err(reply) => return reply,
    };
    let mut lines = Pages::default();
    for index in programme
        .attendable()
        .filter(|&i| filter.keeps(programme, i))
    {
        let Some(talk) = programme.talks.get(index) else {
            continue;
        };
        let Some(slot) = talk.data.slot.filter(|s| s.start <= now && now < s.end) else {
            continue;
        };
        lines.line(&format!(
            "{}:{} now, ends {} ({})",
            headline(talk),
            in_room(talk),
            relative(slot.end),
            when(slot.end, now)
        ));
    }
    if lines.len() > 0 {
        return Reply {
            visibility: Visibility::Ephemeral,
            messages: lines.finish(),
        };
    }
    let upcoming = programme
        .attendable()
        .filter(|&i| filter.keeps(programme, i))
        .filter_map(|i| programme.talks.get(i))
        .find(|t| t.data.slot.is_some_and(|s| s.start >= now));
    let nothing = format!("Nothing is on{} right now.", filter.describe());
    match upcoming {
        Some(talk) => {
            let start = talk.data.slot.map(|s| s.start).unwrap_or(now);
            ephemeral(format!(
                "{nothing} Next: {} starts {}{} ({}).",
                headline(talk),
                relative(start),
                in_room(talk),
                when(start, now)
            ))
        }
        None => ephemeral(format!(
            "{nothing} {}",
            nothing_ahead(programme, now, &filter, "No more talks start")
        )),
    }
}

/// Why nothing is ahead: the conference (or this room) is over, with when the last talk
/// ended, or nothing is scheduled at all.
fn nothing_ahead(
    programme: &Programme,
    now: DateTime<Utc>,
    filter: &Filter<'_>,
    lead: &str,
) -> String {
    let last = programme
        .attendable()
        .filter(|&i| filter.keeps(programme, i))
        .filter_map(|i| programme.talks.get(i))
        .filter_map(|t| t.data.slot.map(|s| (s.end, t)))
        .max_by_key(|(end, _)| *end);
    let filtered = filter.room.is_some() || filter.track.is_some();
    match last {
        None if filtered => format!("No talks are scheduled{}.", filter.describe()),
        None => "No talks are scheduled yet.".to_owned(),
        Some((end, talk)) if end > now => format!(
            "{lead}{}: the last one, {}, is on now and ends {}.",
            filter.describe(),
            headline(talk),
            relative(end)
        ),
        Some((end, talk)) if filtered => format!(
            "{lead}{}: the last one, {}, ended {} ({}).",
            filter.describe(),
            headline(talk),
            relative(end),
            when(end, now)
        ),
        Some((end, talk)) => format!(
            "The conference is over: the last talk, {}{}, ended {} ({}).",
            headline(talk),
            in_room(talk),
            relative(end),
            when(end, now)
        ),
    }
}
