//! Questions' cards through the real outbox and sender against the stand-in: posted in the
//! talk's thread with an Upvote button, brought up to date after a burst of votes (rows
//! that find the card current cost no request), marked answered, deleted when hidden or
//! forgotten, recounted when a voter is forgotten, and each posted once across a restart.

use chrono::{DateTime, Duration, Utc};
use confbot::domain::model::Moderation;
use confbot::jobs::Clock;
use confbot::store::questions::{self, Asked, NewQuestion, Voted};

use super::{ics, ids, import, Scheduler, Talk};
use crate::discord::messages::Posted;
use crate::discord::standin::StandIn;
use crate::harness::TestDb;

const GUILD: u64 = 5;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

/// The card of `question` as members see it now, if it is in the thread.
fn card(standin: &StandIn, thread: u64, text: &str) -> Option<Posted> {
    standin
        .messages()
        .current(thread)
        .into_iter()
        .find(|p| p.content.contains(text))
}

#[tokio::test]
async fn a_question_card_is_posted_once_kept_up_to_date_answered_and_removed_when_hidden() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    let start = t0 + Duration::minutes(10) + Duration::seconds(1);
    import(
        &db.pool,
        &ics(&[Talk::new("a", "Async Rust", "Barn", start)]),
    )
    .await;
    let (conference, talk) = ids(&db.pool, "a").await;
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, threads, updated_by)
         VALUES ($1, $2, true, 1)",
    )
    .bind(GUILD as i64)
    .bind(super::SLUG)
    .execute(&db.pool)
    .await
    .expect("settings");
    let standin = super::standin().await;
    let clock = Clock::starting_at(t0, 1);
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;
    // The reminder and its thread.
    scheduler.wait_for("the thread", |c| c.sent >= 2).await;
    let thread = standin.messages().threads()[0].id;
    let asked = |asker: u64, text: &str, anonymous: bool| NewQuestion {
        conference_id: conference,
        talk,
        guild: GUILD,
        thread,
        asker,
        anonymous,
        text: text.to_owned(),
    };

    let first = questions::ask(
        &db.pool,
        &asked(71, "Will it **compile**?", false),
        clock.now(),
    )
    .await
    .expect("ask");
    let Asked::Stored(first) = first else {
        panic!("{first:?}");
    };
    let again = questions::ask(&db.pool, &asked(71, "And then?", false), clock.now())
        .await
        .expect("ask");
    assert!(matches!(again, Asked::TooSoon(_)), "{again:?}");
    scheduler.wait_for("the card", |c| c.sent >= 3).await;

    // Six voters at once, one of them twice (taking the vote back): 5 votes.
    let mut voting = tokio::task::JoinSet::new();
    for voter in 0..6u64 {
        let pool = db.pool.clone();
        let now = clock.now();
        voting.spawn(async move { questions::vote(&pool, GUILD, first, 100 + voter, now).await });
    }
    for voted in voting.join_all().await {
        assert!(
            matches!(voted, Ok(Voted::Toggled { counted: true, .. })),
            "{voted:?}"
        );
    }
    let back = questions::vote(&db.pool, GUILD, first, 100, clock.now()).await;
    assert_eq!(
        back.expect("vote"),
        Voted::Toggled {
            counted: false,
            votes: 5
        }
    );
    let other_server = questions::vote(&db.pool, GUILD + 1, first, 100, clock.now()).await;
    assert_eq!(other_server.expect("vote"), Voted::Missing);
    // Seven changes queued: each sent or found current (dropped).
    scheduler
        .wait_for("the votes", |c| c.sent + c.dropped >= 3 + 7)
        .await;
    let shown = card(&standin, thread, "Will it").expect("the card");
    assert!(
        shown.content.contains("asked by <@71> · ▲ 5 votes"),
        "{}",
        shown.content
    );
    let edits = standin.messages().edits();
    assert!(
        (1..=7).contains(&edits.len()),
        "at most one edit per change: {}",
        edits.len()
    );

    // A restart between a question and its card: posted once, by the next process.
    scheduler.stop().await;
    let second = questions::ask(&db.pool, &asked(72, "Is it _fast_?", true), clock.now())
        .await
        .expect("ask");
    let Asked::Stored(second) = second else {
        panic!("{second:?}");
    };
    let answered =
        questions::moderate(&db.pool, GUILD, first, 9, Moderation::Answered, clock.now())
            .await
            .expect("answered");
    assert_eq!(answered, Some(talk));
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w2", |_| {}).await;
    scheduler
        .wait_for("the new card and the answer", |c| c.sent >= 2)
        .await;
    let anonymous = card(&standin, thread, "Is it").expect("the second card");
    assert!(
        anonymous.content.contains("asked anonymously"),
        "{}",
        anonymous.content
    );
    assert!(!anonymous.content.contains("72"), "{}", anonymous.content);
    let done = card(&standin, thread, "Will it").expect("the first card");
    assert!(done.content.contains("✅ Answered"), "{}", done.content);
    let last_edit = standin.messages().edits().pop().expect("an edit");
    assert_eq!(
        last_edit.body["components"],
        serde_json::json!([]),
        "no more votes"
    );
    assert_eq!(
        questions::vote(&db.pool, GUILD, first, 200, clock.now())
            .await
            .expect("vote"),
        Voted::Closed
    );

    let hidden = questions::moderate(&db.pool, GUILD, second, 9, Moderation::Hide, clock.now())
        .await
        .expect("hidden");
    assert_eq!(hidden, Some(talk));
    let twice = questions::moderate(&db.pool, GUILD, second, 9, Moderation::Hide, clock.now())
        .await
        .expect("hidden");
    assert_eq!(twice, None, "already hidden");
    scheduler.wait_for("the removal", |c| c.sent >= 3).await;
    assert!(
        card(&standin, thread, "Is it").is_none(),
        "hidden: gone from the thread"
    );
    assert_eq!(standin.messages().removed(), [(thread, anonymous.id)]);

    // A voter uses /forget: their vote goes and the card counts without it.
    let everywhere = confbot::domain::privacy::ForgetScope::Everywhere;
    let voter = confbot::store::privacy::forget(&db.pool, 101, everywhere, clock.now()).await;
    assert_eq!(voter.expect("forget").questions, 1, "one vote");
    scheduler.wait_for("the recount", |c| c.sent >= 4).await;
    let recounted = card(&standin, thread, "Will it").expect("the first card");
    assert!(
        recounted.content.contains("▲ 4 votes · ✅ Answered"),
        "{}",
        recounted.content
    );
    // The first asker does: their question's text and name go, and its card.
    let asker = confbot::store::privacy::forget(&db.pool, 71, everywhere, clock.now()).await;
    assert_eq!(asker.expect("forget").questions, 1, "one question");
    scheduler
        .wait_for("the forgotten card's removal", |c| c.sent >= 5)
        .await;
    scheduler.stop().await;
    assert!(
        card(&standin, thread, "Will it").is_none(),
        "forgotten: gone from the thread"
    );
    let mut removed = standin.messages().removed();
    removed.sort_unstable();
    let mut expected = vec![(thread, anonymous.id), (thread, done.id)];
    expected.sort_unstable();
    assert_eq!(removed, expected);
    let kept: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT text, asker_id, state FROM questions WHERE id = $1")
            .bind(first.0)
            .fetch_all(&db.pool)
            .await
            .expect("question");
    assert_eq!(kept, [("(forgotten)".to_owned(), 0, "hidden".to_owned())]);

    let messages = standin.messages();
    let posted = messages.posted();
    let cards: Vec<&Posted> = posted
        .iter()
        .filter(|p| p.content.starts_with("❓"))
        .collect();
    assert_eq!(cards.len(), 2, "each card posted once: {cards:?}");
    assert_eq!(
        cards[0].body["components"][0]["components"][0]["custom_id"],
        format!("q-up:{}", first.0)
    );
    for post in &posted {
        assert_eq!(
            post.body["allowed_mentions"]["parse"],
            serde_json::json!([])
        );
    }
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'failed'")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(failed, 0);
    // The organisers can see who asked, anonymous or not.
    let askers: Vec<i64> = sqlx::query_scalar(
        "SELECT user_id FROM audit_log WHERE guild_id = $1 AND action = 'ask' ORDER BY id",
    )
    .bind(GUILD as i64)
    .fetch_all(&db.pool)
    .await
    .expect("audit");
    assert_eq!(
        askers,
        [0, 72],
        "the forgotten asker's entry kept without their id"
    );
}

