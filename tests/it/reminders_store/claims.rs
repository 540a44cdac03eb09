//! The outbox as a queue: idempotent enqueueing, disjoint claims, leases, retries, release.

use std::collections::BTreeSet;

use confbot::store::StoreError;
use sqlx::postgres::PgPoolOptions;

use super::*;

const DUE: &str = "2026-04-25T22:35:00Z";

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

/// Enqueues `posts` into `conference`'s outbox at [`DUE`].
async fn enqueue_at_due(
    pool: &PgPool,
    conference: i64,
    posts: &[PlannedPost],
) -> Result<outbox::Enqueued, StoreError> {
    outbox::enqueue(
        &mut pool.acquire().await.expect("connection"),
        conference,
        posts,
        at(DUE),
    )
    .await
}

/// The seed conference with `count` DM posts due at [`DUE`] in its outbox.
async fn with_fan_out(pool: &PgPool, count: u64) -> (i64, TalkId) {
    let (conference, talk) = import_seed(pool, SEED_ICS).await;
    enqueue_at_due(pool, conference, &fan_out(talk, count, at(DUE)))
        .await
        .expect("enqueue");
    (conference, talk)
}

#[tokio::test]
async fn enqueueing_the_same_plan_twice_adds_nothing_the_second_time() {
    let db = TestDb::new().await;
    let (conference, talk) = import_seed(&db.pool, SEED_ICS).await;
    let posts = fan_out(talk, 3, at(DUE));

    let first = enqueue_at_due(&db.pool, conference, &posts).await;
    let second = enqueue_at_due(&db.pool, conference, &posts).await;

    assert_eq!(first.expect("first").added, 3);
    assert_eq!(second.expect("second"), outbox::Enqueued::default());
    assert_eq!(outbox::pending_count(&db.pool).await.expect("count"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_two_pools_claim_disjoint_rows_covering_all_due_ones() {
    let db = TestDb::new().await;
    with_fan_out(&db.pool, 300).await;
    let second_pool = PgPoolOptions::new()
        .max_connections(3)
        .connect(&db.url)
        .await
        .expect("second pool");

    let claim_all = |pool: PgPool, worker: &'static str| async move {
        let mut ids = Vec::new();
        loop {
            let batch = outbox::claim_due(&pool, worker, at(DUE), minutes(5), 7)
                .await
                .expect("claim");
            if batch.is_empty() {
                return ids;
            }
            ids.extend(batch.iter().map(|e| e.id));
        }
    };
    let a = tokio::spawn(claim_all(db.pool.clone(), "worker-a"));
    let b = tokio::spawn(claim_all(second_pool, "worker-b"));
    let (a, b) = (a.await.expect("task a"), b.await.expect("task b"));

    let a_set: BTreeSet<i64> = a.iter().copied().collect();
    let b_set: BTreeSet<i64> = b.iter().copied().collect();
    assert_eq!(a_set.len(), a.len(), "worker a got no row twice");
    assert_eq!(b_set.len(), b.len(), "worker b got no row twice");
    assert!(a_set.is_disjoint(&b_set), "a row was claimed by both");
    let all: BTreeSet<i64> = sqlx::query_scalar::<_, i64>("SELECT id FROM outbox")
        .fetch_all(&db.pool)
        .await
        .expect("ids")
        .into_iter()
        .collect();
    let union: BTreeSet<i64> = a_set.union(&b_set).copied().collect();
    assert_eq!(union, all);
    assert_eq!(all.len(), 300);
}

#[tokio::test]
async fn rows_not_yet_due_are_not_claimed_and_channels_come_before_dms() {
    let db = TestDb::new().await;
    let (conference, talk) = import_seed(&db.pool, SEED_ICS).await;
    let posts = [
        post(Target::Dm(1), talk, 1, at(DUE)),
        post(Target::Channel(LOBBY_CHANNEL), talk, 1, at(DUE)),
        post(Target::Dm(2), talk, 1, at(DUE) + Duration::seconds(1)),
    ];
    enqueue_at_due(&db.pool, conference, &posts)
        .await
        .expect("enqueue");

    let claimed = outbox::claim_due(&db.pool, "w", at(DUE), minutes(1), 10).await;

    let targets: Vec<Target> = claimed
        .expect("claim")
        .iter()
        .map(|e| e.post.key.target)
        .collect();
    assert_eq!(targets, [Target::Channel(LOBBY_CHANNEL), Target::Dm(1)]);
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_the_first_workers_late_mark_is_refused() {
    let db = TestDb::new().await;
    with_fan_out(&db.pool, 1).await;
    let claimed = outbox::claim_due(&db.pool, "a", at(DUE), minutes(1), 10)
        .await
        .expect("claim a");
    let id = claimed[0].id;

    let during_lease = outbox::claim_due(
        &db.pool,
        "b",
        at(DUE) + Duration::seconds(59),
        minutes(1),
        10,
    )
    .await
    .expect("claim b early");
    let after_lease = outbox::claim_due(&db.pool, "b", at(DUE) + minutes(1), minutes(1), 10)
        .await
        .expect("claim b late");
    let late_a = outbox::mark_sent(&db.pool, id, "a", at(DUE) + minutes(2)).await;
    let b_sent = outbox::mark_sent(&db.pool, id, "b", at(DUE) + minutes(2)).await;

    assert_eq!(during_lease, []);
    assert_eq!(after_lease.iter().map(|e| e.id).collect::<Vec<_>>(), [id]);
    assert_eq!(
        after_lease[0].nonce, claimed[0].nonce,
        "a retry keeps the nonce"
    );
    assert!(!late_a.expect("mark a"), "a lost its claim");
    assert!(b_sent.expect("mark b"));
    let row = outbox::entry(&db.pool, id)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(row.status, OutboxStatus::Sent);
    assert_eq!(row.sent_at, Some(at(DUE) + minutes(2)));
    assert_eq!((row.claimed_by, row.claimed_until), (None, None));
}

#[tokio::test]
async fn next_due_is_the_earliest_pending_row_or_a_lease_end() {
    let db = TestDb::new().await;
    let (conference, talk) = import_seed(&db.pool, SEED_ICS).await;
    let empty = outbox::next_due(&db.pool).await.expect("empty");
    let posts = [
        post(Target::Dm(1), talk, 1, at(DUE)),
        post(Target::Dm(2), talk, 1, at(DUE) + minutes(5)),
    ];
    enqueue_at_due(&db.pool, conference, &posts)
        .await
        .expect("enqueue");

    let first = outbox::next_due(&db.pool).await.expect("first");
    outbox::claim_due(&db.pool, "w", at(DUE), minutes(1), 1)
        .await
        .expect("claim");
    let while_claimed = outbox::next_due(&db.pool).await.expect("claimed");

    assert_eq!(empty, None);
    assert_eq!(first, Some(at(DUE)));
    assert_eq!(while_claimed, Some(at(DUE) + minutes(1)), "the lease end");
}

#[tokio::test]
async fn a_failure_with_a_retry_is_pending_again_later_and_one_without_is_failed() {
    let db = TestDb::new().await;
    with_fan_out(&db.pool, 2).await;
    let claimed = outbox::claim_due(&db.pool, "w", at(DUE), minutes(1), 10)
        .await
        .expect("claim");
    let (retried, given_up) = (claimed[0].id, claimed[1].id);
    let retry_at = at(DUE) + Duration::seconds(3);

    let marked_retry = outbox::mark_failed(
        &db.pool,
        retried,
        "w",
        "429: retry after 3 s",
        Some(retry_at),
        at(DUE),
        None,
    )
    .await;
    // The injected clock's instant, not the database's: a day after the due time.
    let failed_at = at(DUE) + Duration::days(1);
    let marked_failed = outbox::mark_failed(
        &db.pool,
        given_up,
        "w",
        "403 50007: DMs closed",
        None,
        failed_at,
        None,
    )
    .await;

    assert!(marked_retry.expect("retry") && marked_failed.expect("fail"));
    let row = outbox::entry(&db.pool, retried)
        .await
        .expect("q")
        .expect("row");
    assert_eq!(
        (row.status, row.attempts, row.post.due, row.claimed_by),
        (OutboxStatus::Pending, 1, retry_at, None)
    );
    assert_eq!(row.last_error.as_deref(), Some("429: retry after 3 s"));
    let row = outbox::entry(&db.pool, given_up)
        .await
        .expect("q")
        .expect("row");
    assert_eq!((row.status, row.attempts), (OutboxStatus::Failed, 1));
    let recorded: (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT (SELECT failed_at FROM outbox WHERE id = $1), (SELECT failed_at FROM outbox WHERE id = $2)",
    )
    .bind(given_up)
    .bind(retried)
    .fetch_one(&db.pool)
    .await
    .expect("failed_at");
    assert_eq!(recorded, (Some(failed_at), None));
    assert_eq!(
        outbox::next_due(&db.pool).await.expect("next"),
        Some(retry_at)
    );
    let again = outbox::claim_due(&db.pool, "w", retry_at, minutes(1), 10).await;
    assert_eq!(
        again
            .expect("claim")
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        [retried]
    );
}

#[tokio::test]
async fn release_gives_a_workers_claims_back_at_once() {
    let db = TestDb::new().await;
    with_fan_out(&db.pool, 4).await;
    outbox::claim_due(&db.pool, "leaving", at(DUE), minutes(10), 3)
        .await
        .expect("claim");

    let released = outbox::release(&db.pool, "leaving").await;
    let other = outbox::claim_due(&db.pool, "other", at(DUE), minutes(10), 10).await;

    assert_eq!(released.expect("release"), 3);
    assert_eq!(other.expect("claim").len(), 4);
    assert_eq!(outbox::pending_count(&db.pool).await.expect("count"), 4);
}

#[tokio::test]
async fn a_dropped_row_records_its_reason_and_is_never_claimed_again() {
    let db = TestDb::new().await;
    with_fan_out(&db.pool, 1).await;
    let id = outbox::claim_due(&db.pool, "w", at(DUE), minutes(1), 1)
        .await
        .expect("claim")[0]
        .id;

    let dropped = outbox::mark_dropped(&db.pool, id, "w", "the talk started at 22:45").await;
    let by_another = outbox::mark_sent(&db.pool, id, "w", at(DUE)).await;

    assert!(dropped.expect("drop"));
    assert!(!by_another.expect("mark"), "a dropped row stays dropped");
    let row = outbox::entry(&db.pool, id).await.expect("q").expect("row");
    assert_eq!(row.status, OutboxStatus::Dropped);
    assert_eq!(row.last_error.as_deref(), Some("the talk started at 22:45"));
    let later = outbox::claim_due(&db.pool, "w", at(DUE) + minutes(5), minutes(1), 10).await;
    assert_eq!(later.expect("claim"), []);
}
