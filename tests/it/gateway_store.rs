//! The gateway's database side: the handover a stopping lease holder asks of its standby,
//! and the claims that let one process answer an interaction both received.

use std::time::Duration;

use confbot::store::gateway_lease::{Handover, LeaseSession, Standby};
use confbot::store::interaction_claims;

use crate::harness::TestDb;

/// How recent a standby's or an ask's last sign must be.
const FRESH: Duration = Duration::from_secs(3);
/// How long another standby's taking up of a handover keeps the lease its own.
const TAKING: Duration = Duration::from_secs(30);

async fn session(db: &TestDb, shards: std::ops::RangeInclusive<u32>, total: u32) -> LeaseSession {
    LeaseSession::open(&db.pool, shards, total)
        .await
        .expect("a lease session")
}

#[tokio::test]
async fn a_stopping_holder_hands_over_to_one_standby_of_exactly_its_shards() {
    let db = TestDb::new().await;
    let mut holder = session(&db, 0..=1, 2).await;
    let mut standby = session(&db, 0..=1, 2).await;
    let mut spare = session(&db, 0..=1, 2).await;
    let mut other_range = session(&db, 0..=0, 1).await;
    // The holder stood by itself before it took the lease, as every process starts.
    let first_look = holder.wait_as_standby(FRESH, TAKING).await.unwrap();
    assert!(holder.try_take().await.unwrap());
    let asks_itself = holder.ask_handover(FRESH).await.unwrap();
    assert!(!standby.try_take().await.unwrap());

    assert_eq!(
        other_range.wait_as_standby(FRESH, TAKING).await.unwrap(),
        Standby::Waiting
    );
    let only_another_range = holder.ask_handover(FRESH).await.unwrap();
    let nothing_asked = standby.wait_as_standby(FRESH, TAKING).await.unwrap();
    assert_eq!(
        spare.wait_as_standby(FRESH, TAKING).await.unwrap(),
        Standby::Waiting
    );
    let stale = holder.ask_handover(Duration::ZERO).await.unwrap();
    let asked = holder.ask_handover(FRESH).await.unwrap();
    let unanswered = holder.handover().await.unwrap();
    let takes = standby.wait_as_standby(FRESH, TAKING).await.unwrap();
    let spare_sees = spare.wait_as_standby(FRESH, TAKING).await.unwrap();
    let again = standby.wait_as_standby(FRESH, TAKING).await.unwrap();
    let taken = holder.handover().await.unwrap();
    standby.handover_ready().await.unwrap();
    let ready = holder.handover().await.unwrap();
    let lease_while_held = standby.try_take().await.unwrap();
    holder.release().await;
    let lease_after = standby.try_take().await.unwrap();
    standby.handover_done().await.unwrap();
    let after_done = spare.wait_as_standby(FRESH, TAKING).await.unwrap();
    let other_range_sees = other_range.wait_as_standby(FRESH, TAKING).await.unwrap();

    assert_eq!(first_look, Standby::Waiting);
    assert!(
        !asks_itself,
        "a holder's own mark from standing by is no standby"
    );
    assert!(
        !only_another_range,
        "a standby of other shards does not count"
    );
    assert_eq!(nothing_asked, Standby::Waiting);
    assert!(
        !stale,
        "a standby not seen within the freshness does not count"
    );
    assert!(asked);
    assert_eq!(unanswered, Handover::Asked);
    assert_eq!(
        takes,
        Standby::Taker,
        "the first standby to look takes it up"
    );
    assert_eq!(
        spare_sees,
        Standby::OtherTaker,
        "one taker only; the lease is its"
    );
    assert_eq!(again, Standby::Taker, "the taker stays the taker");
    assert_eq!(taken, Handover::Taken);
    assert_eq!(ready, Handover::Ready);
    assert!(!lease_while_held, "the taker connects without the lease");
    assert!(lease_after, "and takes it once the holder gives it back");
    assert_eq!(after_done, Standby::Waiting, "a finished handover is over");
    assert_eq!(other_range_sees, Standby::Waiting);
}

