//! Reminder planning tests: exact posts on the product owner's seed, moves and
//! cancellations through the real import diff, delivery after downtime, DST, and limits.

mod changes;
mod delivery;
mod parts;
mod plan;
mod robustness;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::*;
use crate::domain::import::{self, ImportOptions};
use crate::domain::model::{ImportedSchedule, StoredTalk, TalkData};
use crate::domain::programme::testing::{conference, SEED_ICS};
use crate::domain::programme::Programme;
use crate::domain::time::local_to_utc;

/// The Barn's channel in the test plans.
const BARN: u64 = 501;
/// The default channel in the test plans.
const LOBBY: u64 = 900;
/// The seed talk's start, 2026-04-25 15:45 PDT, as a Unix second.
const SEED_START: i64 = 1_777_157_100;
/// The seed talk's title as imported.
const SEED_TITLE: &str = "Python as Orchestrator: When to Glue, When to Compute";

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid RFC 3339 in test")
}

fn lead(minutes: i64) -> LeadTime {
    LeadTime::from_minutes(minutes).expect("lead in range")
}

/// Barn → #barn-talks (10 minutes ahead), everything else → #lobby.
fn channels() -> ChannelPlan {
    ChannelPlan {
        by_room: BTreeMap::from([("Barn".to_owned(), BARN)]),
        default: Some(LOBBY),
        lead: lead(10),
        names: BTreeMap::from([(BARN, "barn-talks".to_owned())]),
    }
}

fn subscribe(user: u64, target: SubscriptionTarget) -> Subscription {
    Subscription { user, target }
}

/// The seed file imported as the importer gives it.
fn seed_import() -> ImportedSchedule {
    import::parse(SEED_ICS.as_bytes(), None, &ImportOptions::default()).expect("seed parses")
}

/// Stored talks numbered 1, 2, ... in order, all at `version`.
fn stored(talks: Vec<TalkData>, version: i32) -> Vec<StoredTalk> {
    (1..)
        .zip(talks)
        .map(|(id, data)| StoredTalk {
            id: TalkId(id),
            schedule_version: version,
            data,
        })
        .collect()
}

/// A programme of stored talks in `zone`.
fn programme_of(zone: Tz, talks: Vec<StoredTalk>) -> Programme {
    Programme::new(conference("test-conf", zone), vec![], talks)
}

/// The seed programme: talk 1 "Python as Orchestrator…", Barn, 22:45 UTC, version 1.
fn seed() -> Programme {
    let import = seed_import();
    programme_of(Tz::America__Los_Angeles, stored(import.talks, 1))
}

/// The UTC instant of a local wall-clock time in `zone`.
fn local(zone: Tz, y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    let naive = NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|date| date.and_hms_opt(h, 0, 0))
        .expect("valid test date");
    local_to_utc(&zone, naive)
}

/// No personal lead times: everybody uses the default.
fn no_leads() -> HashMap<u64, LeadTime> {
    HashMap::new()
}

/// The content of a post decided at `now`; panics when it is dropped.
fn sent(post: &PlannedPost, now: DateTime<Utc>) -> crate::domain::commands::Message {
    match decide(post, now) {
        Decision::Send(message) => message,
        Decision::Drop(reason) => panic!("dropped: {reason}"),
    }
}

/// Asserts Discord's limits on a post's message.
fn assert_within_limits(message: &crate::domain::commands::Message) {
    use crate::domain::commands::limits;
    let chars = message.content.chars().count();
    assert!(chars <= limits::CONTENT, "{chars} characters");
    assert!(!message.content.trim().is_empty());
    assert!(message
        .buttons
        .iter()
        .all(|b| b.label.chars().count() <= 80));
}
