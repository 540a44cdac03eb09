//! Field readers shared by the two frab-family formats, `schedule.xml` and `schedule.json`
//! (frab defined both; pretalx and pentabarf write the same fields): clock times, durations,
//! instants, the "talk after midnight belongs to the previous day" rule, cancellation marks and
//! free text that may be HTML.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::domain::html;
use crate::domain::model::{ProgrammeDay, TalkKind, TalkStatus};
use crate::domain::text;
use crate::domain::time::local_to_utc;

/// Durations beyond this are refused: a month-long "talk" is a typo, and the cap keeps date
/// arithmetic far from chrono's limits.
const MAX_DURATION_HOURS: i64 = 31 * 24;

/// Parses a frab duration: `HH:MM`, `H:MM` or `HH:MM:SS`.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    let numbers: Vec<i64> = parts
        .iter()
        .map(|p| {
            (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    let (hours, minutes, seconds) = match numbers.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if minutes >= 60 || seconds >= 60 || hours > MAX_DURATION_HOURS {
        return None;
    }
    Some(Duration::seconds(hours * 3600 + minutes * 60 + seconds))
}

/// Parses a wall-clock time of day: `HH:MM` or `HH:MM:SS`.
pub(crate) fn parse_clock(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .ok()
}

/// Parses a calendar date `YYYY-MM-DD` within years 1900-9999 (outside that range every
/// conference date is a mistake, and it keeps arithmetic far from chrono's limits).
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=9999).contains(&d.year()))
}

/// An instant as the schedule wrote it: with its UTC offset, or (rarely) a floating local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    Offset(DateTime<FixedOffset>),
    Floating(NaiveDateTime),
}

impl Stamp {
    /// The UTC instant; a floating time is read in `zone`, and without one there is none.
    pub(crate) fn to_utc(self, zone: Option<Tz>) -> Option<DateTime<Utc>> {
        match self {
            Self::Offset(t) => Some(t.with_timezone(&Utc)),
            Self::Floating(local) => zone.map(|z| local_to_utc(&z, local)),
        }
    }

    /// The wall-clock time of day as written.
    pub(crate) fn local_time(self) -> NaiveTime {
        match self {
            Self::Offset(t) => t.time(),
            Self::Floating(local) => local.time(),
        }
    }

    /// The calendar date as written.
    pub(crate) fn local_date(self) -> NaiveDate {
        match self {
            Self::Offset(t) => t.date_naive(),
            Self::Floating(local) => local.date(),
        }
    }
}

/// A programme day from the bounds the source gives; a missing bound is derived in the
/// conference zone: the day starts at `day_start` (a clock time; midnight if unknown) on its
/// date and ends where the next calendar date's day starts. `None` without a date, or when a
/// bound is floating and no zone is known.
pub(crate) fn programme_day(
    date: Option<NaiveDate>,
    start: Option<Stamp>,
    end: Option<Stamp>,
    day_start: Option<NaiveTime>,
    zone: Option<Tz>,
) -> Option<ProgrammeDay> {
    let date = date?;
    let boundary = |d: NaiveDate| {
        let zone = zone?;
        Some(local_to_utc(
            &zone,
            d.and_time(day_start.unwrap_or(NaiveTime::MIN)),
        ))
    };
    let start = start
        .and_then(|s| s.to_utc(zone))
        .or_else(|| boundary(date))?;
    let end = end
        .and_then(|e| e.to_utc(zone))
        .or_else(|| date.succ_opt().and_then(boundary))?;
    Some(ProgrammeDay { date, start, end })
}

/// Parses an ISO 8601 date-time: RFC 3339 (`2024-02-03T09:00:00+01:00`, `...Z`), the same
/// without seconds, or without an offset (a floating local time).
pub(crate) fn parse_stamp(s: &str) -> Option<Stamp> {
    let s = s.trim();
    let with_offset = DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M%:z"))
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%:z"));
    let stamp = match with_offset {
        Ok(t) => Stamp::Offset(t),
        Err(_) => Stamp::Floating(
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
                .ok()?,
        ),
    };
    (1900..=9999)
        .contains(&stamp.local_date().year())
        .then_some(stamp)
}

/// The start of a talk that only gives its programme day and a wall-clock `start`: the day's
/// date at that time in the conference zone. A programme day runs past midnight, so a time
/// earlier than the day's own start (`day_start`, or frab's `day_change`) is on the next
/// calendar date: 01:00 listed under Saturday is Sunday 01:00.
pub(crate) fn start_from_day(
    day: NaiveDate,
    start: NaiveTime,
    day_start: Option<NaiveTime>,
    zone: Tz,
) -> Option<DateTime<Utc>> {
    let date = if day_start.is_some_and(|ds| start < ds) {
        day.succ_opt()?
    } else {
        day
    };
    Some(local_to_utc(&zone, date.and_time(start)))
}

