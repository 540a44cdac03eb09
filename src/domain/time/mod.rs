//! Time zones and instants: local wall-clock <-> UTC with RFC 5545's rules for ambiguous and
//! non-existent local times, zone names, and Discord timestamps.
//!
//! One resolution rule serves every zone source (an IANA zone from the tz database, or a
//! VTIMEZONE from the file itself): anything that can tell the UTC offset in force at an
//! instant implements [`ZoneRules`], and [`local_to_utc`] does the rest.

mod equivalent;
mod windows;

pub use equivalent::equivalent_zone;
pub use windows::windows_zone;

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Something that knows which UTC offset is in force at a given instant.
pub trait ZoneRules {
    /// The offset in force at `utc` (given as a naive UTC date-time).
    fn offset_at(&self, utc: NaiveDateTime) -> FixedOffset;
}

impl ZoneRules for Tz {
    fn offset_at(&self, utc: NaiveDateTime) -> FixedOffset {
        self.offset_from_utc_datetime(&utc).fix()
    }
}

impl ZoneRules for FixedOffset {
    fn offset_at(&self, _utc: NaiveDateTime) -> FixedOffset {
        *self
    }
}

/// Converts a local wall-clock time in `zone` to a UTC instant, following RFC 5545 §3.3.5:
/// - a local time that occurs twice (clocks go back) means its first occurrence;
/// - a local time that does not exist (clocks go forward) is read with the offset in force
///   before the gap, so 02:30 on a spring-forward night becomes 03:30 daylight time.
///
/// Assumes a zone changes offset at most once within a day of `local`, true of every real zone.
pub fn local_to_utc(zone: &impl ZoneRules, local: NaiveDateTime) -> DateTime<Utc> {
    let before = zone.offset_at(local - Duration::days(1));
    let after = zone.offset_at(local + Duration::days(1));
    let as_utc =
        |offset: FixedOffset| local - Duration::seconds(i64::from(offset.local_minus_utc()));

    // A candidate offset is valid when the instant it gives really has that offset.
    let mut valid: Vec<FixedOffset> = Vec::with_capacity(4);
    for candidate in [
        before,
        after,
        zone.offset_at(as_utc(before)),
        zone.offset_at(as_utc(after)),
    ] {
        if zone.offset_at(as_utc(candidate)) == candidate && !valid.contains(&candidate) {
            valid.push(candidate);
        }
    }
    // Several valid offsets: the larger offset gives the earlier instant (first occurrence).
    // None valid: a gap, read with the offset from before it.
    let offset = valid
        .into_iter()
        .max_by_key(FixedOffset::local_minus_utc)
        .unwrap_or(before);
    as_utc(offset).and_utc()
}

/// Looks a zone up by name as calendar clients write it: an IANA name (quotes and
/// surrounding space ignored, any case), the same behind a libical or Mozilla prefix
/// (`/freeassociation.sourceforge.net/Europe/Prague`, `/mozilla.org/20050126_1/Europe/Stockholm`,
/// `/Europe/Stockholm`), or a Windows/Outlook name such as `W. Europe Standard Time`.
pub fn zone_by_name(name: &str) -> Option<Tz> {
    let name = name.trim().trim_matches('"').trim();
    if name.is_empty() {
        return None;
    }
    let iana = |name: &str| {
        name.parse::<Tz>()
            .ok()
            .or_else(|| Tz::from_str_insensitive(name).ok())
    };
    if let Some(prefixed) = name.strip_prefix('/') {
        // The zone is the longest tail of the path that names one: prefixes are a vendor
        // path of any depth (`/softwarestudio.org/Olson_20011030_5/America/Chicago`).
        let mut tail = prefixed;
        loop {
            if let Some(zone) = iana(tail) {
                return Some(zone);
            }
            tail = tail.split_once('/')?.1;
        }
    }
    iana(name).or_else(|| windows_zone(name))
}

/// Discord timestamp styles (`<t:UNIX:STYLE>`), rendered by each reader's client in their own
/// zone and language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampStyle {
    /// "in 10 minutes"
    Relative,
    /// "Saturday, 25 April 2026 15:45"
    LongDateTime,
    /// "15:45"
    ShortTime,
}

