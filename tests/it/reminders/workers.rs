//! Exactly once across crashes and processes: a worker killed mid-fan-out, a graceful
//! restart, and two workers on one database. The stand-in counts every message created per
//! nonce (one outbox row, one nonce), so a duplicate or a loss shows.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use confbot::jobs::Clock;
use confbot::store::outbox::OutboxStatus;

use super::{fan_out, outbox_of, Paced, Scheduler, WAIT};
use crate::harness::TestDb;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

async fn sent_rows(db: &TestDb, conference: i64) -> usize {
    outbox_of(&db.pool, conference)
        .await
        .iter()
        .filter(|r| r.status == OutboxStatus::Sent)
        .count()
}

/// Every created message per nonce: each must be exactly 1.
fn per_nonce(standin: &crate::discord::standin::StandIn) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for post in standin.messages().posted() {
        *counts
            .entry(post.nonce.expect("every post has a nonce"))
            .or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn a_worker_killed_mid_fan_out_loses_nothing_and_doubles_nothing_after_a_restart() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    let conference = fan_out(&db.pool, t0, 120).await;
    let standin = super::standin().await;
    // Slow enough to be killed in the middle; short leases so the restart need not wait.
    let slow = |o: &mut confbot::jobs::DeliveryOptions| {
        o.lease = std::time::Duration::from_secs(2);
    };

    let first =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "crashy", slow).await;
    standin.messages().wait_for_created(40, WAIT).await;
    first.kill().await;
    let created_before_restart = standin.messages().counts().created;
    let marked_before_restart = sent_rows(&db, conference).await;
    let second = Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "heir", slow).await;
    // The heir sends the rest, and, once their lease ends, the rows the killed worker sent
    // but never marked (same nonce: the stand-in answers with the first message). A send of
    // the killed worker already under way may still be marked after the abort, so the heir's
    // count is not known in advance: the rows are checked after each of its outcomes (each
    // counted after its row is marked).
    let mut outcomes = second.outcomes.subscribe();
    let all_sent = tokio::time::timeout(WAIT, async {
        while sent_rows(&db, conference).await < 121 {
            outcomes.changed().await.expect("the heir runs");
        }
    })
    .await;
    assert!(
        all_sent.is_ok(),
        "not every row sent within {WAIT:?}: {:?}",
        second.outcomes.counts()
    );
    assert!(marked_before_restart < 121);
    let rows = outbox_of(&db.pool, conference).await;
    second.stop().await;

    let counts = per_nonce(&standin);
    assert_eq!(counts.len(), 121, "every row created a message");
    assert!(
        counts.values().all(|n| *n == 1),
        "no nonce created two messages"
    );
    assert_eq!(rows.len(), 121);
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Sent));
    assert!(created_before_restart < 121, "the kill came mid-fan-out");
}

#[tokio::test]
async fn a_graceful_stop_releases_claims_and_the_next_worker_finishes_at_once() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    let conference = fan_out(&db.pool, t0, 80).await;
    let standin = super::standin().await;

    // Leases of an hour: only the release lets the second worker in before the test ends.
    let long =
        |o: &mut confbot::jobs::DeliveryOptions| o.lease = std::time::Duration::from_secs(3600);
    let first = Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "first", long).await;
    standin.messages().wait_for_created(20, WAIT).await;
    first.stop().await;
    let second =
        Scheduler::start(&db.url, &standin, Clock::starting_at(t0, 1), "second", long).await;
    standin.messages().wait_for_created(81, WAIT).await;
    second.stop().await;

    let counts = per_nonce(&standin);
    assert_eq!(counts.len(), 81);
    assert!(counts.values().all(|n| *n == 1));
    assert_eq!(
        standin.messages().counts().deduplicated,
        0,
        "nothing was even resent"
    );
    let rows = outbox_of(&db.pool, conference).await;
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Sent));
}

