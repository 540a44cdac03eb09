//! Exports: the stored programme rendered as JSON or iCalendar.

pub mod ics;
pub mod json;
