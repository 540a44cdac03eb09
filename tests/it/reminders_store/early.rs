//! Early sends in the store: `outbox::send_early` computes in SQL what the domain's
//! `early_start` rule says over the same pending rows, and `claim_due_early` claims DMs up
//! to its answer but no channel post before its due instant.

use std::collections::BTreeSet;

use confbot::domain::reminders::early_start;

use super::*;

const NOW: &str = "2026-04-25T22:00:00Z";

/// A random outbox around [`NOW`]: groups of posts due at one instant (fan-outs), some DMs,
/// some channel posts, some already sent, some far beyond the horizon.
fn random_posts(rng: &mut fastrand::Rng, talk: TalkId) -> (Vec<PlannedPost>, Vec<u64>) {
    let now = at(NOW);
    let mut posts = Vec::new();
    let mut sent = Vec::new();
    let mut target = 0u64;
    for _ in 0..rng.usize(1..8) {
        let due = now + Duration::seconds(rng.i64(-30..120));
        let due = if rng.u8(0..10) == 0 {
            due + Duration::hours(3)
        } else {
            due
        };
        for _ in 0..rng.usize(1..1500) {
            target += 1;
            let to = if rng.u8(0..8) == 0 {
                Target::Channel(target)
            } else {
                Target::Dm(target)
            };
            if rng.u8(0..10) == 0 {
                sent.push(target);
            }
            posts.push(post(to, talk, 1, due));
        }
    }
    (posts, sent)
}

/// Enqueues `posts`, planned an hour before [`NOW`].
async fn enqueue_before(pool: &PgPool, conference: i64, posts: &[PlannedPost]) {
    let mut connection = pool.acquire().await.expect("connection");
    outbox::enqueue(
        &mut connection,
        conference,
        posts,
        at(NOW) - Duration::hours(1),
    )
    .await
    .expect("enqueue");
}

#[tokio::test]
async fn the_sql_rule_matches_the_domain_rule_on_random_outboxes() {
    let db = TestDb::new().await;
    let (conference, talk) = import_seed(&db.pool, SEED_ICS).await;
    let horizon = Duration::hours(2);
    let now = at(NOW);
    for seed in 0..12 {
        let mut rng = fastrand::Rng::with_seed(seed);
        sqlx::query("DELETE FROM outbox")
            .execute(&db.pool)
            .await
            .unwrap();
        let (posts, sent) = random_posts(&mut rng, talk);
        enqueue_before(&db.pool, conference, &posts).await;
        let sent: Vec<i64> = sent.iter().map(|t| *t as i64).collect();
        sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = due_at WHERE target_id = ANY($1)",
        )
        .bind(&sent)
        .execute(&db.pool)
        .await
        .unwrap();
        let per_request = Duration::milliseconds(rng.i64(5..50));

        let mut dues: Vec<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT due_at FROM outbox WHERE status = 'pending' AND due_at <= $1",
        )
        .bind(now + horizon)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        dues.sort();
        let expected = early_start(&dues, now, per_request);
        let computed = outbox::send_early(&db.pool, now, per_request, horizon)
            .await
            .expect("send_early");

        assert_eq!(computed, expected, "seed {seed}, {} pending", dues.len());
    }
}

#[tokio::test]
async fn dms_are_claimed_early_up_to_the_answer_and_channel_posts_only_when_due() {
    let db = TestDb::new().await;
    let (conference, talk) = import_seed(&db.pool, SEED_ICS).await;
    let now = at(NOW);
    let due = now + Duration::seconds(30);
    let mut posts = fan_out(talk, 5, due);
    posts.push(post(Target::Channel(BARN_CHANNEL), talk, 1, due));
    posts.push(post(Target::Dm(99), talk, 1, due + Duration::minutes(5)));
    enqueue_before(&db.pool, conference, &posts).await;

    let claimed = outbox::claim_due_early(&db.pool, "w", now, Some(due), Duration::minutes(1), 50)
        .await
        .expect("claim");

    let targets: BTreeSet<Target> = claimed.iter().map(|e| e.post.key.target).collect();
    assert_eq!(targets, (1..=5).map(Target::Dm).collect::<BTreeSet<_>>());
}
