//! The live now / next board (`/setup board`) through the real planner, outbox and sender
//! against the stand-in: posted once, edited at each talk boundary and on a schedule
//! change, re-created when someone deletes it, and the same message after a restart with
//! two schedulers on one database.

use chrono::{DateTime, Duration, Utc};
use confbot::jobs::Clock;

use super::{ics, import, Scheduler, Talk, SLUG, WAIT};
use crate::discord::standin::StandIn;
use crate::harness::TestDb;

const T0: &str = "2026-06-01T09:00:00Z";
const BOARD: u64 = 7_200_000_000_000_001;

/// The messages posted in the board's channel.
fn on_board(
    posted: Vec<crate::discord::messages::Posted>,
) -> Vec<crate::discord::messages::Posted> {
    posted.into_iter().filter(|p| p.channel == BOARD).collect()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

/// Barn: A until a minute after T0, then B from two minutes after (talks last 25 minutes);
/// `extra` adds talks.
fn schedule(t0: DateTime<Utc>, b_title: &str, extra: &[Talk<'_>]) -> String {
    let mut talks = vec![
        Talk::new("a", "Async Rust", "Barn", t0 - Duration::minutes(24)),
        Talk::new("b", b_title, "Barn", t0 + Duration::minutes(2)),
    ];
    talks.extend(
        extra
            .iter()
            .map(|t| Talk::new(t.uid, t.title, t.room, t.start)),
    );
    ics(&talks)
}

/// Barn's programme ([`schedule`] with B called "Borrowing") imported, and a server with a
/// board in [`BOARD`] on the stand-in.
async fn barn_with_a_board(db: &TestDb, t0: DateTime<Utc>) -> StandIn {
    import(&db.pool, &schedule(t0, "Borrowing", &[])).await;
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, board_channel, updated_by)
         VALUES (5, $1, $2, 1)",
    )
    .bind(SLUG)
    .bind(i64::try_from(BOARD).expect("small id"))
    .execute(&db.pool)
    .await
    .expect("settings");
    let standin = super::standin().await;
    standin.guilds().add_text(&[BOARD]);
    standin
}

/// [`barn_with_a_board`] at [`T0`], with a scheduler ("w1") whose minute is two seconds.
async fn barn_board_running(db: &TestDb) -> (DateTime<Utc>, Clock, StandIn, Scheduler) {
    let t0 = at(T0);
    let standin = barn_with_a_board(db, t0).await;
    let clock = Clock::starting_at(t0, 30);
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;
    (t0, clock, standin, scheduler)
}

#[tokio::test]
async fn the_board_follows_talk_boundaries_and_changes_in_one_message_that_survives_deletion_and_restarts(
) {
    let db = TestDb::new().await;
    let (t0, clock, standin, scheduler) = barn_board_running(&db).await;
    let messages = standin.messages();

    // B's channel reminder (due already) and the board.
    let first = on_board(messages.wait_for_created(2, WAIT).await);
    // A ends at T0 + 1 min, B starts at T0 + 2 min: two edits.
    let edits = messages.wait_for_edits(2, WAIT).await;
    let ts = |d: Duration| (t0 + d).timestamp();
    assert_eq!(first[0].channel, BOARD);
    assert_eq!(
        first[0].content,
        format!(
            "📍 **Barn**\nNow: **Async Rust** — ends <t:{}:R>\nNext: **Borrowing** — <t:{1}:t> (<t:{1}:R>)",
            ts(Duration::minutes(1)),
            ts(Duration::minutes(2)),
        )
    );
    assert_eq!(edits[0].id, first[0].id);
    assert!(
        edits[0]
            .content
            .contains("Now: nothing on\nNext: **Borrowing**"),
        "{edits:?}"
    );
    assert!(
        edits[1].content.contains("Now: **Borrowing** — ends"),
        "{edits:?}"
    );
    assert_eq!(
        edits[1].body["allowed_mentions"]["parse"],
        serde_json::json!([]),
        "an edit pings nobody either: {}",
        edits[1].body
    );

    // A moderator deletes the board; the next change shows it again, in a new message.
    messages.delete_message(first[0].id);
    import(&db.pool, &schedule(t0, "Borrowing Well", &[])).await;
    let again = on_board(messages.wait_for_created(3, WAIT).await);
    scheduler.stop().await;
    assert_eq!(again[1].channel, BOARD);
    assert!(
        again[1].content.contains("Now: **Borrowing Well**"),
        "{again:?}"
    );

    // Two schedulers after a restart: the same message is edited, once per change.
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w2", |_| {}).await;
    let other = Scheduler::start(&db.url, &standin, clock, "w3", |_| {}).await;
    let edits_before = messages.edits().len();
    let next = Talk::new("c", "Cancel Culture", "Barn", t0 + Duration::minutes(40));
    import(&db.pool, &schedule(t0, "Borrowing Well", &[next])).await;
    let edits = messages.wait_for_edits(edits_before + 1, WAIT).await;
    scheduler.stop().await;
    other.stop().await;

    let last = edits.last().expect("an edit");
    assert_eq!(
        last.id, again[1].id,
        "the re-created message is the one kept"
    );
    assert!(
        last.content.contains("Next: **Cancel Culture**"),
        "{last:?}"
    );
    assert_eq!(
        on_board(messages.posted()).len(),
        2,
        "no other board message was posted"
    );
    assert_eq!(messages.counts().created, 3);
    let shown = messages.current(BOARD);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].content, last.content);
    for pair in edits.windows(2) {
        assert_ne!(
            pair[0].content, pair[1].content,
            "no state was shown twice: {edits:?}"
        );
    }
}

/// At a boundary the plan can name the new period's text a second time while its first post
/// is on its way (it compares with the text of the period before). Made certain here: what
/// the panel's message shows is recorded under another version, so the next plan holds a new
/// post of the very text shown. It is marked sent without a request.
#[tokio::test]
async fn a_board_post_of_the_text_its_message_shows_already_is_not_sent_again() {
    let db = TestDb::new().await;
    let (_, _, standin, scheduler) = barn_board_running(&db).await;
    let messages = standin.messages();
    messages.wait_for_created(2, WAIT).await;
    let edits = messages.wait_for_edits(2, WAIT).await;
    // B's channel reminder, the board and its two edits.
    scheduler
        .wait_for("the board's boundaries", |c| c.sent >= 4)
        .await;

    let moved = sqlx::query(
        "UPDATE board_panels SET shown_version = shown_version + 1 WHERE shown_content = $1",
    )
    .bind(&edits[1].content)
    .execute(&db.pool)
    .await
    .expect("shown under another version")
    .rows_affected();
    assert_eq!(moved, 1);
    scheduler
        .wait_for("the post of the text shown", |c| c.sent >= 5)
        .await;
    scheduler.stop().await;

    let board_posts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = 'board' AND status = 'sent'")
            .fetch_one(&db.pool)
            .await
            .expect("outbox");
    assert_eq!(board_posts, 4, "the text shown was planned a second time");
    assert_eq!(messages.edits().len(), 2, "{:?}", messages.edits());
    assert_eq!(messages.counts().created, 2);
}