#[tokio::test]
async fn a_taker_whose_session_ended_leaves_the_handover_to_another_standby() {
    let db = TestDb::new().await;
    let mut holder = session(&db, 0..=0, 1).await;
    let mut taker = session(&db, 0..=0, 1).await;
    let mut spare = session(&db, 0..=0, 1).await;
    assert!(holder.try_take().await.unwrap());
    assert_eq!(
        taker.wait_as_standby(FRESH, TAKING).await.unwrap(),
        Standby::Waiting
    );
    assert!(holder.ask_handover(FRESH).await.unwrap());
    assert_eq!(
        taker.wait_as_standby(FRESH, TAKING).await.unwrap(),
        Standby::Taker
    );
    taker.handover_ready().await.unwrap();
    let while_alive = (
        holder.handover().await.unwrap(),
        spare.wait_as_standby(FRESH, TAKING).await.unwrap(),
    );

    // The taker dies: its session ends with it.
    taker.release().await;
    let mut pace = tokio::time::interval(Duration::from_millis(20));
    let gone = async {
        loop {
            pace.tick().await;
            let seen = holder.handover().await.unwrap();
            if seen != Handover::Ready {
                return seen;
            }
        }
    };
    // PostgreSQL lists a closed session for a moment after it closed: bounded wait.
    let without_taker = tokio::time::timeout(Duration::from_secs(10), gone)
        .await
        .expect("the ended session leaves pg_stat_activity");
    let spare_looks = spare.wait_as_standby(FRESH, TAKING).await.unwrap();
    let with_the_spare = holder.handover().await.unwrap();

    assert_eq!(while_alive, (Handover::Ready, Standby::OtherTaker));
    assert_eq!(without_taker, Handover::Asked, "a dead taker is none");
    assert_eq!(
        spare_looks,
        Standby::Taker,
        "the spare takes the ask up afresh"
    );
    assert_eq!(with_the_spare, Handover::Taken, "and is not ready yet");
}

#[tokio::test]
async fn an_ask_nobody_took_up_in_time_is_not_taken_up_later() {
    let db = TestDb::new().await;
    let mut holder = session(&db, 0..=0, 1).await;
    let mut standby = session(&db, 0..=0, 1).await;
    assert!(holder.try_take().await.unwrap());
    assert_eq!(
        standby.wait_as_standby(FRESH, TAKING).await.unwrap(),
        Standby::Waiting
    );
    assert!(holder.ask_handover(FRESH).await.unwrap());
    // The holder closed without a handover long ago: its ask has gone stale.
    sqlx::query("UPDATE gateway_handover SET asked_at = now() - interval '1 minute'")
        .execute(&db.pool)
        .await
        .unwrap();

    let looks = standby.wait_as_standby(FRESH, TAKING).await.unwrap();

    assert_eq!(looks, Standby::Waiting);
}

#[tokio::test]
async fn an_interaction_is_claimed_once_and_forgotten_after_its_token_expired() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let first = interaction_claims::claim(pool, 1).await.unwrap();
    let second = interaction_claims::claim(pool, 1).await.unwrap();
    let another = interaction_claims::claim(pool, u64::MAX >> 1)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE interaction_claim SET claimed_at = now() - interval '15 minutes 1 second'
          WHERE interaction_id = 1",
    )
    .execute(pool)
    .await
    .unwrap();
    let forgotten = interaction_claims::forget_old(pool).await.unwrap();
    let kept = interaction_claims::claim(pool, u64::MAX >> 1)
        .await
        .unwrap();
    let after = interaction_claims::claim(pool, 1).await.unwrap();

    assert!(first);
    assert!(!second, "a second claim of the same interaction fails");
    assert!(another);
    assert_eq!(forgotten, 1, "only the claim past its token's 15 minutes");
    assert!(!kept);
    assert!(after, "a forgotten claim is gone");
}
