//! Incremental planning against the reference: after a random sequence of changes, each
//! planned only where it touches (a command's user in its own transaction, a notified
//! user, an import's changed talks, a new channel plan), the full re-plan of
//! `domain::reminders::plan` finds nothing to add, re-plan or retire (where a change's
//! notification was lost, after the sweep's next reconciliation).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use confbot::domain::reminders::{ChannelPlan, Target};
use confbot::jobs::planner::UserPlanning;
use confbot::jobs::{PlanSettings, Planner};
use confbot::store::conferences::ConferenceRow;
use confbot::store::outbox::{self, ReminderScope};
use confbot::store::subscriptions::{self, SubscriptionRef};
use sqlx::PgPool;

use super::{at, lead, stored_row};
use crate::harness::TestDb;

const SLUG: &str = "incr-con";
const USERS: u64 = 6;
const ROOMS: [&str; 3] = ["Barn", "Loft", "Cellar"];
const TRACKS: [&str; 2] = ["Data", "Web"];

/// One talk of the generated schedule.
#[derive(Clone)]
struct Talk {
    uid: String,
    title: String,
    room: usize,
    track: Option<usize>,
    start: DateTime<Utc>,
    cancelled: bool,
}

fn ics(talks: &[Talk]) -> String {
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//confbot tests//EN\r\nX-WR-CALNAME:Incremental Con\r\n",
    );
    for talk in talks {
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:{}\r\nLOCATION:{}\r\n{}{}END:VEVENT\r\n",
            talk.uid,
            stamp(talk.start),
            stamp(talk.start + Duration::minutes(25)),
            talk.title,
            ROOMS[talk.room],
            talk.track
                .map(|t| format!("X-CONFBOT-TRACK:{}\r\n", TRACKS[t]))
                .unwrap_or_default(),
            if talk.cancelled { "STATUS:CANCELLED\r\n" } else { "" },
        ));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn random_talk(rng: &mut fastrand::Rng, n: usize, t0: DateTime<Utc>) -> Talk {
    Talk {
        uid: format!("talk-{n}"),
        title: format!("Talk number {n}"),
        room: rng.usize(..ROOMS.len()),
        track: rng.bool().then(|| rng.usize(..TRACKS.len())),
        start: t0 + Duration::minutes(rng.i64(40..600)),
        cancelled: false,
    }
}

async fn import(pool: &PgPool, talks: &[Talk]) {
    crate::fixtures::import_text_confirmed(pool, SLUG, &ics(talks)).await;
}

async fn ids(pool: &PgPool, table: &str, conference: i64) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "SELECT id FROM {table} WHERE conference_id = $1 ORDER BY id"
    ))
    .bind(conference)
    .fetch_all(pool)
    .await
    .expect("ids")
}

/// A random talk, room or track of the conference.
async fn random_target(pool: &PgPool, conference: i64, rng: &mut fastrand::Rng) -> SubscriptionRef {
    let (table, make): (&str, fn(i64) -> SubscriptionRef) = match rng.u8(..4) {
        0 => ("rooms", SubscriptionRef::Room),
        1 => ("tracks", SubscriptionRef::Track),
        _ => ("talks", |id| {
            SubscriptionRef::Talk(confbot::domain::model::TalkId(id))
        }),
    };
    let all = ids(pool, table, conference).await;
    match all.get(rng.usize(..all.len().max(1))) {
        Some(id) => make(*id),
        None => {
            let talks = ids(pool, "talks", conference).await;
            SubscriptionRef::Talk(confbot::domain::model::TalkId(talks[0]))
        }
    }
}

/// One of `user`'s subscriptions, if any.
async fn one_of(
    pool: &PgPool,
    conference: i64,
    user: u64,
    rng: &mut fastrand::Rng,
) -> Option<SubscriptionRef> {
    let mine = subscriptions::of_user(pool, conference, user)
        .await
        .expect("subscriptions");
    mine.get(rng.usize(..mine.len().max(1)))
        .map(|s| s.reference)
}

