//! Helpers for tests that plan imports over stored talks (the diff's and the updates').

use chrono::{DateTime, Utc};

use super::{plan_import, ImportPlan, TalkRef};
use crate::domain::model::{ImportedSchedule, Slot, SpeakerData, StoredTalk, TalkData, TalkId};

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid RFC 3339 in test")
}

pub(crate) fn slot(start: &str, end: &str) -> Option<Slot> {
    Some(Slot {
        start: at(start),
        end: at(end),
        all_day: false,
    })
}

pub(crate) fn timetable_talk(
    id: &str,
    title: &str,
    room: &str,
    start: &str,
    end: &str,
) -> TalkData {
    TalkData {
        source_id: Some(id.into()),
        title: title.to_owned(),
        speakers: vec![SpeakerData {
            source_id: None,
            name: "Ada Lovelace".to_owned(),
            biography: None,
        }],
        room: Some(room.into()),
        slot: slot(start, end),
        ..TalkData::default()
    }
}

/// Stores the plan's result the way the store would, handing out ids from `next_id`.
pub(crate) fn apply(stored: &[StoredTalk], plan: &ImportPlan) -> Vec<StoredTalk> {
    let mut result: Vec<StoredTalk> = stored.to_vec();
    for update in &plan.updates {
        let talk = result
            .iter_mut()
            .find(|t| t.id == update.id)
            .expect("update of a stored talk");
        talk.data = update.data.clone();
        if update.reschedules {
            talk.schedule_version += 1;
        }
    }
    let next = result.iter().map(|t| t.id.0).max().unwrap_or(0) + 1;
    for (offset, data) in plan.inserts.iter().enumerate() {
        result.push(StoredTalk {
            id: TalkId(next + offset as i64),
            schedule_version: 1,
            data: TalkData::clone(data),
        });
    }
    result
}

/// Plans and applies `imported`; the plan owns its new talks, so tests may pass a temporary.
pub(crate) fn import(
    stored: &[StoredTalk],
    imported: &ImportedSchedule,
) -> (ImportPlan<'static>, Vec<StoredTalk>) {
    let plan = plan_import(stored, imported).expect("plan");
    let after = apply(stored, &plan);
    let inserts = plan
        .inserts
        .into_iter()
        .map(|t| TalkRef::Owned(Box::new(t.into_owned())))
        .collect();
    (ImportPlan { inserts, ..plan }, after)
}
