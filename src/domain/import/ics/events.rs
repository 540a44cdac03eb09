//! A calendar's events sorted out for recurrence, and expanded into talks at its end.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::recurrence;
use super::tree::Component;
use super::uid_of;
use super::when::Zones;
use crate::domain::import::skipped::Skipped;
use crate::domain::import::ImportError;
use crate::domain::model::{ImportedSchedule, TalkData};
use crate::domain::time::local_to_utc;

/// A calendar's events, sorted out for recurrence: plain events, recurring masters, and the
/// overrides (RECURRENCE-ID) of their occurrences.
#[derive(Default)]
pub(super) struct Events<'a> {
    plain: Vec<TalkData>,
    masters: Vec<(Component<'a>, TalkData)>,
    /// By UID, then by the original start of the occurrence they replace.
    overrides: HashMap<String, HashMap<DateTime<Utc>, TalkData>>,
}

impl<'a> Events<'a> {
    /// Events whose one-off talks go to `plain` (sized for them).
    pub(super) fn with_plain(plain: Vec<TalkData>) -> Self {
        Self {
            plain,
            ..Self::default()
        }
    }

    /// Keeps a recurring event's lines for its expansion; any other event's go. An error
    /// comes with the event's UID.
    pub(super) fn add(
        &mut self,
        vevent: Component<'a>,
        talk: TalkData,
        zones: &Zones,
    ) -> Result<(), (ImportError, Option<String>)> {
        if recurrence::is_recurring(&vevent) {
            self.masters.push((vevent, talk));
        } else if let Some(original) = recurrence::overridden_start(&vevent, zones)
            .map_err(|error| (error, uid_of(&vevent)))?
        {
            let uid = talk.source_id.as_deref().unwrap_or_default().to_owned();
            self.overrides
                .entry(uid)
                .or_default()
                .insert(original, talk);
        } else {
            self.plain.push(talk);
        }
        Ok(())
    }

    /// The one-off events, then every recurring one expanded within the conference's days
    /// (the local days the plain events span), then overrides left without a master.
    pub(super) fn expand_into(
        mut self,
        schedule: &mut ImportedSchedule,
        zones: &Zones,
        skipped: &mut Skipped,
    ) {
        let days = conference_days(&self.plain, zones.conference);
        if schedule.talks.is_empty() {
            // Moved, not copied: appending 100,000 talks to an empty list held them twice.
            schedule.talks = std::mem::take(&mut self.plain);
        } else {
            schedule.talks.append(&mut self.plain);
        }
        for (vevent, master) in &self.masters {
            let window = match days {
                Some(days) => days,
                None => {
                    let Some(slot) = master.slot else { continue };
                    schedule.warnings.push(format!(
                        "line {}: {:?} repeats, and the calendar has no one-off events to \
                         tell the conference's days: its occurrences in the {} days from its \
                         start are imported",
                        vevent.line,
                        master.title,
                        recurrence::UNBOUNDED_SPAN.num_days()
                    ));
                    recurrence::Window {
                        start: slot.start,
                        end: slot.start + recurrence::UNBOUNDED_SPAN,
                    }
                }
            };
            let uid = master.source_id.as_deref().unwrap_or_default().to_owned();
            let mut overrides = self.overrides.remove(&uid).unwrap_or_default();
            match recurrence::expand(
                vevent,
                master,
                zones,
                window,
                &mut overrides,
                &mut schedule.warnings,
            ) {
                Ok(talks) => schedule.talks.extend(talks),
                Err(error) => skipped.note(uid_of(vevent), error),
            }
            // Overrides of occurrences the rule does not give (moved in from elsewhere).
            self.overrides.insert(uid, overrides);
        }
        // By UID: the map's own order changes from run to run.
        let mut orphans: Vec<_> = self.overrides.into_iter().collect();
        orphans.sort_by(|(a, _), (b, _)| a.cmp(b));
        for (uid, overrides) in orphans {
            let mut overrides: Vec<_> = overrides.into_iter().collect();
            overrides.sort_by_key(|(original, _)| *original);
            for (original, mut talk) in overrides {
                let all_day = talk.slot.is_some_and(|s| s.all_day);
                talk.source_id = Some(recurrence::occurrence_id(&uid, original, all_day).into());
                schedule.talks.push(talk);
            }
        }
    }
}

/// The conference's days: from the local midnight before the first one-off event to the one
/// after the last.
fn conference_days(talks: &[TalkData], zone: Option<Tz>) -> Option<recurrence::Window> {
    let first = talks.iter().filter_map(|t| t.slot).map(|s| s.start).min()?;
    let last = talks.iter().filter_map(|t| t.slot).map(|s| s.end).max()?;
    let zone = zone.unwrap_or(Tz::UTC);
    let midnight = |at: DateTime<Utc>, days: i64| {
        let day = at.with_timezone(&zone).date_naive() + chrono::Duration::days(days);
        local_to_utc(&zone, day.and_time(chrono::NaiveTime::MIN))
    };
    Some(recurrence::Window {
        start: midnight(first, 0),
        end: midnight(last, 1),
    })
}
