//! Limits every imported schedule must respect, whatever its format: field lengths and
//! dates. Applied once to each [`ImportedSchedule`] by [`super::parse`], so no parser has to
//! remember them and no over-long value ever reaches the database (where an indexed column
//! over PostgreSQL's btree row limit of 2,704 bytes fails with a raw error).
//!
//! Lengths are counted in characters. A real programme never comes near them: the longest
//! titles seen in large CCC, PyCon and FOSDEM exports are under 200 characters.
//!
//! Over-long fields that give a talk its identity or are indexed (id, title, room, track,
//! speaker name and id) are errors: cutting them would silently merge two talks, rooms or
//! people, or make a re-import match the wrong row. Over-long prose (subtitle, abstract,
//! description, biography) and labels (language, type, level) are cut with a warning: the
//! talk is still right, only shorter. An over-long URL is dropped with a warning: half a URL
//! is a wrong link, and the talk does not need one.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::ImportError;
use crate::domain::model::{ImportedSchedule, TalkData};

/// Largest talk or speaker id (iCalendar UID, guid, code): indexed, identity.
pub const MAX_ID_CHARS: usize = 500;
/// Largest title: indexed (`talks_title_key`), identity for listings without ids.
pub const MAX_TITLE_CHARS: usize = 500;
/// Largest room, track or speaker name: indexed, and what subscriptions point at.
pub const MAX_NAME_CHARS: usize = 200;
/// Largest subtitle; longer ones are cut.
pub const MAX_SUBTITLE_CHARS: usize = 1_000;
/// Largest abstract, description or biography; longer ones are cut.
pub const MAX_PROSE_CHARS: usize = 50_000;
/// Largest language, type or level label; longer ones are cut.
pub const MAX_LABEL_CHARS: usize = 100;
/// Largest URL; longer ones are dropped.
pub const MAX_URL_CHARS: usize = 4_096;
/// Largest conference name; longer ones are cut.
pub const MAX_CONFERENCE_NAME_CHARS: usize = 500;

/// The longest a timed (not all-day) item may last. A week covers a camp workshop or a
/// hackathon that runs through; a longer timed slot is nearly always a typo in a month or a
/// year (a 30-day talk), and would show up as "on now" for weeks.
pub const MAX_TIMED_DAYS: i64 = 7;
/// The longest an all-day item may last: a month holds any festival or exhibition.
pub const MAX_ALL_DAY_DAYS: i64 = 31;

/// The earliest accepted instant: the Unix epoch.
pub fn earliest() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// The latest accepted instant: the last second of 9999 (UTC). Later instants are written
/// as `+10000-…` by RFC 3339 and as 9 digits in iCalendar, which nothing reads back.
pub fn latest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// The latest end of an all-day item: the iCalendar export writes its days as
/// conference-local dates with an exclusive end date, which in a zone east of UTC can be a
/// day and a half after the UTC end; ending by 9999-12-30 00:00 UTC keeps that date in 9999.
pub fn latest_all_day_end() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 30)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc())
}

/// Checks and trims every field and slot of `schedule`. `text` is the decoded input, used only
/// to name the line of an offending talk (found by its id) where it can be; without it,
/// messages name the talk alone.
pub fn enforce(schedule: &mut ImportedSchedule, text: Option<&str>) -> Result<(), ImportError> {
    if let Some(name) = &mut schedule.name {
        if cut(name, MAX_CONFERENCE_NAME_CHARS) {
            schedule.warnings.push(format!(
                "the conference name is longer than {MAX_CONFERENCE_NAME_CHARS} characters; cut"
            ));
        }
    }
    let mut warnings = Vec::new();
    for talk in &mut schedule.talks {
        check_talk(talk, text, &mut warnings)?;
    }
    schedule.warnings.extend(warnings);
    Ok(())
}

/// How a message names a talk: its title (shortened) and id, and the line where known. The
/// line is looked up only for a message: finding every talk's id in the text would make a
/// clean import quadratic in its size. Borrowed from the talk (whose title and id are
/// checked, never cut): a copy of both for every talk was two allocations per talk read.
struct Place<'a> {
    title: &'a str,
    id: Option<&'a str>,
    text: Option<&'a str>,
}

impl Place<'_> {
    /// `talk "Title…" (id X)`, built only for a message.
    fn talk(&self) -> String {
        let title: String = self.title.chars().take(60).collect();
        let ellipsis = if self.title.chars().count() > 60 {
            "…"
        } else {
            ""
        };
        match self.id {
            Some(id) if id.chars().count() <= 80 => format!("talk {title:?}{ellipsis} (id {id})"),
            _ => format!("talk {title:?}{ellipsis}"),
        }
    }

    fn line(&self) -> Option<usize> {
        let at = self
            .id
            .filter(|id| !id.is_empty() && id.len() <= 200)
            .and_then(|id| self.text?.find(id))?;
        Some(self.text?[..at].bytes().filter(|&b| b == b'\n').count() + 1)
    }

    fn error(&self, message: String) -> ImportError {
        let message = format!("{}: {message}", self.talk());
        match self.line() {
            Some(line) => ImportError::at_line(line, message),
            None => ImportError::msg(message),
        }
    }

    fn warning(&self, message: String) -> String {
        match self.line() {
            Some(line) => format!("line {line}: {}: {message}", self.talk()),
            None => format!("{}: {message}", self.talk()),
        }
    }
}