#[tokio::test]
async fn two_workers_on_one_database_share_a_fan_out_without_sending_anything_twice() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    let conference = fan_out(&db.pool, t0, 150).await;
    let standin = super::standin().await;

    // One clock, four seconds before the fan-out falls due. `b` starts once `a` has planned
    // it (a process learns of rows another one planned at its next look at the outbox, up
    // to a minute later), so both sleep until the same due instant and find it at once.
    let clock = Clock::starting_at(t0 - Duration::seconds(4), 1);
    let a = Scheduler::start(&db.url, &standin, clock, "a", |_| {}).await;
    let planned = tokio::time::timeout(WAIT, async {
        while outbox_of(&db.pool, conference).await.len() < 151 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(planned.is_ok(), "a planned the fan-out");
    assert!(
        clock.now() < t0,
        "planned before it fell due: the machine is too slow"
    );
    let b = Scheduler::start(&db.url, &standin, clock, "b", |_| {}).await;
    standin.messages().wait_for_created(151, WAIT).await;
    let (a_outcomes, b_outcomes) = (a.outcomes.clone(), b.outcomes.clone());
    a.stop().await;
    b.stop().await;
    let (a_sent, b_sent) = (a_outcomes.counts().sent, b_outcomes.counts().sent);

    let rows = outbox_of(&db.pool, conference).await;
    assert_eq!(rows.len(), 151);
    assert!(
        rows.iter().all(|r| r.status == OutboxStatus::Sent),
        "{:?}",
        rows.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    super::assert_each_sent_row_created_once(
        &standin.messages().posted(),
        standin.messages().counts(),
        &rows,
    );
    // Each row was sent by exactly one of them, and both took part: the work was shared,
    // not done twice (a row both sent would count twice here, even if Discord deduplicated
    // the second message by its nonce).
    assert_eq!(a_sent + b_sent, 151, "a: {a_sent}, b: {b_sent}");
    assert!(a_sent > 0 && b_sent > 0, "a: {a_sent}, b: {b_sent}");
}

/// Discord's own limit (50 requests in any rolling second) at the binary's default rate.
fn discords_rate() -> Paced {
    Paced {
        timeout: confbot::discord::sender::REQUEST_TIMEOUT,
        rate: confbot::config::DEFAULT_RATE_PER_SECOND,
    }
}

// Two runtime threads: the stand-in's answers do not wait behind the workers' tasks, whose
// stalls would bunch requests into one rolling second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_joining_a_fan_out_at_discords_rate_draws_no_429() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    let subscribers = 120;
    let conference = fan_out(&db.pool, t0, subscribers).await;
    let standin = super::standin().await;
    let paced = discords_rate();

    // `a` runs the fan-out alone at the full rate (every DM costs an open and a send: about
    // five seconds); `b` starts a second in, as in a rolling restart.
    let clock = Clock::starting_at(t0, 1);
    let a = Scheduler::start_paced(&db.url, &standin, clock, "a", paced, |_| {}).await;
    standin.messages().wait_for_created(20, WAIT).await;
    let b = Scheduler::start_paced(&db.url, &standin, clock, "b", paced, |_| {}).await;
    let (a_sent, b_sent) = both_finish(&db, &standin, conference, subscribers, [a, b]).await;

    assert!(
        b_sent > 0,
        "the newcomer took its share: a {a_sent}, b {b_sent}"
    );
}

/// Waits for the fan-out to `subscribers` and the room's post, stops both workers, and checks
/// that no request drew a 429 and that every row was sent once, by one of them; returns how
/// many each sent.
async fn both_finish(
    db: &TestDb,
    standin: &crate::discord::standin::StandIn,
    conference: i64,
    subscribers: u64,
    workers: [Scheduler; 2],
) -> (u64, u64) {
    standin
        .messages()
        .wait_for_created(subscribers as usize + 1, WAIT)
        .await;
    let mut sent = [0; 2];
    for (worker, sent) in workers.into_iter().zip(&mut sent) {
        let outcomes = worker.outcomes.clone();
        worker.stop().await;
        *sent = outcomes.counts().sent;
    }

    let counts = standin.messages().counts();
    assert_eq!(
        counts.rate_limited, 0,
        "the workers together overran the global limit"
    );
    let rows = outbox_of(&db.pool, conference).await;
    assert!(rows.iter().all(|r| r.status == OutboxStatus::Sent));
    super::assert_each_sent_row_created_once(&standin.messages().posted(), counts, &rows);
    assert_eq!(sent[0] + sent[1], subscribers + 1);
    (sent[0], sent[1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_workers_keep_counting_each_other_and_start_a_fan_out_at_their_share() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    let subscribers = 120;
    let conference = fan_out(&db.pool, t0, subscribers).await;
    let standin = super::standin().await;
    // A heartbeat counts for two seconds here (ten by default): both workers open their
    // subscribers' DM channels, then have nothing to do for longer than that before the
    // fan-out starts (about three seconds before its due instant).
    let alive = std::time::Duration::from_secs(2);
    let short = |o: &mut confbot::jobs::DeliveryOptions| o.alive_for = alive;
    let clock = Clock::starting_at(t0 - Duration::seconds(12), 1);
    let a = Scheduler::start_paced(&db.url, &standin, clock, "a", discords_rate(), short).await;
    let b = Scheduler::start_paced(&db.url, &standin, clock, "b", discords_rate(), short).await;
    // Until the fan-out's first message, a tenth of a second apart: how many workers a
    // heartbeat would count, once both have recorded one.
    let (mut counted, mut sampled_from) = (Vec::new(), None);
    let mut every = tokio::time::interval(std::time::Duration::from_millis(100));
    while standin.messages().counts().created == 0 {
        every.tick().await;
        let fresh = clock.now() - Duration::from_std(alive).expect("alive_for fits");
        let (alive_now,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM delivery_workers WHERE seen_at >= $1")
                .bind(fresh)
                .fetch_one(&db.pool)
                .await
                .expect("count");
        if alive_now == 2 || !counted.is_empty() {
            sampled_from.get_or_insert_with(std::time::Instant::now);
            counted.push(alive_now);
        }
    }
    let sampled = sampled_from.expect("both workers recorded").elapsed();
    let (a_sent, b_sent) = both_finish(&db, &standin, conference, subscribers, [a, b]).await;

    let requests = standin.requests();
    let opens = || {
        requests
            .iter()
            .filter(|r| r.path.ends_with("/users/@me/channels"))
    };
    assert_eq!(
        opens().count(),
        subscribers as usize,
        "both looked ahead at once: each channel is opened by one of them"
    );
    let last_open = opens().map(|r| r.at).max().expect("opens");
    let first_message = requests
        .iter()
        .filter(|r| r.path.ends_with("/messages"))
        .map(|r| r.at)
        .min()
        .expect("messages");
    assert!(
        first_message.duration_since(last_open) > alive && sampled > 2 * alive,
        "the workers were idle longer than a heartbeat counts before the fan-out"
    );
    assert!(
        counted.iter().all(|n| *n == 2),
        "a worker dropped out of the count while idle: {counted:?}"
    );
    assert!(a_sent > 0 && b_sent > 0, "a {a_sent}, b {b_sent}");
}

#[tokio::test]
async fn workers_count_each_other_while_their_heartbeats_are_fresh() {
    use confbot::store::workers;
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    let alive = Duration::seconds(10);

    let alone = workers::heartbeat(&db.pool, "a", t0, alive)
        .await
        .expect("a");
    let together = workers::heartbeat(&db.pool, "b", t0 + Duration::seconds(2), alive)
        .await
        .expect("b");
    let a_again = workers::heartbeat(&db.pool, "a", t0 + Duration::seconds(3), alive)
        .await
        .expect("a");
    let b_gone_quiet = workers::heartbeat(&db.pool, "a", t0 + Duration::seconds(13), alive)
        .await
        .expect("a");
    workers::heartbeat(&db.pool, "b", t0 + Duration::seconds(14), alive)
        .await
        .expect("b");
    workers::leave(&db.pool, "b").await.expect("leave");
    let b_left = workers::heartbeat(&db.pool, "a", t0 + Duration::seconds(15), alive)
        .await
        .expect("a");

    assert_eq!((alone, together, a_again), (1, 2, 2));
    assert_eq!(
        b_gone_quiet, 1,
        "a heartbeat older than the window does not count"
    );
    assert_eq!(b_left, 1, "a worker that left does not count");

    // A worker that crashed leaves its record; an hour after it stopped counting, it goes.
    workers::heartbeat(&db.pool, "crashed", t0 + Duration::seconds(15), alive)
        .await
        .expect("crashed");
    let names = || async {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT worker FROM delivery_workers ORDER BY worker")
                .fetch_all(&db.pool)
                .await
                .expect("names");
        names
    };
    let hour = t0 + Duration::seconds(15) + alive + Duration::hours(1);
    workers::heartbeat(&db.pool, "a", hour, alive)
        .await
        .expect("a");
    assert_eq!(
        names().await,
        ["a", "crashed"],
        "not yet an hour past counting"
    );
    workers::heartbeat(&db.pool, "a", hour + Duration::seconds(1), alive)
        .await
        .expect("a");
    assert_eq!(names().await, ["a"]);
}