/// A change of `user`'s subscriptions or lead, planned in its own transaction as a
/// command does.
async fn command(
    planning: &UserPlanning,
    row: &ConferenceRow,
    user: u64,
    change_kind: Change,
    now: DateTime<Utc>,
) {
    let mut change = planning
        .begin(row.id, &row.conference.slug, user)
        .await
        .expect("begin");
    let changed = match change_kind {
        Change::Subscribe(target) => {
            subscriptions::subscribe(change.conn(), row.id, None, user, target)
                .await
                .expect("subscribe")
        }
        Change::Unsubscribe(target) => {
            subscriptions::unsubscribe(change.conn(), row.id, user, target)
                .await
                .expect("unsubscribe")
        }
        Change::Lead(minutes) => {
            subscriptions::set_lead(change.conn(), row.id, user, lead(minutes))
                .await
                .expect("lead");
            true
        }
    };
    if changed {
        let planned = change.plan(now).await.expect("plan the user");
        assert!(
            planned.is_some(),
            "nothing else changes the programme meanwhile"
        );
    }
    change.commit().await.expect("commit");
}

/// What a re-plan of `user` alone, from the whole conference's inputs, would still change
/// in the outbox: (added, re-planned, retired). Right after the user's own command it is
/// all zeros, whatever other users' changes are still waiting for a planner.
async fn user_out_of_date(
    pool: &PgPool,
    planner: &mut Planner,
    row: &ConferenceRow,
    user: u64,
    now: DateTime<Utc>,
) -> (usize, usize, u64) {
    let inputs = planner.inputs(row).await.expect("inputs");
    let planned: Vec<_> = inputs
        .plan()
        .into_iter()
        .filter(|post| post.key.target == Target::Dm(user))
        .collect();
    let keys: Vec<_> = planned.iter().map(|post| post.key).collect();
    let mut tx = pool.begin().await.expect("begin");
    let enqueued = outbox::enqueue(&mut tx, row.id, &planned, now)
        .await
        .expect("enqueue");
    let scope = ReminderScope::Users(&[user]);
    let retired = outbox::retire_unplanned_reminders_in(&mut *tx, row.id, scope, &keys, now)
        .await
        .expect("retire");
    tx.rollback().await.expect("rollback");
    (enqueued.added, enqueued.replanned, retired)
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Subscribe(SubscriptionRef),
    Unsubscribe(SubscriptionRef),
    Lead(i64),
}

fn settings() -> PlanSettings {
    PlanSettings {
        default_lead: lead(10),
        channel_lead: lead(10),
        channels: Vec::new(),
    }
}