fn check_talk(
    talk: &mut TalkData,
    text: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<(), ImportError> {
    let place = &Place {
        title: &talk.title,
        id: talk.source_id.as_deref(),
        text,
    };
    let too_long = |field: &str, value: &str, limit: usize| -> Result<(), ImportError> {
        // Bytes bound characters: only a long value needs counting.
        let length = if value.len() <= limit {
            0
        } else {
            value.chars().count()
        };
        if length > limit {
            return Err(place.error(format!(
                "the {field} is {length} characters long, over the limit of {limit}"
            )));
        }
        Ok(())
    };
    if let Some(id) = &talk.source_id {
        too_long("id", id, MAX_ID_CHARS)?;
    }
    too_long("title", &talk.title, MAX_TITLE_CHARS)?;
    for (field, value) in [("room", &talk.room), ("track", &talk.track)] {
        if let Some(value) = value {
            too_long(field, value, MAX_NAME_CHARS)?;
        }
    }
    for speaker in &talk.speakers {
        too_long("speaker name", &speaker.name, MAX_NAME_CHARS)?;
        if let Some(id) = &speaker.source_id {
            too_long("speaker id", id, MAX_ID_CHARS)?;
        }
    }

    let mut cut_with_warning = |field: &str, value: &mut Option<Box<str>>, limit: usize| {
        if let Some(text) = value {
            if cut_boxed(text, limit) {
                warnings.push(place.warning(cut_message(field, limit)));
            }
        }
    };
    cut_with_warning("subtitle", &mut talk.subtitle, MAX_SUBTITLE_CHARS);
    cut_with_warning("abstract", &mut talk.abstract_text, MAX_PROSE_CHARS);
    cut_with_warning("description", &mut talk.description, MAX_PROSE_CHARS);
    // Labels and biographies are shared with other talks (`SharedTexts`): only a cut one is
    // replaced, by a copy of what is kept.
    let mut cut_shared = |field: &str, value: &mut Option<Arc<str>>, limit: usize| {
        let Some(shared) = value else {
            return;
        };
        if let Some(kept) = cut_at(shared, limit).and_then(|at| shared.get(..at)) {
            let kept = Arc::from(kept);
            *shared = kept;
            warnings.push(place.warning(cut_message(field, limit)));
        }
    };
    cut_shared("language", &mut talk.language, MAX_LABEL_CHARS);
    cut_shared("type", &mut talk.talk_type, MAX_LABEL_CHARS);
    cut_shared("level", &mut talk.level, MAX_LABEL_CHARS);
    for speaker in &mut talk.speakers {
        cut_shared("speaker biography", &mut speaker.biography, MAX_PROSE_CHARS);
    }
    if talk
        .url
        .as_ref()
        .is_some_and(|url| url.chars().count() > MAX_URL_CHARS)
    {
        talk.url = None;
        warnings.push(place.warning(format!(
            "the URL is longer than {MAX_URL_CHARS} characters; left out"
        )));
    }
    check_slot(talk, place)
}

fn check_slot(talk: &TalkData, place: &Place) -> Result<(), ImportError> {
    let Some(slot) = talk.slot else {
        return Ok(());
    };
    let show = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    for (what, instant) in [("start", slot.start), ("end", slot.end)] {
        if instant < earliest() || instant > latest() {
            return Err(place.error(format!(
                "the {what} {} is outside the accepted years 1970 to 9999",
                show(instant)
            )));
        }
    }
    if slot.all_day && slot.end > latest_all_day_end() {
        return Err(place.error(format!(
            "the all-day item ends {}, after the last accepted day 9999-12-29",
            show(slot.end)
        )));
    }
    let (limit, kind) = if slot.all_day {
        (MAX_ALL_DAY_DAYS, "an all-day item")
    } else {
        (MAX_TIMED_DAYS, "a timed item")
    };
    if slot.end - slot.start > Duration::days(limit) {
        let days = (slot.end - slot.start).num_days();
        return Err(place.error(format!(
            "it lasts {days} days ({} to {}), longer than the {limit} days {kind} may last; \
             is a month or year mistyped?",
            show(slot.start),
            show(slot.end)
        )));
    }
    Ok(())
}

/// Cuts `text` to at most `limit` characters; says whether it cut anything.
fn cut(text: &mut String, limit: usize) -> bool {
    let at = cut_at(text, limit);
    if let Some(at) = at {
        text.truncate(at);
    }
    at.is_some()
}

/// [`cut`] of a boxed text: copied only when it is cut.
fn cut_boxed(text: &mut Box<str>, limit: usize) -> bool {
    match cut_at(text, limit).and_then(|at| text.get(..at)) {
        Some(kept) => {
            let kept = Box::from(kept);
            *text = kept;
            true
        }
        None => false,
    }
}

fn cut_message(field: &str, limit: usize) -> String {
    format!("the {field} is longer than {limit} characters; cut to {limit}")
}

/// Where `text` is cut to keep `limit` characters, if it has more.
fn cut_at(text: &str, limit: usize) -> Option<usize> {
    // No more bytes than the limit: no more characters either (the usual case, free).
    if text.len() <= limit {
        return None;
    }
    text.char_indices().nth(limit).map(|(at, _)| at)
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
