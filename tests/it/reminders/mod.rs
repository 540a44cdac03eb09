//! The reminder scheduler end to end: the real planner and delivery loop
//! (`confbot::jobs::run`) with the real Discord sender, against the stand-in's message
//! routes and a real database. Schedules are built around the scheduler's clock, so a
//! reminder falls due a second or two after a test starts.

mod announcements;
mod binary;
mod board;
mod buckets;
mod changes;
mod chaos;
mod delivery;
mod dm_channels;
mod early;
mod events;
mod latency;
mod nonce_window;
mod questions;
mod sender;
mod simulate;
mod spread_changes;
mod threads;
mod updates;
mod wakes;
mod workers;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use confbot::domain::model::TalkId;
use confbot::domain::reminders::{ChannelPlan, LeadTime};
use confbot::jobs::{self, Clock, DeliveryOptions, OutcomeCounts, Outcomes, PlanSettings, Setup};
use confbot::store::outbox::{self, OutboxEntry};
use confbot::store::subscriptions::{self, SubscriptionRef};
use sqlx::PgPool;
use tokio::sync::{oneshot, Notify};

use crate::discord::standin::StandIn;

/// The conference every test here uses.
pub const SLUG: &str = "remindcon";
/// The Barn room's reminder channel.
pub const BARN: u64 = 7_000_000_000_000_001;
/// The channel of rooms without their own.
pub const LOBBY: u64 = 7_000_000_000_000_002;
/// How long a test waits for what it expects.
pub const WAIT: Duration = Duration::from_secs(20);

/// The stand-in, with the reminder channels ([`BARN`], [`LOBBY`]) made in the test guild.
pub async fn standin() -> StandIn {
    let standin = StandIn::start().await;
    standin.guilds().add_text(&[BARN, LOBBY]);
    standin
}

/// Ten minutes, the lead everywhere here.
pub fn ten() -> LeadTime {
    LeadTime::from_minutes(10).expect("lead")
}

/// Barn has its channel ("barn"); every other room uses the lobby.
pub fn plan_settings() -> PlanSettings {
    let channels = ChannelPlan {
        by_room: BTreeMap::from([("Barn".to_owned(), BARN)]),
        default: Some(LOBBY),
        lead: ten(),
        names: BTreeMap::from([(BARN, "barn".to_owned())]),
    };
    PlanSettings {
        default_lead: ten(),
        channel_lead: ten(),
        channels: vec![(SLUG.parse().expect("slug"), channels)],
    }
}

/// One talk of a test schedule.
#[derive(Clone, Copy)]
pub struct Talk<'a> {
    pub uid: &'a str,
    pub title: &'a str,
    pub room: &'a str,
    pub start: DateTime<Utc>,
    pub cancelled: bool,
}

impl<'a> Talk<'a> {
    /// A confirmed talk.
    pub fn new(uid: &'a str, title: &'a str, room: &'a str, start: DateTime<Utc>) -> Self {
        Self {
            uid,
            title,
            room,
            start,
            cancelled: false,
        }
    }
}

/// A talk in Barn due for its reminders (ten minutes ahead) at `due`, subscribed to by
/// users `1..=users`; returns the conference.
pub async fn fan_out(pool: &PgPool, due: DateTime<Utc>, users: u64) -> i64 {
    let start = due + chrono::Duration::minutes(10);
    import(
        pool,
        &ics(&[Talk::new("big", "Everybody Comes", "Barn", start)]),
    )
    .await;
    let (conference, talk) = ids(pool, "big").await;
    for user in 1..=users {
        subscribe(pool, conference, user, talk).await;
    }
    conference
}

/// An iCalendar schedule of 25-minute talks, times in UTC.
pub fn ics(talks: &[Talk<'_>]) -> String {
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//confbot tests//EN\r\nX-WR-CALNAME:Remind Con\r\n",
    );
    for talk in talks {
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:{}\r\nLOCATION:{}\r\n{}END:VEVENT\r\n",
            talk.uid,
            stamp(talk.start),
            stamp(talk.start + chrono::Duration::minutes(25)),
            talk.title,
            talk.room,
            if talk.cancelled { "STATUS:CANCELLED\r\n" } else { "" },
        ));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// Imports `ics` into [`SLUG`] (first import or re-import).
pub async fn import(pool: &PgPool, ics: &str) {
    crate::fixtures::import_text(pool, SLUG, ics).await;
}

/// The conference id and the id of the talk with `uid`.
pub async fn ids(pool: &PgPool, uid: &str) -> (i64, TalkId) {
    let (conference, talk): (i64, i64) =
        sqlx::query_as("SELECT conference_id, id FROM talks WHERE source_id = $1")
            .bind(uid)
            .fetch_one(pool)
            .await
            .expect("the talk is stored");
    (conference, TalkId(talk))
}

/// Subscribes `user` to a talk.
pub async fn subscribe(pool: &PgPool, conference: i64, user: u64, talk: TalkId) {
    let added = subscriptions::subscribe(pool, conference, None, user, SubscriptionRef::Talk(talk))
        .await
        .expect("subscribe");
    assert!(added);
}

