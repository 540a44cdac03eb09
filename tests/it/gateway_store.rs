//! The gateway's database side: the handover a stopping lease holder asks of its standby,
//! and the claims that let one process answer an interaction both received.

use std::time::Duration;

use confbot::store::gateway_lease::{Handover, LeaseSession};
use confbot::store::interaction_claims;

use crate::harness::TestDb;

/// How recent a standby's or an ask's last sign must be.
const FRESH: Duration = Duration::from_secs(3);

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
    assert!(holder.try_take().await.unwrap());
    assert!(!standby.try_take().await.unwrap());

    let before_any_standby = holder.ask_handover(FRESH).await.unwrap();
    assert!(!other_range.wait_as_standby(FRESH).await.unwrap());
    let only_another_range = holder.ask_handover(FRESH).await.unwrap();
    assert!(
        !standby.wait_as_standby(FRESH).await.unwrap(),
        "nothing asked yet"
    );
    assert!(!spare.wait_as_standby(FRESH).await.unwrap());
    let stale = holder.ask_handover(Duration::ZERO).await.unwrap();
    let asked = holder.ask_handover(FRESH).await.unwrap();
    let unanswered = holder.handover().await.unwrap();
    let takes = standby.wait_as_standby(FRESH).await.unwrap();
    let spare_takes = spare.wait_as_standby(FRESH).await.unwrap();
    let again = standby.wait_as_standby(FRESH).await.unwrap();
    let taken = holder.handover().await.unwrap();
    standby.handover_ready().await.unwrap();
    let ready = holder.handover().await.unwrap();
    let lease_while_held = standby.try_take().await.unwrap();
    holder.release().await;
    let lease_after = standby.try_take().await.unwrap();
    standby.handover_done().await.unwrap();
    let after_done = spare.wait_as_standby(FRESH).await.unwrap();
    let other_range_takes = other_range.wait_as_standby(FRESH).await.unwrap();

    assert!(!before_any_standby, "no standby seen: no handover");
    assert!(
        !only_another_range,
        "a standby of other shards does not count"
    );
    assert!(
        !stale,
        "a standby not seen within the freshness does not count"
    );
    assert!(asked);
    assert_eq!(unanswered, Handover::Asked);
    assert!(takes, "the first standby to look takes it up");
    assert!(!spare_takes, "one taker only");
    assert!(again, "the taker stays the taker");
    assert_eq!(taken, Handover::Taken);
    assert_eq!(ready, Handover::Ready);
    assert!(!lease_while_held, "the taker connects without the lease");
    assert!(lease_after, "and takes it once the holder gives it back");
    assert!(!after_done, "a finished handover is not taken up again");
    assert!(!other_range_takes);
}

#[tokio::test]
async fn an_ask_nobody_took_up_in_time_is_not_taken_up_later() {
    let db = TestDb::new().await;
    let mut holder = session(&db, 0..=0, 1).await;
    let mut standby = session(&db, 0..=0, 1).await;
    assert!(holder.try_take().await.unwrap());
    assert!(!standby.wait_as_standby(FRESH).await.unwrap());
    assert!(holder.ask_handover(FRESH).await.unwrap());
    // The holder closed without a handover long ago: its ask has gone stale.
    sqlx::query("UPDATE gateway_handover SET asked_at = now() - interval '1 minute'")
        .execute(&db.pool)
        .await
        .unwrap();

    let takes = standby.wait_as_standby(FRESH).await.unwrap();

    assert!(!takes);
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
