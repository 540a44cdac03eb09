//! A conference's whole programme in memory: the snapshot every attendee command reads.
//!
//! Loaded once from the store and replaced when an import changes the schedule, so commands
//! answer in microseconds without a database round trip.

use crate::domain::model::{Conference, ProgrammeDay, StoredTalk};

/// A conference, its programme days and its talks (ordered by start, unscheduled last).
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    pub conference: Conference,
    pub days: Vec<ProgrammeDay>,
    pub talks: Vec<StoredTalk>,
}
