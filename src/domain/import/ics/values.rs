//! RFC 5545 value types: DATE, DATE-TIME, DURATION and UTC-OFFSET. Errors are plain messages;
//! the caller adds the line.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};

/// A DATE or a DATE-TIME as written, before any zone is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DateOrTime {
    Date(NaiveDate),
    /// A wall-clock time; `utc` when it ended in `Z`.
    DateTime {
        local: NaiveDateTime,
        utc: bool,
    },
}

/// Parses a DATE (`20260425`, or anything with `VALUE=DATE`) or a DATE-TIME
/// (`20260425T154500`, optionally ending in `Z`).
pub(super) fn date_or_time(value: &str, value_param: Option<&str>) -> Result<DateOrTime, String> {
    let value = value.trim();
    let wants_date = value_param.is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    if wants_date || value.len() == 8 {
        return date(value).map(DateOrTime::Date);
    }
    let (body, utc) = match value.strip_suffix(['Z', 'z']) {
        Some(body) => (body, true),
        None => (value, false),
    };
    let bad = || format!("{:?} is not a date-time like 20260425T154500", short(value));
    let (day, time) = body.split_once(['T', 't']).ok_or_else(bad)?;
    let day = date(day).map_err(|_| bad())?;
    let [h, m, s] = digits_groups(time, [2, 2, 2]).ok_or_else(bad)?;
    // RFC 5545 allows a leap second (60); chrono does not represent it, so read it as :59.
    let local = day.and_hms_opt(h, m, s.min(59)).ok_or_else(bad)?;
    Ok(DateOrTime::DateTime { local, utc })
}

/// Parses a DATE (`20260425`).
pub(super) fn date(value: &str) -> Result<NaiveDate, String> {
    let bad = || format!("{:?} is not a date like 20260425", short(value));
    let [y, m, d] = digits_groups(value.trim(), [4, 2, 2]).ok_or_else(bad)?;
    let year = i32::try_from(y).map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, m, d).ok_or_else(bad)
}

/// Splits `text` into groups of exactly the given numbers of ASCII digits.
fn digits_groups<const N: usize>(text: &str, widths: [usize; N]) -> Option<[u32; N]> {
    if text.len() != widths.iter().sum::<usize>() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = [0; N];
    let mut at = 0;
    for (slot, width) in out.iter_mut().zip(widths) {
        *slot = text.get(at..at + width)?.parse().ok()?;
        at += width;
    }
    Some(out)
}

/// A non-negative DURATION: days and weeks are nominal (they follow the wall clock across a
/// DST change, RFC 5545 §3.3.6), hours, minutes and seconds are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct IcsDuration {
    pub days: i64,
    pub seconds: i64,
}

/// Parses `P1W`, `P1DT2H`, `PT1H30M`, `PT25M`, `+PT5S`. A negative duration is an error: an
/// event cannot end before it starts.
pub(super) fn duration(value: &str) -> Result<IcsDuration, String> {
    let value = value.trim();
    let bad = || format!("{:?} is not a duration like PT25M or P1DT2H", short(value));
    if value.starts_with('-') {
        return Err(format!("the duration {:?} is negative", short(value)));
    }
    let body = value.strip_prefix('+').unwrap_or(value);
    let body = body.strip_prefix(['P', 'p']).ok_or_else(bad)?;
    // Up to ten thousand years; anything longer is a typo and would overflow date arithmetic.
    const MAX: i64 = 10_000 * 366;
    let (mut days, mut seconds, mut number, mut in_time, mut any) =
        (0i64, 0i64, None, false, false);
    for c in body.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n: i64 = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(i64::from(digit)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit = c.to_ascii_uppercase();
        if unit == 'T' && number.is_none() && !in_time {
            in_time = true;
            continue;
        }
        let n = number.take().ok_or_else(bad)?;
        if n > MAX * 86_400 {
            return Err(bad());
        }
        match (unit, in_time) {
            // Saturating: a hostile string repeating units must not overflow; the total is
            // checked against MAX below.
            ('W', false) => days = days.saturating_add(n.saturating_mul(7)),
            ('D', false) => days = days.saturating_add(n),
            ('H', true) => seconds = seconds.saturating_add(n.saturating_mul(3600)),
            ('M', true) => seconds = seconds.saturating_add(n.saturating_mul(60)),
            ('S', true) => seconds = seconds.saturating_add(n),
            _ => return Err(bad()),
        }
        any = true;
    }
    if number.is_some() || !any || days > MAX || seconds > MAX * 86_400 {
        return Err(bad());
    }
    Ok(IcsDuration { days, seconds })
}

