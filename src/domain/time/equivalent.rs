//! Naming the IANA zone that behaves like a file's own VTIMEZONE rules.

use chrono::{Duration, FixedOffset, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use super::windows::WINDOWS_ZONES;
use super::ZoneRules;

/// Zones a conference is most likely to be in, tried first when several IANA zones behave
/// identically (the Windows table's primary zones follow).
const COMMON_ZONES: &[&str] = &[
    "America/Los_Angeles",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Helsinki",
    "Europe/Athens",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Manila",
    "Australia/Sydney",
    "Australia/Brisbane",
    "Pacific/Auckland",
    "Africa/Johannesburg",
    "Africa/Lagos",
];

/// Finds an IANA zone that behaves exactly like `rules` (the same offset at noon UTC on every
/// day of the year starting at `around`), so a file that only carries a VTIMEZONE such as
/// pretalx's `TZID=PST` still gives its conference a real zone for local days and display.
/// Several zones may qualify (Los Angeles, Vancouver, Tijuana): a zone whose abbreviation
/// matches one of `abbreviations` (the VTIMEZONE's TZNAMEs) wins, then common conference zones,
/// then the Windows table's primary zones, then the alphabetically first. The instants
/// themselves never depend on this choice: they come from the file's own rules.
pub fn equivalent_zone(
    rules: &impl ZoneRules,
    abbreviations: &[&str],
    around: NaiveDateTime,
) -> Option<Tz> {
    let noon = around.date().and_hms_opt(12, 0, 0)?;
    let samples: Vec<(NaiveDateTime, FixedOffset)> = (0..366)
        .map(|day| {
            let at = noon + Duration::days(day);
            (at, rules.offset_at(at))
        })
        .collect();
    let behaves_alike = |zone: &Tz| {
        samples
            .iter()
            .all(|(at, offset)| zone.offset_at(*at) == *offset)
    };
    let names_match = |zone: &Tz| {
        use chrono_tz::OffsetName;
        samples.iter().step_by(30).any(|(at, _)| {
            zone.offset_from_utc_datetime(at)
                .abbreviation()
                .is_some_and(|abbr| abbreviations.contains(&abbr))
        })
    };
    let rank = |zone: &Tz| {
        let name = zone.name();
        let common = COMMON_ZONES.iter().position(|z| *z == name);
        let windows = WINDOWS_ZONES.iter().position(|(_, z)| *z == name);
        // Legacy aliases (US/Pacific, Etc/GMT+8, PST8PDT) come last.
        let legacy = !name.contains('/') || name.starts_with("Etc/") || name.starts_with("US/");
        (
            !names_match(zone),
            legacy,
            common.unwrap_or(usize::MAX),
            windows.unwrap_or(usize::MAX),
            name,
        )
    };
    chrono_tz::TZ_VARIANTS
        .iter()
        .filter(|zone| behaves_alike(zone))
        .min_by_key(|zone| rank(zone))
        .copied()
}
