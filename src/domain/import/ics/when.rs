//! When a VEVENT happens: DTSTART/DTEND/DURATION resolved to UTC through the file's
//! VTIMEZONEs, a named zone, or the conference zone.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::lexer::{preview, ContentLine};
use super::tree::Component;
use super::values::{date_or_time, duration, DateOrTime};
use super::vtimezone::VTimeZone;
use crate::domain::import::ImportError;
use crate::domain::model::Slot;
use crate::domain::time::{local_to_utc, zone_by_name};

/// What a calendar knows about zones.
pub(super) struct Zones<'a> {
    /// The file's VTIMEZONE blocks.
    pub defined: &'a [VTimeZone],
    /// The conference zone: floating times and all-day dates are read in it.
    pub conference: Option<Tz>,
}

/// The zone a wall-clock time is read in.
#[derive(Clone, Copy)]
enum Zone<'a> {
    Utc,
    Defined(&'a VTimeZone),
    Named(Tz),
}

impl Zone<'_> {
    fn to_utc(self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            Zone::Utc => local.and_utc(),
            Zone::Defined(zone) => local_to_utc(zone, local),
            Zone::Named(zone) => local_to_utc(&zone, local),
        }
    }
}

/// A DTSTART's wall-clock time and the zone it is read in.
pub(super) struct LocalStart<'a> {
    pub local: NaiveDateTime,
    zone: Zone<'a>,
}

impl LocalStart<'_> {
    /// Another wall-clock time of the same zone, in UTC.
    pub fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        self.zone.to_utc(local)
    }
}

/// A resolved DTSTART/DTEND.
enum Moment<'a> {
    Date(NaiveDate),
    Time {
        local: NaiveDateTime,
        zone: Zone<'a>,
    },
}

