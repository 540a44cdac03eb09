//! `/schedule [day] [room]`: one programme day, in time order, paged across messages.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};

use super::render::{
    day_name, ephemeral, headline, name_list, quoted, time_of_day, Pages, MAX_MESSAGES,
};
use super::{escape_markdown, truncate, Reply, Visibility};
use crate::domain::programme::Programme;
use crate::domain::text::title_key;

/// Room kept in the last message for the note saying the list goes on.
const MORE_NOTE_CHARS: usize = 120;

/// Answers `/schedule`. Ephemeral: a whole day is too noisy for the channel.
pub(super) fn answer(
    programme: &Programme,
    now: DateTime<Utc>,
    day: Option<&str>,
    room: Option<&str>,
) -> Reply {
    let days = programme.programme_days();
    if days.is_empty() {
        return ephemeral("The programme has no scheduled talks yet.".to_owned());
    }
    let date = match parse_day(programme, now, day.unwrap_or("")) {
        Ok(date) => date,
        Err(message) => return ephemeral(message),
    };
    let room = match room.map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(typed) => match programme.find_room(typed) {
            Some(room) => Some(room),
            None => {
                return ephemeral(format!(
                    "There is no room {} in this programme. Rooms: {}.",
                    quoted(typed),
                    name_list(programme.rooms().iter().map(String::as_str))
                ))
            }
        },
    };
    let in_room = room
        .map(|r| format!(" in {}", truncate(&escape_markdown(r), 100)))
        .unwrap_or_default();
    let talks: Vec<usize> = (0..programme.talks.len())
        .filter(|&i| programme.talk_day(i) == Some(date))
        .filter(|&i| {
            room.map_or(true, |r| {
                programme
                    .talks
                    .get(i)
                    .is_some_and(|t| t.data.room.as_deref() == Some(r))
            })
        })
        .collect();
    if talks.is_empty() {
        return ephemeral(format!(
            "Nothing is scheduled on {}{in_room}. Programme days: {}.",
            day_name(date),
            name_list(
                days.iter()
                    .map(|d| day_name(*d))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
            )
        ));
    }
    let mut pages = Pages::default();
    pages.line(&format!(
        "**{}: {}{in_room}**",
        truncate(&escape_markdown(&programme.conference.name), 200),
        day_name(date)
    ));
    for (shown, &index) in talks.iter().enumerate() {
        let Some(talk) = programme.talks.get(index) else {
            continue;
        };
        let Some(slot) = talk.data.slot else {
            continue;
        };
        let when = if slot.all_day {
            "All day".to_owned()
        } else {
            format!("{}–{}", time_of_day(slot.start), time_of_day(slot.end))
        };
        let place = match (&talk.data.room, room) {
            (Some(r), None) => format!(" · {}", truncate(&escape_markdown(r), 100)),
            _ => String::new(),
        };
        let line = format!("{when} {}{place}", headline(talk));
        if !pages.fits(&line, MAX_MESSAGES, MORE_NOTE_CHARS) {
            let more = talks.len() - shown;
            pages.line(&format!(
                "… and {more} more{in_room}: choose a room (`room:`) to see them all."
            ));
            break;
        }
        pages.line(&line);
    }
    Reply {
        visibility: Visibility::Ephemeral,
        messages: pages.finish(),
    }
}

/// Reads the `day` option: empty (today while the conference runs, else its first day),
/// `today`, `tomorrow`, `YYYY-MM-DD`, a weekday (`saturday`, `sat`) or a day's name as
/// autocomplete shows it ("Saturday 25 April").
pub(super) fn parse_day(
    programme: &Programme,
    now: DateTime<Utc>,
    typed: &str,
) -> Result<NaiveDate, String> {
    let days = programme.programme_days();
    let today = programme.day_of(now);
    let key = title_key(typed);
    let found = match key.as_str() {
        "" => Some(if days.contains(&today) {
            today
        } else {
            days.iter()
                .copied()
                .find(|d| *d >= today)
                .or_else(|| days.first().copied())
                .unwrap_or(today)
        }),
        "today" => Some(today),
        "tomorrow" => today.checked_add_days(Days::new(1)),
        "yesterday" => today.checked_sub_days(Days::new(1)),
        _ => NaiveDate::parse_from_str(typed.trim(), "%Y-%m-%d")
            .ok()
            .or_else(|| {
                // The coming such weekday of the programme, else its first.
                let wanted = weekday(&key)?;
                let mut same = days.iter().copied().filter(|d| d.weekday() == wanted);
                let first = same.clone().next();
                same.find(|d| *d >= today).or(first)
            })
            .or_else(|| {
                days.iter()
                    .copied()
                    .find(|d| title_key(&day_name(*d)) == key)
            }),
    };
    found.ok_or_else(|| {
        format!(
            "I don't know the day {}: use a date like {}, a weekday such as {}, `today` or \
             `tomorrow`. Programme days: {}.",
            quoted(typed),
            days.first().map_or_else(
                || "2026-04-25".to_owned(),
                |d| d.format("%Y-%m-%d").to_string()
            ),
            days.first().map_or_else(
                || "saturday".to_owned(),
                |d| d.format("%A").to_string().to_lowercase()
            ),
            name_list(
                days.iter()
                    .map(|d| day_name(*d))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
            )
        )
    })
}

fn weekday(key: &str) -> Option<Weekday> {
    const NAMES: [(&str, Weekday); 7] = [
        ("monday", Weekday::Mon),
        ("tuesday", Weekday::Tue),
        ("wednesday", Weekday::Wed),
        ("thursday", Weekday::Thu),
        ("friday", Weekday::Fri),
        ("saturday", Weekday::Sat),
        ("sunday", Weekday::Sun),
    ];
    if key.chars().count() < 3 {
        return None;
    }
    NAMES
        .iter()
        .find(|(name, _)| name.starts_with(key))
        .map(|(_, day)| *day)
}
