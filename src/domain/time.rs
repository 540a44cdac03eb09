//! Time zones and instants: local wall-clock <-> UTC with RFC 5545's rules for ambiguous and
//! non-existent local times, zone names, and Discord timestamps.
//!
//! One resolution rule serves every zone source (an IANA zone from the tz database, or a
//! VTIMEZONE from the file itself): anything that can tell the UTC offset in force at an
//! instant implements [`ZoneRules`], and [`local_to_utc`] does the rest.

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

/// Looks a zone up by name: an IANA name (quotes and surrounding space ignored, case
/// insensitive), or a Windows/Outlook display name such as `W. Europe Standard Time`.
pub fn zone_by_name(name: &str) -> Option<Tz> {
    let name = name.trim().trim_matches('"').trim();
    if name.is_empty() {
        return None;
    }
    name.parse::<Tz>()
        .ok()
        .or_else(|| Tz::from_str_insensitive(name).ok())
        .or_else(|| windows_zone(name))
}

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

/// Maps a Windows time-zone name (as Outlook and Exchange write in `TZID`) to its IANA zone,
/// following CLDR's `windowsZones.xml` territory "001" mapping.
pub fn windows_zone(name: &str) -> Option<Tz> {
    WINDOWS_ZONES
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(name))
        .and_then(|(_, iana)| iana.parse().ok())
}