/// Formats an instant as a Discord timestamp markup.
pub fn discord_timestamp(instant: DateTime<Utc>, style: TimestampStyle) -> String {
    let letter = match style {
        TimestampStyle::Relative => 'R',
        TimestampStyle::LongDateTime => 'F',
        TimestampStyle::ShortTime => 't',
    };
    format!("<t:{}:{letter}>", instant.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_are_read_as_real_clients_write_them() {
        let berlin = Some(chrono_tz::Europe::Berlin);
        for name in [
            "Europe/Berlin",
            "europe/berlin",
            "\"Europe/Berlin\"",
            "/Europe/Berlin",
            "/freeassociation.sourceforge.net/Europe/Berlin",
            "/freeassociation.sourceforge.net/Tzfile/Europe/Berlin",
            "/mozilla.org/20050126_1/Europe/Berlin",
            "/softwarestudio.org/Olson_20011030_5/Europe/Berlin",
            "/citadel.org/20190914_1/EUROPE/BERLIN",
            "W. Europe Standard Time",
            "w. europe standard time",
        ] {
            assert_eq!(zone_by_name(name), berlin, "{name}");
        }
        assert_eq!(
            zone_by_name("/freeassociation.sourceforge.net/America/Argentina/Buenos_Aires"),
            Some(chrono_tz::America::Argentina::Buenos_Aires)
        );
        for name in [
            "/",
            "/example.org/",
            "/example.org/Mars/Olympus",
            "Mars/Olympus",
            "",
        ] {
            assert_eq!(zone_by_name(name), None, "{name}");
        }
    }
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, min, 0))
            .expect("valid test date")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("valid RFC 3339 in test")
    }

    #[test]
    fn an_ordinary_local_time_uses_the_offset_in_force() {
        let la: Tz = "America/Los_Angeles".parse().expect("zone");
        assert_eq!(
            local_to_utc(&la, local(2026, 4, 25, 15, 45)),
            utc("2026-04-25T22:45:00Z")
        );
        assert_eq!(
            local_to_utc(&la, local(2026, 1, 10, 9, 0)),
            utc("2026-01-10T17:00:00Z")
        );
    }

    #[test]
    fn an_ambiguous_local_time_means_its_first_occurrence() {
        // 2026-11-01 01:30 happens twice in Los Angeles: first in PDT (-7).
        let la: Tz = "America/Los_Angeles".parse().expect("zone");
        assert_eq!(
            local_to_utc(&la, local(2026, 11, 1, 1, 30)),
            utc("2026-11-01T08:30:00Z")
        );
        // Southern hemisphere: Sydney falls back on 2026-04-05 03:00 -> 02:00.
        let syd: Tz = "Australia/Sydney".parse().expect("zone");
        assert_eq!(
            local_to_utc(&syd, local(2026, 4, 5, 2, 30)),
            utc("2026-04-04T15:30:00Z")
        );
    }

    #[test]
    fn a_local_time_in_a_gap_uses_the_offset_from_before_the_gap() {
        // 2026-03-08 02:30 does not exist in Los Angeles; read as -08:00 = 03:30 PDT.
        let la: Tz = "America/Los_Angeles".parse().expect("zone");
        assert_eq!(
            local_to_utc(&la, local(2026, 3, 8, 2, 30)),
            utc("2026-03-08T10:30:00Z")
        );
        // Sydney springs forward on 2026-10-04 02:00 -> 03:00; 02:30 read as +10:00.
        let syd: Tz = "Australia/Sydney".parse().expect("zone");
        assert_eq!(
            local_to_utc(&syd, local(2026, 10, 4, 2, 30)),
            utc("2026-10-03T16:30:00Z")
        );
    }

    #[test]
    fn zones_are_found_by_iana_or_windows_name() {
        assert_eq!(
            zone_by_name("\"Europe/Brussels\""),
            Some(Tz::Europe__Brussels)
        );
        assert_eq!(zone_by_name("europe/brussels"), Some(Tz::Europe__Brussels));
        assert_eq!(
            zone_by_name("W. Europe Standard Time"),
            Some(Tz::Europe__Berlin)
        );
        assert_eq!(
            zone_by_name("Pacific Standard Time"),
            Some(Tz::America__Los_Angeles)
        );
        assert_eq!(zone_by_name("PST"), None);
        assert_eq!(zone_by_name(""), None);
    }

    #[test]
    fn a_zone_behaving_like_pacific_rules_is_found_by_its_rules_and_abbreviation() {
        let la: Tz = "America/Los_Angeles".parse().expect("zone");
        let manila: Tz = "Asia/Manila".parse().expect("zone");
        let sydney: Tz = "Australia/Sydney".parse().expect("zone");
        let april = local(2026, 4, 25, 0, 0);

        assert_eq!(equivalent_zone(&la, &["PST", "PDT"], april), Some(la));
        // pretalx writes TZID=PST for Manila too: +08:00 all year, abbreviation PST.
        let plus_eight = FixedOffset::east_opt(8 * 3600).expect("offset");
        assert_eq!(equivalent_zone(&plus_eight, &["PST"], april), Some(manila));
        assert_eq!(
            equivalent_zone(&sydney, &["AEST", "AEDT"], april),
            Some(sydney)
        );
        // Without a matching abbreviation the common zone wins over its look-alikes.
        assert_eq!(equivalent_zone(&la, &[], april), Some(la));
        // Rules no real zone follows.
        let odd = FixedOffset::east_opt(3 * 3600 + 17 * 60).expect("offset");
        assert_eq!(equivalent_zone(&odd, &[], april), None);
    }

    #[test]
    fn every_windows_zone_maps_to_a_known_iana_zone() {
        for (windows, iana) in windows::WINDOWS_ZONES {
            assert!(
                iana.parse::<Tz>().is_ok(),
                "{windows} -> {iana} is not in chrono-tz"
            );
        }
    }

    #[test]
    fn discord_timestamps_carry_the_unix_second() {
        let t = utc("2026-04-25T22:45:00Z");
        assert_eq!(
            discord_timestamp(t, TimestampStyle::Relative),
            "<t:1777157100:R>"
        );
        assert_eq!(
            discord_timestamp(t, TimestampStyle::LongDateTime),
            "<t:1777157100:F>"
        );
    }
}