/// Splits pentabarf's cancellation mark off a title: `CANCELLED Talk` or `Cancelled: Talk`
/// becomes (`Talk`, true). A title that merely starts with the word (`Cancelled Culture`) is
/// left alone: the mark is either upper case or followed by a colon or dash.
pub(crate) fn split_cancelled(title: &str) -> (&str, bool) {
    let trimmed = title.trim_start();
    for word in ["CANCELLED", "CANCELED"] {
        let Some(head) = trimmed.get(..word.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(word) {
            continue;
        }
        let rest = trimmed.get(word.len()..).unwrap_or_default();
        let punctuated = rest.trim_start().starts_with([':', '-', '–', '—']);
        let shouted = head == word && rest.starts_with(char::is_whitespace);
        if punctuated || shouted {
            let stripped = rest.trim_start().trim_start_matches([':', '-', '–', '—']);
            return (stripped.trim_start(), true);
        }
    }
    (title, false)
}

/// Whether a `status`/`state` value marks a cancelled talk.
pub(crate) fn is_cancelled_word(value: &str) -> bool {
    let v = value.trim();
    v.eq_ignore_ascii_case("cancelled") || v.eq_ignore_ascii_case("canceled")
}

/// The status a talk's title and status field give it.
pub(crate) fn status(title_cancelled: bool, status: Option<&str>) -> TalkStatus {
    if title_cancelled || status.is_some_and(is_cancelled_word) {
        TalkStatus::Cancelled
    } else {
        TalkStatus::Confirmed
    }
}

/// Breaks are listed in some frab schedules as events; they are shown but never reminded.
pub(crate) fn kind_for_type(talk_type: Option<&str>) -> TalkKind {
    match talk_type.map(str::trim) {
        Some(t) if t.eq_ignore_ascii_case("break") || t.eq_ignore_ascii_case("pause") => {
            TalkKind::Other
        }
        _ => TalkKind::Talk,
    }
}

/// A free-text field (abstract, description, biography) as readable text: HTML is converted,
/// anything else (plain text, Markdown) keeps its lines with trailing blanks and runs of empty
/// lines removed.
pub(crate) fn rich_text(value: &str) -> Option<String> {
    if html::looks_like_html(value) {
        return Some(html::html_to_text(value)).filter(|text| !text.is_empty());
    }
    let mut out = String::with_capacity(value.len());
    let mut blank_run = 0;
    for line in value.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    text::clean_owned(dedent(out))
}

/// Removes the indentation every line shares (pretty-printed XML indents element text). Text
/// with none is handed back as it is: rebuilt, every plain free text was copied once more
/// (joined again from a list of its lines) for nothing.
fn dedent(s: String) -> String {
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    if indent == 0 {
        return s;
    }
    s.lines()
        .map(|l| l.get(indent..).unwrap_or_else(|| l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A link worth showing: an absolute http(s) URL, cleaned. Anything else (`javascript:`, a
/// relative path) is dropped.
pub(crate) fn web_url(value: &str) -> Option<String> {
    let url = text::clean_line(value)?;
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

/// Keeps input quoted in error messages short and free of control characters.
pub(crate) fn shorten(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// [`shorten`] for a name shown as it is (not `{:?}`-quoted): its control characters are
/// escaped (`\u{1}`) rather than dropped, which would hide what is wrong with it.
pub(crate) fn shorten_escaped(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(60) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_the_three_frab_spellings() {
        assert_eq!(parse_duration("00:25"), Some(Duration::minutes(25)));
        assert_eq!(parse_duration("1:30"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("01:00:30"), Some(Duration::seconds(3630)));
        for bad in [
            "", "25", "00:61", "ab:cd", "1:2:3:4", "-1:00", "+1:00", "99999:00",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cancellation_marks_are_stripped_but_ordinary_titles_are_not() {
        assert_eq!(
            split_cancelled("CANCELLED Rust in space"),
            ("Rust in space", true)
        );
        assert_eq!(
            split_cancelled("Cancelled: Rust in space"),
            ("Rust in space", true)
        );
        assert_eq!(split_cancelled("canceled - Rust"), ("Rust", true));
        assert_eq!(
            split_cancelled("Cancelled Culture online"),
            ("Cancelled Culture online", false)
        );
        assert_eq!(split_cancelled("CANCELLEDX"), ("CANCELLEDX", false));
        assert_eq!(split_cancelled("Ünïcode"), ("Ünïcode", false));
    }

    #[test]
    fn indented_plain_text_is_dedented_and_blank_runs_collapse() {
        let value = "\n      First line\n        indented\n\n\n      Second\n    ";
        assert_eq!(
            rich_text(value).as_deref(),
            Some("First line\n  indented\n\nSecond")
        );
    }

    #[test]
    fn only_web_urls_are_kept() {
        assert_eq!(
            web_url(" https://x.org/a "),
            Some("https://x.org/a".to_owned())
        );
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("/talk/1"), None);
    }
}
