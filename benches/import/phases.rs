//! One import split into its phases, to see where the time goes. It repeats the steps of
//! `store::imports::apply_import` (conference upsert, load, plan, write, commit) with a clock
//! around each; the import record (`INSERT INTO imports`, private to the store) is replaced by
//! serialising the diff to JSON, which is the part of that insert that grows with the talks.

use std::time::{Duration, Instant};

use confbot::domain::diff::{describe_added, plan_settled};
use confbot::domain::import::{self, ImportOptions};
use confbot::domain::model::{ConferenceSlug, ScheduleScope};
use confbot::store::conferences::{self, ConferenceUpsert};
use confbot::store::talks;
use sqlx::PgPool;

use super::measure::timed;
use super::Input;

/// The phases of one import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    pub parse: Duration,
    /// Begin + conference upsert and row lock.
    pub upsert: Duration,
    /// `talks::load_for_import`: keys, `diff::settle`, then the talks not settled in full.
    pub load: Duration,
    /// `diff::plan_settled`.
    pub plan: Duration,
    /// `talks::record_digests` + `talks::reserve_ids` + `talks::apply` +
    /// `conferences::replace_days`, and freeing the talks.
    pub write: Duration,
    /// The diff as JSON (what the import record stores).
    pub diff_json: Duration,
    pub commit: Duration,
    /// Whether the plan changed nothing.
    pub unchanged: bool,
}

impl Phases {
    pub fn total(&self) -> Duration {
        self.parse + self.upsert + self.load + self.plan + self.write + self.diff_json + self.commit
    }
}

/// Imports `input` into the conference `slug`, timing each phase.
pub async fn measure(pool: &PgPool, slug: &str, input: &Input) -> anyhow::Result<Phases> {
    let slug = ConferenceSlug::parse(slug)?;
    let source = input.path.display().to_string();
    let mut phases = Phases::default();

    let start = Instant::now();
    let mut schedule = import::parse(&input.bytes, Some(input.format), &ImportOptions::default())?;
    phases.parse = start.elapsed();
    let is_timetable = schedule.scope == ScheduleScope::Timetable;

    let start = Instant::now();
    let mut tx = pool.begin().await?;
    let row = conferences::upsert_and_lock(
        &mut tx,
        &ConferenceUpsert {
            slug: &slug,
            name: schedule.name.as_deref(),
            time_zone: schedule.time_zone,
            default_time_zone: chrono_tz::America::Los_Angeles,
            source_url: is_timetable.then_some(source.as_str()),
        },
    )
    .await?;
    phases.upsert = start.elapsed();

    let start = Instant::now();
    let talks::Comparison {
        settled, stored, ..
    } = talks::load_for_import(&mut tx, row.id, &schedule).await?;
    phases.load = start.elapsed();

    let start = Instant::now();
    let plan = plan_settled(&stored, &schedule, &settled)?;
    phases.plan = start.elapsed();
    phases.unchanged = plan.changes.is_empty() && plan.inserts.is_empty();

    let start = Instant::now();
    talks::record_digests(&mut tx, &plan.unchanged_digests).await?;
    let new_ids = talks::reserve_ids(&mut tx, plan.inserts.len()).await?;
    talks::apply(&mut tx, row.id, &plan, &new_ids, &schedule).await?;
    if is_timetable && !schedule.days.is_empty() {
        conferences::replace_days(&mut tx, row.id, &schedule.days).await?;
    }
    // As `apply_import` describes the added talks (a first import's talks freed as it goes);
    // what is left is freed on a thread of its own there, while the import record is sent.
    let (mut diff, added) = plan.finish();
    let talks = std::mem::take(&mut schedule.talks);
    let described = describe_added(added, talks, new_ids.as_slice());
    diff.added = described.entries;
    drop((stored, schedule, described.untouched));
    phases.write = start.elapsed();

    let start = Instant::now();
    // What the import record's bind encodes.
    let json = serde_json::to_vec(&diff)?;
    phases.diff_json = start.elapsed();
    drop(json);

    let (committed, took) = timed(tx.commit()).await;
    committed?;
    phases.commit = took;
    Ok(phases)
}