/// CLDR windowsZones.xml, territory 001 (the primary IANA zone of each Windows zone).
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("Dateline Standard Time", "Etc/GMT+12"),
    ("UTC-11", "Etc/GMT+11"),
    ("Aleutian Standard Time", "America/Adak"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Marquesas Standard Time", "Pacific/Marquesas"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("UTC-09", "Etc/GMT+9"),
    ("Pacific Standard Time (Mexico)", "America/Tijuana"),
    ("UTC-08", "Etc/GMT+8"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Mountain Standard Time (Mexico)", "America/Mazatlan"),
    ("Mountain Standard Time", "America/Denver"),
    ("Yukon Standard Time", "America/Whitehorse"),
    ("Central America Standard Time", "America/Guatemala"),
    ("Central Standard Time", "America/Chicago"),
    ("Easter Island Standard Time", "Pacific/Easter"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
    ("Canada Central Standard Time", "America/Regina"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("Eastern Standard Time (Mexico)", "America/Cancun"),
    ("Eastern Standard Time", "America/New_York"),
    ("Haiti Standard Time", "America/Port-au-Prince"),
    ("Cuba Standard Time", "America/Havana"),
    ("US Eastern Standard Time", "America/Indiana/Indianapolis"),
    ("Turks And Caicos Standard Time", "America/Grand_Turk"),
    ("Paraguay Standard Time", "America/Asuncion"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("Venezuela Standard Time", "America/Caracas"),
    ("Central Brazilian Standard Time", "America/Cuiaba"),
    ("SA Western Standard Time", "America/La_Paz"),
    ("Pacific SA Standard Time", "America/Santiago"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("Tocantins Standard Time", "America/Araguaina"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("SA Eastern Standard Time", "America/Cayenne"),
    ("Argentina Standard Time", "America/Buenos_Aires"),
    ("Greenland Standard Time", "America/Godthab"),
    ("Montevideo Standard Time", "America/Montevideo"),
    ("Magallanes Standard Time", "America/Punta_Arenas"),
    ("Saint Pierre Standard Time", "America/Miquelon"),
    ("Bahia Standard Time", "America/Bahia"),
    ("UTC-02", "Etc/GMT+2"),
    ("Azores Standard Time", "Atlantic/Azores"),
    ("Cape Verde Standard Time", "Atlantic/Cape_Verde"),
    ("UTC", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("Sao Tome Standard Time", "Africa/Sao_Tome"),
    ("Morocco Standard Time", "Africa/Casablanca"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("W. Central Africa Standard Time", "Africa/Lagos"),
    ("Jordan Standard Time", "Asia/Amman"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Middle East Standard Time", "Asia/Beirut"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("Syria Standard Time", "Asia/Damascus"),
    ("West Bank Standard Time", "Asia/Hebron"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("South Sudan Standard Time", "Africa/Juba"),
    ("Kaliningrad Standard Time", "Europe/Kaliningrad"),
    ("Sudan Standard Time", "Africa/Khartoum"),
    ("Libya Standard Time", "Africa/Tripoli"),
    ("Namibia Standard Time", "Africa/Windhoek"),
    ("Arabic Standard Time", "Asia/Baghdad"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Arab Standard Time", "Asia/Riyadh"),
    ("Belarus Standard Time", "Europe/Minsk"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("E. Africa Standard Time", "Africa/Nairobi"),
    ("Volgograd Standard Time", "Europe/Volgograd"),
    ("Iran Standard Time", "Asia/Tehran"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Astrakhan Standard Time", "Europe/Astrakhan"),
    ("Azerbaijan Standard Time", "Asia/Baku"),
    ("Russia Time Zone 3", "Europe/Samara"),
    ("Mauritius Standard Time", "Indian/Mauritius"),
    ("Saratov Standard Time", "Europe/Saratov"),
    ("Georgian Standard Time", "Asia/Tbilisi"),
    ("Caucasus Standard Time", "Asia/Yerevan"),
    ("Afghanistan Standard Time", "Asia/Kabul"),
    ("West Asia Standard Time", "Asia/Tashkent"),
    ("Ekaterinburg Standard Time", "Asia/Yekaterinburg"),
    ("Pakistan Standard Time", "Asia/Karachi"),
    ("Qyzylorda Standard Time", "Asia/Qyzylorda"),
    ("India Standard Time", "Asia/Kolkata"),
    ("Sri Lanka Standard Time", "Asia/Colombo"),
    ("Nepal Standard Time", "Asia/Kathmandu"),
    ("Central Asia Standard Time", "Asia/Almaty"),
    ("Bangladesh Standard Time", "Asia/Dhaka"),
    ("Omsk Standard Time", "Asia/Omsk"),
    ("Myanmar Standard Time", "Asia/Yangon"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("Altai Standard Time", "Asia/Barnaul"),
    ("W. Mongolia Standard Time", "Asia/Hovd"),
    ("North Asia Standard Time", "Asia/Krasnoyarsk"),
    ("N. Central Asia Standard Time", "Asia/Novosibirsk"),
    ("Tomsk Standard Time", "Asia/Tomsk"),
    ("China Standard Time", "Asia/Shanghai"),
    ("North Asia East Standard Time", "Asia/Irkutsk"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("Taipei Standard Time", "Asia/Taipei"),
    ("Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"),
    ("Aus Central W. Standard Time", "Australia/Eucla"),
    ("Transbaikal Standard Time", "Asia/Chita"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("North Korea Standard Time", "Asia/Pyongyang"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("Yakutsk Standard Time", "Asia/Yakutsk"),
    ("Cen. Australia Standard Time", "Australia/Adelaide"),
    ("AUS Central Standard Time", "Australia/Darwin"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("West Pacific Standard Time", "Pacific/Port_Moresby"),
    ("Tasmania Standard Time", "Australia/Hobart"),
    ("Vladivostok Standard Time", "Asia/Vladivostok"),
    ("Lord Howe Standard Time", "Australia/Lord_Howe"),
    ("Bougainville Standard Time", "Pacific/Bougainville"),
    ("Russia Time Zone 10", "Asia/Srednekolymsk"),
    ("Magadan Standard Time", "Asia/Magadan"),
    ("Norfolk Standard Time", "Pacific/Norfolk"),
    ("Sakhalin Standard Time", "Asia/Sakhalin"),
    ("Central Pacific Standard Time", "Pacific/Guadalcanal"),
    ("Russia Time Zone 11", "Asia/Kamchatka"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("UTC+12", "Etc/GMT-12"),
    ("Fiji Standard Time", "Pacific/Fiji"),
    ("Chatham Islands Standard Time", "Pacific/Chatham"),
    ("UTC+13", "Etc/GMT-13"),
    ("Tonga Standard Time", "Pacific/Tongatapu"),
    ("Samoa Standard Time", "Pacific/Apia"),
    ("Line Islands Standard Time", "Pacific/Kiritimati"),
];

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
        for (windows, iana) in WINDOWS_ZONES {
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