/// Plans every conference's reminders at `now`, as the planner's full sweep does.
pub async fn plan_all(pool: &PgPool, now: DateTime<Utc>) {
    jobs::Planner::new(pool.clone(), plan_settings())
        .replan_all(now)
        .await
        .expect("plan");
}

/// The outbox of the conference.
pub async fn outbox_of(pool: &PgPool, conference: i64) -> Vec<OutboxEntry> {
    outbox::of_conference(pool, conference)
        .await
        .expect("outbox")
}

/// Each sent row created exactly one message (matched by its nonce), no message was created
/// without a sent row, and no request repeated a created message: so nothing relied on the
/// stand-in's nonce memory to hide a resend.
pub fn assert_each_sent_row_created_once(
    posted: &[crate::discord::messages::Posted],
    counts: crate::discord::messages::Counts,
    rows: &[OutboxEntry],
) {
    let mut created: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for post in posted {
        *created
            .entry(post.nonce.as_deref().expect("every post has a nonce"))
            .or_default() += 1;
    }
    let sent: std::collections::HashSet<&str> = rows
        .iter()
        .filter(|r| r.status == outbox::OutboxStatus::Sent)
        .map(|r| r.nonce.as_str())
        .collect();
    assert_eq!(
        created
            .keys()
            .copied()
            .collect::<std::collections::HashSet<_>>(),
        sent,
        "messages created for exactly the sent rows"
    );
    assert!(
        created.values().all(|n| *n == 1),
        "a nonce created two messages: {created:?}"
    );
    assert_eq!(counts.deduplicated, 0, "a created message was sent again");
}

/// How a scheduler's sender paces and times out its requests to Discord.
#[derive(Debug, Clone, Copy)]
pub struct Paced {
    pub timeout: Duration,
    /// Requests per second, shared with the other workers alive.
    pub rate: u32,
}

/// A running scheduler (planner and delivery loop) with the real Discord sender.
pub struct Scheduler {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    pub outcomes: Arc<Outcomes>,
    /// What a command notifies after planning its own change.
    pub plan_changed: Arc<Notify>,
}

impl Scheduler {
    /// Starts `confbot::jobs::run` on `db_url` against the stand-in.
    pub async fn start(
        db_url: &str,
        standin: &StandIn,
        clock: Clock,
        worker: &str,
        tune: impl FnOnce(&mut DeliveryOptions),
    ) -> Scheduler {
        let timeout = confbot::discord::sender::REQUEST_TIMEOUT;
        Scheduler::start_timing_out(db_url, standin, clock, worker, timeout, tune).await
    }

    /// [`Scheduler::start`] with requests to Discord that time out after `timeout`.
    pub async fn start_timing_out(
        db_url: &str,
        standin: &StandIn,
        clock: Clock,
        worker: &str,
        timeout: Duration,
        tune: impl FnOnce(&mut DeliveryOptions),
    ) -> Scheduler {
        let paced = Paced {
            timeout,
            rate: 1000,
        };
        Scheduler::start_paced(db_url, standin, clock, worker, paced, tune).await
    }

    /// [`Scheduler::start`] with the sender and the delivery options at `paced`'s rate, as
    /// the binary configures them from `reminders.rate_per_second`.
    pub async fn start_paced(
        db_url: &str,
        standin: &StandIn,
        clock: Clock,
        worker: &str,
        paced: Paced,
        tune: impl FnOnce(&mut DeliveryOptions),
    ) -> Scheduler {
        let pool = confbot::store::connect(db_url, 5).await.expect("pool");
        let sender = confbot::discord::sender::DiscordSender::with_timeout(
            &standin.url(),
            "stand-in-token".to_owned().into(),
            paced.rate,
            paced.timeout,
        )
        .expect("sender");
        let mut options = DeliveryOptions::for_rate(worker.to_owned(), paced.rate);
        tune(&mut options);
        let plan_changed = Arc::new(Notify::new());
        let outcomes = Arc::new(Outcomes::default());
        let setup = Setup {
            plan: plan_settings(),
            clock,
            delivery: options,
            plan_changed: Arc::clone(&plan_changed),
            outcomes: Arc::clone(&outcomes),
            sync: None,
            snapshots: Arc::default(),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            jobs::run(pool, sender, setup, shutdown).await
        });
        Scheduler {
            stop: Some(stop),
            task,
            outcomes,
            plan_changed,
        }
    }

    /// Waits until the delivery outcomes satisfy `reached`; panics after [`WAIT`].
    pub async fn wait_for(
        &self,
        what: &str,
        reached: impl Fn(&OutcomeCounts) -> bool,
    ) -> OutcomeCounts {
        let mut counts = self.outcomes.subscribe();
        let done = tokio::time::timeout(WAIT, counts.wait_for(|c| reached(c))).await;
        match done {
            Ok(Ok(counts)) => *counts,
            _ => panic!("no {what} within {WAIT:?}: {:?}", self.outcomes.counts()),
        }
    }

    /// Graceful stop: unsent claims are released.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let ended = tokio::time::timeout(WAIT, &mut self.task).await;
        ended
            .expect("the scheduler stops in time")
            .expect("no panic")
            .expect("the scheduler ran without error");
    }

    /// A crash: the task dies wherever it is; its claims stay until their lease ends.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}