impl<'a> Zones<'a> {
    /// Time resolution order: `Z` = UTC; `TZID` = the file's VTIMEZONE of that id, else a
    /// zone of that name (IANA or Windows); no TZID = floating, in the conference zone.
    fn moment(&self, prop: &ContentLine) -> Result<Moment<'a>, ImportError> {
        let value = date_or_time(&prop.value, prop.param("VALUE"))
            .map_err(|why| ImportError::at_line(prop.line, format!("{}: {why}", prop.name)))?;
        let (local, utc) = match value {
            DateOrTime::Date(day) => return Ok(Moment::Date(day)),
            DateOrTime::DateTime { local, utc } => (local, utc),
        };
        let zone = match (utc, prop.param("TZID")) {
            (true, _) => Zone::Utc,
            (false, Some(tzid)) => self.zone_for(tzid, prop)?,
            (false, None) => Zone::Named(self.conference.ok_or_else(|| {
                ImportError::at_line(
                    prop.line,
                    format!(
                        "{} is a floating time (no TZID, no Z): pass --timezone with the \
                         conference's zone (or add X-WR-TIMEZONE to the calendar)",
                        prop.name
                    ),
                )
            })?),
        };
        Ok(Moment::Time { local, zone })
    }

    /// The file's VTIMEZONE with this TZID (exact match first, then ignoring case).
    pub fn defined_zone(&self, tzid: &str) -> Option<&'a VTimeZone> {
        let defined = self.defined;
        let tzid = tzid.trim();
        defined
            .iter()
            .find(|z| z.tzid == tzid)
            .or_else(|| defined.iter().find(|z| z.tzid.eq_ignore_ascii_case(tzid)))
    }

    fn zone_for(&self, tzid: &str, prop: &ContentLine) -> Result<Zone<'a>, ImportError> {
        let tzid = tzid.trim();
        if let Some(zone) = self.defined_zone(tzid) {
            return Ok(Zone::Defined(zone));
        }
        zone_by_name(tzid).map(Zone::Named).ok_or_else(|| {
            ImportError::at_line(
                prop.line,
                format!(
                    "{}: unknown time zone TZID={:?}: the file has no VTIMEZONE for it and it is \
                     not an IANA or Windows zone name",
                    prop.name,
                    preview(tzid)
                ),
            )
        })
    }

    /// The conference-local midnight starting `day`.
    fn midnight(&self, day: NaiveDate, prop: &ContentLine) -> Result<DateTime<Utc>, ImportError> {
        let zone = self.conference.ok_or_else(|| {
            ImportError::at_line(
                prop.line,
                format!(
                    "{} is an all-day date: pass --timezone with the conference's zone (or add \
                     X-WR-TIMEZONE to the calendar) so its day can be placed",
                    prop.name
                ),
            )
        })?;
        Ok(local_to_utc(&zone, day.and_time(NaiveTime::MIN)))
    }

    /// The instant a DATE or DATE-TIME value stands for (a date: its conference-local
    /// midnight), as RDATE, EXDATE and RECURRENCE-ID name occurrences.
    pub fn instant(&self, prop: &ContentLine) -> Result<DateTime<Utc>, ImportError> {
        match self.moment(prop)? {
            Moment::Date(day) => self.midnight(day, prop),
            Moment::Time { local, zone } => Ok(zone.to_utc(local)),
        }
    }

    /// DTSTART as written, to repeat it on the wall clock (RRULE steps are local times).
    pub fn local_start(&self, event: &Component) -> Result<LocalStart<'a>, ImportError> {
        let prop = event
            .property("DTSTART")
            .ok_or_else(|| ImportError::at_line(event.line, "VEVENT without DTSTART"))?;
        Ok(match self.moment(prop)? {
            Moment::Date(day) => LocalStart {
                local: day.and_time(NaiveTime::MIN),
                zone: match self.conference {
                    Some(zone) => Zone::Named(zone),
                    None => Zone::Utc,
                },
            },
            Moment::Time { local, zone } => LocalStart { local, zone },
        })
    }

    /// The event's slot from DTSTART and DTEND or DURATION (DTEND wins when a file has both,
    /// which RFC 5545 forbids but some exporters write). Without either, a timed event ends
    /// when it starts and an all-day event lasts one day (RFC 5545 §3.6.1).
    pub fn slot(&self, event: &Component) -> Result<Slot, ImportError> {
        let start_prop = event
            .property("DTSTART")
            .ok_or_else(|| ImportError::at_line(event.line, "VEVENT without DTSTART"))?;
        let start = self.moment(start_prop)?;
        let end_prop = event.property("DTEND");
        let end = end_prop.map(|p| self.moment(p)).transpose()?;
        let length = match (end_prop, event.property("DURATION")) {
            (None, Some(prop)) => Some(
                duration(&prop.value)
                    .map_err(|why| ImportError::at_line(prop.line, format!("DURATION: {why}")))?,
            ),
            _ => None,
        };
        let overflow = |prop: &ContentLine| {
            ImportError::at_line(
                prop.line,
                format!("{}: the date is out of range", prop.name),
            )
        };
        let slot = match (start, end) {
            (Moment::Date(first), end) => {
                let last = match (end, length) {
                    // Some exporters write DTEND = DTSTART for a one-day entry.
                    (Some(Moment::Date(last)), _) if last == first => {
                        first.succ_opt().ok_or_else(|| overflow(start_prop))?
                    }
                    (Some(Moment::Date(last)), _) => last,
                    (Some(Moment::Time { .. }), _) => {
                        let prop = end_prop.unwrap_or(start_prop);
                        return Err(ImportError::at_line(
                            prop.line,
                            "DTEND is a date-time but DTSTART is a date: both must be dates",
                        ));
                    }
                    (None, Some(length)) => {
                        let days = length.days + i64::from(length.seconds > 0);
                        first
                            .checked_add_signed(Duration::days(days.max(1)))
                            .ok_or_else(|| overflow(start_prop))?
                    }
                    (None, None) => first.succ_opt().ok_or_else(|| overflow(start_prop))?,
                };
                Slot {
                    start: self.midnight(first, start_prop)?,
                    end: self.midnight(last, end_prop.unwrap_or(start_prop))?,
                    all_day: true,
                }
            }
            (Moment::Time { local, zone }, end) => {
                let start = zone.to_utc(local);
                let end = match (end, length) {
                    (Some(Moment::Time { local, zone }), _) => zone.to_utc(local),
                    (Some(Moment::Date(_)), _) => {
                        let prop = end_prop.unwrap_or(start_prop);
                        return Err(ImportError::at_line(
                            prop.line,
                            "DTEND is a date but DTSTART is a date-time: both must be date-times",
                        ));
                    }
                    // Days are nominal: add them on the wall clock, then the exact part.
                    (None, Some(length)) => local
                        .checked_add_signed(Duration::days(length.days))
                        .map(|day_end| zone.to_utc(day_end))
                        .and_then(|t| t.checked_add_signed(Duration::seconds(length.seconds)))
                        .ok_or_else(|| overflow(start_prop))?,
                    (None, None) => start,
                };
                Slot {
                    start,
                    end,
                    all_day: false,
                }
            }
        };
        if slot.end < slot.start {
            let prop = end_prop.unwrap_or(start_prop);
            return Err(ImportError::at_line(
                prop.line,
                "the event ends before it starts",
            ));
        }
        Ok(slot)
    }
}
