//! When an announcement goes out, as organisers type it: `now`, `14:30` (today, or tomorrow
//! when that time has passed), `tomorrow 09:00`, `2026-04-25 14:30`, all in the conference's
//! zone, or an RFC 3339 instant. A time in a DST gap or overlap follows RFC 5545, like every
//! local time confbot reads.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::domain::time::local_to_utc;

/// Why a time was refused; safe to show to the organiser who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    #[error(
        "{0:?} is not a time: write now, 14:30, tomorrow 09:00, 2026-04-25 14:30 or an RFC 3339 instant"
    )]
    Unreadable(String),
    #[error("{0} is in the past")]
    InThePast(String),
}

/// The instant `text` names in `zone`, seen at `now`. Instants before `now` are refused
/// (a minute of slack for "now"-ish times typed just before the minute turned).
pub fn parse_when(text: &str, zone: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, WhenError> {
    let trimmed = text.trim();
    let shown: String = trimmed.chars().take(60).collect();
    let unreadable = || WhenError::Unreadable(shown.clone());
    let lower = trimmed.to_ascii_lowercase();
    let today = now.with_timezone(&zone).date_naive();
    let instant = if lower.is_empty() || lower == "now" {
        return Ok(now);
    } else if let Ok(instant) = DateTime::parse_from_rfc3339(trimmed) {
        instant.with_timezone(&Utc)
    } else if let Some(rest) = lower.strip_prefix("tomorrow") {
        let (hour, minute) =
            parse_clock(rest.trim().trim_start_matches("at").trim()).ok_or_else(unreadable)?;
        let date = today.succ_opt().ok_or_else(unreadable)?;
        local(zone, date, hour, minute).ok_or_else(unreadable)?
    } else if let Some((hour, minute)) = parse_clock(&lower) {
        let at = local(zone, today, hour, minute).ok_or_else(unreadable)?;
        if at < now - Duration::minutes(1) {
            let date = today.succ_opt().ok_or_else(unreadable)?;
            local(zone, date, hour, minute).ok_or_else(unreadable)?
        } else {
            at
        }
    } else {
        let (date, time) = lower.split_once([' ', 't']).ok_or_else(unreadable)?;
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| unreadable())?;
        let (hour, minute) = parse_clock(time.trim()).ok_or_else(unreadable)?;
        local(zone, date, hour, minute).ok_or_else(unreadable)?
    };
    if instant < now - Duration::minutes(1) {
        return Err(WhenError::InThePast(format!(
            "{} ({shown})",
            instant.with_timezone(&zone).format("%a %-d %b %Y %H:%M %Z")
        )));
    }
    Ok(instant)
}

/// `HH:MM` (or `H:MM`) as hour and minute.
pub(super) fn parse_clock(text: &str) -> Option<(u32, u32)> {
    let (hour, minute) = text.split_once(':')?;
    let hour: u32 = hour.parse().ok()?;
    let minute: u32 = minute.parse().ok()?;
    (hour < 24 && minute < 60 && (1..=2).contains(&hour_digits(text)?)).then_some((hour, minute))
}

fn hour_digits(text: &str) -> Option<usize> {
    text.split_once(':').map(|(hour, _)| hour.len())
}

fn local(zone: Tz, date: NaiveDate, hour: u32, minute: u32) -> Option<DateTime<Utc>> {
    let time = NaiveTime::from_hms_opt(hour, minute, 0)?;
    Some(local_to_utc(&zone, date.and_time(time)))
}