/// Parses a UTC-OFFSET (`-0800`, `+0530`, `+013045`).
pub(super) fn utc_offset(value: &str) -> Result<FixedOffset, String> {
    let value = value.trim();
    let bad = || format!("{:?} is not a UTC offset like -0800", short(value));
    let (sign, digits) = match value.as_bytes().first() {
        Some(b'+') => (1, value.get(1..).unwrap_or_default()),
        Some(b'-') => (-1, value.get(1..).unwrap_or_default()),
        _ => return Err(bad()),
    };
    let (h, m, s) = match digits.len() {
        4 => digits_groups(digits, [2, 2]).map(|[h, m]| (h, m, 0)),
        6 => digits_groups(digits, [2, 2, 2]).map(|[h, m, s]| (h, m, s)),
        _ => None,
    }
    .ok_or_else(bad)?;
    if m > 59 || s > 59 {
        return Err(bad());
    }
    let seconds = i32::try_from(h * 3600 + m * 60 + s).map_err(|_| bad())?;
    FixedOffset::east_opt(sign * seconds).ok_or_else(bad)
}

/// Untrusted text shortened for an error message.
fn short(value: &str) -> String {
    super::lexer::preview(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
    }

    #[test]
    fn dates_and_date_times_are_read_with_and_without_z() {
        let day = NaiveDate::from_ymd_opt(2026, 4, 25).unwrap();
        assert_eq!(date_or_time("20260425", None), Ok(DateOrTime::Date(day)));
        assert_eq!(
            date_or_time("20260425", Some("DATE")),
            Ok(DateOrTime::Date(day))
        );
        assert_eq!(
            date_or_time("20260425T154500", None),
            Ok(DateOrTime::DateTime {
                local: at(2026, 4, 25, 15, 45, 0),
                utc: false
            })
        );
        assert_eq!(
            date_or_time("20260425T224500Z", Some("DATE-TIME")),
            Ok(DateOrTime::DateTime {
                local: at(2026, 4, 25, 22, 45, 0),
                utc: true
            })
        );
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in [
            "20260230T100000",
            "2026-04-25",
            "20260425T25",
            "20261301",
            "x",
            "",
            "２０２６０４２５",
        ] {
            assert!(date_or_time(bad, None).is_err(), "{bad:?} accepted");
        }
        assert!(date_or_time("20260425T100000", Some("DATE")).is_err());
    }

    #[test]
    fn durations_split_nominal_days_from_exact_seconds() {
        assert_eq!(
            duration("PT25M"),
            Ok(IcsDuration {
                days: 0,
                seconds: 1500
            })
        );
        assert_eq!(
            duration("P1DT2H"),
            Ok(IcsDuration {
                days: 1,
                seconds: 7200
            })
        );
        assert_eq!(
            duration("PT1H30M"),
            Ok(IcsDuration {
                days: 0,
                seconds: 5400
            })
        );
        assert_eq!(
            duration("+P2W"),
            Ok(IcsDuration {
                days: 14,
                seconds: 0
            })
        );
        assert_eq!(
            duration("P0D"),
            Ok(IcsDuration {
                days: 0,
                seconds: 0
            })
        );
    }

    #[test]
    fn negative_or_malformed_durations_are_refused() {
        assert_eq!(
            duration("-PT5M"),
            Err("the duration \"-PT5M\" is negative".to_owned())
        );
        for bad in [
            "P",
            "PT",
            "PT5",
            "P1H",
            "PT1D",
            "1H",
            "P99999999999999999999D",
            "P5000000D",
        ] {
            assert!(duration(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn utc_offsets_are_read_with_their_sign() {
        assert_eq!(
            utc_offset("-0800"),
            Ok(FixedOffset::west_opt(8 * 3600).unwrap())
        );
        assert_eq!(
            utc_offset("+0530"),
            Ok(FixedOffset::east_opt(5 * 3600 + 1800).unwrap())
        );
        assert_eq!(
            utc_offset("+013045"),
            Ok(FixedOffset::east_opt(5445).unwrap())
        );
        for bad in ["0800", "+08", "+2500", "+0860", "-08:00", "+é00"] {
            assert!(utc_offset(bad).is_err(), "{bad:?} accepted");
        }
    }
}