#[tokio::test]
async fn neither_a_vote_nor_another_worker_waits_for_a_card_being_edited() {
    let db = TestDb::new().await;
    let t0 = at("2026-06-01T09:00:00Z");
    import(
        &db.pool,
        &ics(&[Talk::new(
            "a",
            "Async Rust",
            "Barn",
            t0 + Duration::minutes(5),
        )]),
    )
    .await;
    let (conference, talk) = ids(&db.pool, "a").await;
    let question = NewQuestion {
        conference_id: conference,
        talk,
        guild: GUILD,
        thread: 99,
        asker: 71,
        anonymous: false,
        text: "Why?".to_owned(),
    };
    let Asked::Stored(id) = questions::ask(&db.pool, &question, t0).await.expect("ask") else {
        panic!("stored");
    };
    // Delivery holds the card from reading it to recording its edit.
    let mut delivering = db.pool.begin().await.expect("begin");
    let locked = questions::lock_card(&mut delivering, id)
        .await
        .expect("lock");
    assert!(matches!(locked, questions::Locked::Card(_)), "{locked:?}");
    // A second worker does not wait for the first.
    let mut second = db.pool.begin().await.expect("begin");
    let busy = questions::lock_card(&mut second, id).await.expect("lock");
    assert!(matches!(busy, questions::Locked::Busy), "{busy:?}");
    second.rollback().await.expect("rollback");
    let vote = questions::vote(&db.pool, GUILD, id, 100, t0);
    let voted = tokio::time::timeout(std::time::Duration::from_secs(5), vote).await;
    assert_eq!(
        voted
            .expect("the vote is not held up by the card's lock")
            .expect("vote"),
        Voted::Toggled {
            counted: true,
            votes: 1
        }
    );
    delivering.rollback().await.expect("rollback");
    // Of the card's two changes (the question, the vote), the first is shown by the second.
    let rows: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM outbox WHERE question_id = $1 ORDER BY id")
            .bind(id.0)
            .fetch_all(&db.pool)
            .await
            .expect("rows");
    let covered = |row| questions::later_change_queued(&db.pool, id, row);
    assert!(covered(rows[0]).await.expect("read"));
    assert!(!covered(rows[1]).await.expect("read"));
    // Unless the second is being sent: it may have read the question before the first.
    sqlx::query("UPDATE outbox SET claimed_by = 'w', claimed_until = now() + interval '1 minute' WHERE id = $1")
        .bind(rows[1])
        .execute(&db.pool)
        .await
        .expect("claim");
    assert!(!covered(rows[0]).await.expect("read"));
}
