//! Exactly once beyond Discord's nonce memory. The stand-in forgets a nonce after a second
//! here, and confbot trusts it for half a second: a blind resend after that would create a
//! second message, so every test below fails if confbot resends without looking first.

use std::time::Duration;

use chrono::{DateTime, Utc};
use confbot::jobs::{Clock, DeliveryOptions};
use confbot::store::outbox::OutboxStatus;

use super::{ics, ids, import, outbox_of, subscribe, Scheduler, Talk, WAIT};
use crate::discord::standin::StandIn;
use crate::harness::TestDb;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

/// A talk in Barn in ten minutes with one subscriber: the outbox holds its channel post
/// (claimed first, so the one the stand-in's trouble hits) and one DM.
async fn post_and_dm(db: &TestDb, t0: DateTime<Utc>) -> i64 {
    import(
        &db.pool,
        &ics(&[Talk {
            uid: "t",
            title: "Timed out",
            room: "Barn",
            start: t0 + chrono::Duration::minutes(10),
            cancelled: false,
        }]),
    )
    .await;
    let (conference, talk) = ids(&db.pool, "t").await;
    subscribe(&db.pool, conference, 1, talk).await;
    conference
}

/// A conference with a channel post and a DM due, and a stand-in that forgets nonces after a
/// second.
struct Forgetful {
    db: TestDb,
    t0: DateTime<Utc>,
    conference: i64,
    standin: StandIn,
}

impl Forgetful {
    async fn start() -> Self {
        let db = TestDb::new().await;
        let t0 = at("2026-06-01T09:00:00Z");
        let conference = post_and_dm(&db, t0).await;
        let standin = super::standin().await;
        standin.messages().set_nonce_window(Duration::from_secs(1));
        Forgetful {
            db,
            t0,
            conference,
            standin,
        }
    }
}

/// A scheduler at `t0` whose requests time out after 300 ms and that trusts Discord's nonce
/// memory for half a second.
async fn timing_out(db: &TestDb, standin: &StandIn, t0: DateTime<Utc>) -> Scheduler {
    Scheduler::start_timing_out(
        &db.url,
        standin,
        Clock::starting_at(t0, 1),
        "w",
        Duration::from_millis(300),
        trust_half_a_second,
    )
    .await
}

fn trust_half_a_second(options: &mut DeliveryOptions) {
    options.nonce_window = Duration::from_millis(500);
}

/// GETs of a channel's messages the stand-in answered.
fn reads(standin: &StandIn) -> usize {
    standin
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/messages"))
        .count()
}

#[tokio::test]
async fn a_send_that_timed_out_after_discord_created_the_message_is_recorded_not_resent() {
    let Forgetful {
        db,
        t0,
        conference,
        standin,
    } = Forgetful::start().await;
    // Created, but answered after the client gave up.
    standin
        .messages()
        .hang_after_create(1, Duration::from_secs(2));

    let scheduler = timing_out(&db, &standin, t0).await;
    let counts = scheduler
        .wait_for("both rows recorded", |c| c.sent == 2)
        .await;
    let rows = outbox_of(&db.pool, conference).await;
    scheduler.stop().await;

    assert_eq!(counts.retried, 1, "the timeout was retried: {counts:?}");
    let messages = standin.messages();
    super::assert_each_sent_row_created_once(&messages.posted(), messages.counts(), &rows);
    assert_eq!(messages.counts().attempts, 2, "nothing was sent twice");
    assert_eq!(
        reads(&standin),
        1,
        "the timed-out post was looked for instead"
    );
    assert!(
        rows.iter().all(|r| r.status == OutboxStatus::Sent),
        "{rows:?}"
    );
}

#[tokio::test]
async fn a_look_for_the_message_that_was_rate_limited_is_made_again_before_any_resend() {
    let Forgetful {
        db,
        t0,
        conference,
        standin,
    } = Forgetful::start().await;
    standin
        .messages()
        .hang_after_create(1, Duration::from_secs(2));
    // The first look is refused with a wait short enough to sit out under the claim.
    standin
        .messages()
        .storm_reads(1, Duration::from_millis(200));

    let scheduler = timing_out(&db, &standin, t0).await;
    scheduler
        .wait_for("both rows recorded", |c| c.sent == 2)
        .await;
    let rows = outbox_of(&db.pool, conference).await;
    scheduler.stop().await;

    let messages = standin.messages();
    super::assert_each_sent_row_created_once(&messages.posted(), messages.counts(), &rows);
    assert_eq!(messages.counts().attempts, 2, "nothing was sent twice");
    assert_eq!(reads(&standin), 2, "the refused look was made again");
}

#[tokio::test]
async fn a_send_whose_outcome_was_unknown_and_that_created_nothing_is_sent_again() {
    let Forgetful {
        db,
        t0,
        conference,
        standin,
    } = Forgetful::start().await;
    // A 502: Discord may or may not have acted. Here it did not.
    standin.messages().fail_next(1);

    let clock = Clock::starting_at(t0, 1);
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w", trust_half_a_second).await;
    scheduler.wait_for("both rows sent", |c| c.sent == 2).await;
    let rows = outbox_of(&db.pool, conference).await;
    scheduler.stop().await;

    let messages = standin.messages();
    super::assert_each_sent_row_created_once(&messages.posted(), messages.counts(), &rows);
    assert_eq!(
        messages.counts().attempts,
        3,
        "the 502, then each post once"
    );
    assert_eq!(reads(&standin), 1, "sent again only after finding nothing");
    assert!(
        rows.iter().all(|r| r.status == OutboxStatus::Sent),
        "{rows:?}"
    );
    assert!(
        rows.iter().all(|r| r.maybe_sent_since.is_none()),
        "the absence was recorded: {rows:?}"
    );
}

#[tokio::test]
async fn a_row_whose_worker_died_mid_send_is_not_sent_twice_after_discord_forgot_the_nonce() {
    let Forgetful {
        db,
        t0,
        conference,
        standin,
    } = Forgetful::start().await;
    // The message is made, and the worker dies before it hears so.
    standin
        .messages()
        .hang_after_create(1, Duration::from_secs(30));
    let short_lease = |o: &mut DeliveryOptions| {
        trust_half_a_second(o);
        o.lease = Duration::from_secs(2);
    };

    let clock = Clock::starting_at(t0, 1);
    let doomed = Scheduler::start(&db.url, &standin, clock, "doomed", short_lease).await;
    standin.messages().wait_for_created(1, WAIT).await;
    doomed.kill().await;
    // Its claim runs out two seconds later; the heir takes the row over after that.
    let heir = Scheduler::start(&db.url, &standin, clock, "heir", short_lease).await;
    let rows = tokio::time::timeout(WAIT, async {
        loop {
            let rows = outbox_of(&db.pool, conference).await;
            if rows.iter().all(|r| r.status == OutboxStatus::Sent) {
                break rows;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("every row recorded");
    heir.stop().await;

    let messages = standin.messages();
    super::assert_each_sent_row_created_once(&messages.posted(), messages.counts(), &rows);
    assert_eq!(messages.counts().attempts, 2, "the heir sent nothing again");
    assert!(reads(&standin) >= 1, "the heir looked for the message");
}
