//! Claims that hold: a worker renews the lease of a row whose send is taking long, so no
//! other worker can claim it meanwhile; a request never leaves under a claim that was lost;
//! and a wait longer than the claim gives the row back instead of sleeping on it.

use std::sync::Arc;

use confbot::domain::commands::Message;
use confbot::jobs::lease::BatchLease;
use confbot::jobs::{
    delivery, Claim, Clock, Deliver, DeliveryOptions, Outcomes, Recipient, SendError,
};
use tokio::sync::{mpsc, oneshot, Notify};

use super::*;

const DUE: &str = "2026-04-25T22:35:00Z";

/// A Discord that takes as long as the test says: each send reports that it started, then
/// waits for the test's go-ahead.
struct Slow {
    started: mpsc::UnboundedSender<oneshot::Sender<()>>,
}

impl Deliver for Slow {
    async fn open_dm(&self, user: u64, _claim: &Claim) -> Result<u64, SendError> {
        Ok(user)
    }

    async fn find_sent(
        &self,
        _to: Recipient,
        _contents: &[String],
        _after: DateTime<Utc>,
        _claim: &Claim,
    ) -> Result<bool, SendError> {
        Ok(false)
    }

    async fn deliver(
        &self,
        _to: Recipient,
        _message: &Message,
        _nonce: &str,
        claim: &Claim,
    ) -> Result<Option<u64>, SendError> {
        let (go, wait) = oneshot::channel();
        let _ = self.started.send(go);
        let _ = wait.await;
        if claim.may_leave() {
            Ok(None)
        } else {
            Err(SendError::ClaimLost)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_takes_longer_than_the_lease_keeps_its_row_by_renewing() {
    let db = TestDb::new().await;
    let (conference, talk) = import_seed(&db.pool, SEED_ICS).await;
    outbox::enqueue(
        &mut db.pool.acquire().await.expect("connection"),
        conference,
        &fan_out(talk, 1, at(DUE)),
        at(DUE) - Duration::hours(1),
    )
    .await
    .expect("enqueue");
    // A minute's lease on a clock 60 times as fast: a second of real time.
    let clock = Clock::starting_at(at(DUE), 60);
    let mut options = DeliveryOptions::for_rate("a".to_owned(), 50);
    options.lease = std::time::Duration::from_secs(60);
    let (started, mut sends) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let outcomes = Arc::new(Outcomes::default());
    let worker = tokio::spawn(delivery::run(
        db.pool.clone(),
        Arc::new(Slow { started }),
        clock,
        options,
        Arc::clone(&outcomes),
        Arc::new(Notify::new()),
        async {
            let _ = stopped.await;
        },
    ));

    let go = sends.recv().await.expect("the send started");
    let claimed_at = clock.now();
    // Three leases long (three seconds of real time) another worker finds nothing to claim.
    while clock.now() < claimed_at + Duration::minutes(3) {
        let taken = outbox::claim_due(&db.pool, "b", clock.now(), Duration::minutes(1), 10)
            .await
            .expect("claim");
        assert!(taken.is_empty(), "b claimed a row a still holds: {taken:?}");
        tokio::task::yield_now().await;
    }
    go.send(()).expect("the send waits");
    let mut counts = outcomes.subscribe();
    counts
        .wait_for(|c| c.sent == 1)
        .await
        .expect("a records its send");
    let _ = stop.send(());
    worker.await.expect("the worker stops");

    let rows = outbox::of_conference(&db.pool, conference)
        .await
        .expect("rows");
    assert_eq!(rows[0].status, OutboxStatus::Sent);
}

#[tokio::test]
async fn a_request_never_leaves_under_a_lost_claim() {
    let standin = crate::discord::standin::StandIn::start().await;
    standin.guilds().add_text(&[LOBBY_CHANNEL]);
    let sender = confbot::discord::sender::DiscordSender::new(
        &standin.url(),
        "stand-in-token".to_owned().into(),
        50,
    )
    .expect("sender");
    let now = at(DUE);
    let lease = BatchLease::new(Clock::starting_at(now, 1), now, Duration::minutes(1));
    // A renewal that no longer returned row 1: another worker has it.
    lease.renewed(&[1, 2], &[2], now + Duration::minutes(1));
    let message = Message {
        content: "⏰ soon".to_owned(),
        ..Message::default()
    };

    let lost = sender
        .deliver(
            Recipient::Channel(LOBBY_CHANNEL),
            &message,
            "n1",
            &Claim::of(&lease, 1),
        )
        .await;
    let held = sender
        .deliver(
            Recipient::Channel(LOBBY_CHANNEL),
            &message,
            "n2",
            &Claim::of(&lease, 2),
        )
        .await;

    assert_eq!(lost, Err(SendError::ClaimLost));
    let posted = standin.messages().posted();
    assert_eq!(held, Ok(Some(posted[0].id)), "the created message's id");
    assert_eq!(posted.len(), 1, "only the held row's request left");
    assert_eq!(posted[0].nonce.as_deref(), Some("n2"));
    assert_eq!(standin.messages().counts().attempts, 1);
}
