//! A schedule.json's rooms: the names attendees know them by.

use std::collections::HashMap;
use std::sync::Arc;

use super::wire::RoomInfo;
use crate::domain::text::clean_line;

/// Room names as attendees know them. FOSDEM-style exports name rooms by slug (`janson`,
/// `j1106`) and put the sign on the door in `description` (`Janson`, `J.1.106`); pretalx names
/// rooms properly and uses `description` for directions ("Take the stairs..."). So the
/// description wins only over a slug-like name, and only when it is a short single line.
pub(super) fn room_display_names(rooms: &[RoomInfo]) -> HashMap<String, Arc<str>> {
    rooms
        .iter()
        .filter_map(|room| {
            let name = room.name.as_deref().map(str::trim)?;
            let slug_like = name.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
            });
            let description = room
                .description
                .as_deref()
                .filter(|d| !d.contains('\n') && d.chars().count() <= 60)
                .and_then(clean_line);
            let display = match description {
                Some(d) if slug_like => d,
                _ => clean_line(name)?,
            };
            Some((name.to_owned(), Arc::from(display)))
        })
        .collect()
}