/// Runs one seed's changes; returns the pending DMs it left (to show the runs plan
/// something).
async fn run_seed(seed: u64) -> i64 {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let mut rng = fastrand::Rng::with_seed(seed);
    let t0 = at("2026-06-01T09:00:00Z");
    let mut talks: Vec<Talk> = (0..6).map(|n| random_talk(&mut rng, n, t0)).collect();
    import(pool, &talks).await;
    let row = stored_row(pool, SLUG).await;
    // Two subscribers per page: the reconciliation's paging is exercised too.
    let mut planner = Planner::new(pool.clone(), settings()).paging(2);
    planner.replan_all(t0).await.expect("first plan");
    let planning = UserPlanning::new(pool.clone(), Arc::default(), lead(10));
    let mut log = Vec::new();
    let mut lost = false;
    for step in 0..30 {
        let now = t0 + Duration::minutes(step);
        let user = rng.u64(1..=USERS);
        let log_len = log.len();
        let kind = rng.u8(..10);
        match kind {
            0..=2 => {
                let target = random_target(pool, row.id, &mut rng).await;
                log.push(format!("{user} subscribes to {target:?}"));
                command(&planning, &row, user, Change::Subscribe(target), now).await;
            }
            3 => {
                if let Some(target) = one_of(pool, row.id, user, &mut rng).await {
                    log.push(format!("{user} unsubscribes from {target:?}"));
                    command(&planning, &row, user, Change::Unsubscribe(target), now).await;
                }
            }
            4 => {
                let minutes = rng.i64(0..=120);
                log.push(format!("{user} sets a lead of {minutes}"));
                command(&planning, &row, user, Change::Lead(minutes), now).await;
            }
            5 => {
                // A change nothing planned (a purge, another tool): its notification has a
                // planner replan the user; or the notification is lost (the listener was
                // reconnecting), and only the sweep's next reconciliation repairs it.
                let target = match one_of(pool, row.id, user, &mut rng).await {
                    Some(target) if rng.bool() => {
                        subscriptions::unsubscribe(pool, row.id, user, target)
                            .await
                            .expect("unsubscribe");
                        target
                    }
                    _ => {
                        let target = random_target(pool, row.id, &mut rng).await;
                        subscriptions::subscribe(pool, row.id, None, user, target)
                            .await
                            .expect("subscribe");
                        target
                    }
                };
                if rng.bool() {
                    log.push(format!("{user} changes {target:?}, notification lost"));
                    lost = true;
                } else {
                    log.push(format!("{user} changes {target:?} unplanned"));
                    planner
                        .replan_users(row.id, &[user], now)
                        .await
                        .expect("replan the user");
                }
            }
            6 | 7 => {
                let n = rng.usize(..talks.len());
                match rng.u8(..6) {
                    0 => talks[n].start += Duration::minutes(rng.i64(-30..=30)),
                    1 => talks[n].room = rng.usize(..ROOMS.len()),
                    2 => talks[n].cancelled = !talks[n].cancelled,
                    3 => talks[n].title = format!("Talk number {n}, renamed at step {step}"),
                    4 => talks[n].track = rng.bool().then(|| rng.usize(..TRACKS.len())),
                    _ => {
                        let len = talks.len();
                        talks.push(random_talk(&mut rng, len, t0));
                    }
                }
                log.push(format!("import changing talk {n}"));
                import(pool, &talks).await;
                planner
                    .replan_id(row.id, now)
                    .await
                    .expect("replan the import");
            }
            8 => {
                let mut by_room = BTreeMap::new();
                for (i, room) in ROOMS.iter().enumerate() {
                    if rng.bool() {
                        by_room.insert((*room).to_owned(), 500 + i as u64);
                    }
                }
                let plan = ChannelPlan {
                    by_room,
                    default: rng.bool().then_some(900),
                    lead: lead(rng.i64(0..=30)),
                    names: BTreeMap::new(),
                };
                log.push(format!("channel plan {plan:?}"));
                let mut conn = pool.acquire().await.expect("conn");
                subscriptions::set_channel_plan(&mut conn, row.id, &plan)
                    .await
                    .expect("channel plan");
                planner
                    .replan_full_id(row.id, now)
                    .await
                    .expect("replan the conference");
            }
            _ => {
                log.push("minute sweep".to_owned());
                planner.sweep(now).await.expect("sweep");
            }
        }
        // A command (a subscription, unsubscription or lead change that was made) planned
        // its user as a full re-plan would, at once.
        if kind <= 4 && log.len() > log_len {
            let stale = user_out_of_date(pool, &mut planner, &row, user, now).await;
            assert_eq!(
                stale,
                (0, 0, 0),
                "seed {seed}: user {user}'s DMs out of date right after their command \
                 (added, re-planned, retired) after:\n{}",
                log.join("\n")
            );
        }
    }

    let mut now = t0 + Duration::minutes(30);
    if lost {
        now += confbot::jobs::planner::FULL_EVERY;
        log.push("the sweep that reconciles".to_owned());
        planner.sweep(now).await.expect("sweep");
    }

    // The reference: the whole conference planned at once and applied.
    let inputs = planner.inputs(&row).await.expect("inputs");
    let planned = inputs.plan();
    let keys: Vec<_> = planned.iter().map(|post| post.key).collect();
    let mut tx = pool.begin().await.expect("begin");
    let enqueued = outbox::enqueue(&mut tx, row.id, &planned, now)
        .await
        .expect("enqueue");
    let retired = outbox::retire_unplanned_reminders(&mut *tx, row.id, &keys, now)
        .await
        .expect("retire");
    tx.rollback().await.expect("rollback");
    assert_eq!(
        (enqueued.added, enqueued.replanned, retired),
        (0, 0, 0),
        "seed {seed}: the full re-plan found the incremental outbox out of date \
         (added, re-planned, retired) after:\n{}",
        log.join("\n")
    );
    sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE conference_id = $1 AND status = 'pending'
           AND target_kind = 'dm' AND kind = 'reminder'",
    )
    .bind(row.id)
    .fetch_one(pool)
    .await
    .expect("count")
}

#[tokio::test]
async fn incremental_planning_leaves_the_outbox_a_full_re_plan_would() {
    let seeds: u64 = std::env::var("CONFBOT_PLAN_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let mut planned_dms = 0;
    for seed in 1..=seeds {
        planned_dms += run_seed(seed).await;
    }
    assert!(planned_dms > 0, "the runs planned some DMs");
}
