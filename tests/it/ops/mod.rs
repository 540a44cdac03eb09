//! The operations endpoint (`/healthz`, `/metrics`) and the container image's assumptions.
//!
//! [`Running`] is `confbot run` assembled in the process from its real parts: the Discord
//! adapter against the stand-in, the scheduler delivering a reminder due two seconds after
//! the start, and `confbot::ops::serve` on a free port, reading both.

mod binary;
mod endpoint;
mod image;
pub mod prometheus;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DurationRound, TimeDelta, Utc};
use confbot::discord::Telemetry;
use confbot::jobs::Clock;
use confbot::ops::{self, Ops};
use tokio::sync::{oneshot, Notify};

use crate::discord;
use crate::discord::payloads::{self, APP_ID, GUILD_ID};
use crate::discord::standin::{Recorded, StandIn};
use crate::harness::TestDb;
use crate::reminders::{ics, ids, import, subscribe, Scheduler, Talk, SLUG, WAIT};

/// The user subscribed to the reminded talk.
pub const SUBSCRIBER: u64 = 42;

/// The parts of a running bot, with the endpoint serving them.
pub struct Running {
    pub db: TestDb,
    pub standin: StandIn,
    pub scheduler: Scheduler,
    pub telemetry: Arc<Telemetry>,
    /// The endpoint's pool (its own, so a test can close it alone).
    pub ops_pool: sqlx::PgPool,
    pub addr: SocketAddr,
    bot: Option<(
        oneshot::Sender<()>,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    )>,
    endpoint: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl Running {
    /// Starts everything and waits until the bot registered its commands (READY handled).
    pub async fn start() -> Running {
        Running::start_with(&[], |_| {}).await
    }

    /// [`Running::start`] with these settings added, and `prepare` applied to the stand-in
    /// before the bot connects to it.
    pub async fn start_with(extra_env: &[(&str, &str)], prepare: impl FnOnce(&StandIn)) -> Running {
        let db = TestDb::new().await;
        let now = Utc::now()
            .duration_trunc(TimeDelta::seconds(1))
            .expect("trunc");
        // Due two seconds from now: channel and DM leads are ten minutes.
        let start = now + TimeDelta::minutes(10) + TimeDelta::seconds(2);
        let talk = Talk {
            uid: "ops",
            title: "Observable Talk",
            room: "Barn",
            start,
            cancelled: false,
        };
        import(&db.pool, &ics(&[talk])).await;
        let (conference, talk) = ids(&db.pool, "ops").await;
        subscribe(&db.pool, conference, SUBSCRIBER, talk).await;
        let standin = crate::reminders::standin().await;
        prepare(&standin);

        let settings = discord::settings(&db, &standin, SLUG, extra_env);
        let telemetry = Arc::new(Telemetry::default());
        let bot_pool = confbot::store::connect(&db.url, 5).await.expect("bot pool");
        let (stop_bot, bot_stopped) = oneshot::channel::<()>();
        let bot_telemetry = Arc::clone(&telemetry);
        let bot = tokio::spawn(async move {
            let shutdown = async {
                let _ = bot_stopped.await;
            };
            let plan_changed = Arc::new(Notify::new());
            confbot::discord::run_observed(
                &settings,
                bot_pool,
                plan_changed,
                bot_telemetry,
                Arc::default(),
                confbot::discord::rest::Rest::standalone(50),
                shutdown,
            )
            .await
        });
        let scheduler =
            Scheduler::start(&db.url, &standin, Clock::wall(), "ops-test", |_| {}).await;

        let ops_pool = confbot::store::connect(&db.url, 2).await.expect("ops pool");
        let listener = ops::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("bound");
        let state = Arc::new(Ops {
            pool: ops_pool.clone(),
            invalid: Arc::default(),
            telemetry: Arc::clone(&telemetry),
            outcomes: Arc::clone(&scheduler.outcomes),
            delivery_stale_after: Duration::from_secs(120),
            parts: confbot::ops::Parts::ALL,
        });
        let (stop_endpoint, endpoint_stopped) = oneshot::channel::<()>();
        let endpoint = tokio::spawn(ops::serve(listener, state, async {
            let _ = endpoint_stopped.await;
        }));

        let path = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
        standin
            .wait_for("registration", |r| r.is("PUT", &path))
            .await;
        Running {
            db,
            standin,
            scheduler,
            telemetry,
            ops_pool,
            addr,
            bot: Some((stop_bot, bot)),
            endpoint: Some((stop_endpoint, endpoint)),
        }
    }

    /// Sends `/command` through the stand-in's gateway and returns its callback.
    pub async fn slash(&self, id: u64, command: &str) -> Recorded {
        let token = format!("ops-{id}");
        self.standin
            .send_interaction(payloads::slash(id, &token, command, &[]))
            .await;
        let suffix = format!("/{token}/callback");
        self.standin
            .wait_for("interaction callback", |r| {
                r.method == "POST" && r.path.ends_with(&suffix)
            })
            .await
    }

    /// Stops the Discord adapter as SIGTERM would (the gateway closes).
    pub async fn stop_bot(&mut self) {
        if let Some((stop, task)) = self.bot.take() {
            let _ = stop.send(());
            tokio::time::timeout(WAIT, task)
                .await
                .expect("the bot stops in time")
                .expect("no panic")
                .expect("the bot ran without error");
        }
    }

    /// Stops everything; the endpoint's task must end when asked.
    pub async fn stop(mut self) {
        self.stop_bot().await;
        if let Some((stop, task)) = self.endpoint.take() {
            let _ = stop.send(());
            tokio::time::timeout(WAIT, task)
                .await
                .expect("the endpoint stops in time")
                .expect("no panic");
        }
        self.scheduler.stop().await;
    }
}

/// `GET path` on the endpoint: status and body.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Scrapes `/metrics` until `done` holds for the parsed page (at most [`WAIT`]), and
/// returns that page. A counter is bumped just after the stand-in saw the request it
/// counts, so the first scrape may miss it by microseconds: this is a bounded condition
/// poll on another task, not a sleep standing in for synchronisation.
pub async fn scrape_until(
    addr: SocketAddr,
    what: &str,
    done: impl Fn(&prometheus::Page) -> bool,
) -> prometheus::Page {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, text) = get(addr, "/metrics").await;
        assert_eq!(status, 200, "{text}");
        let page = prometheus::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        if done(&page) {
            return page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {what} within {WAIT:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
