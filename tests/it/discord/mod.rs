//! The real confbot app against a local Discord stand-in: registration, commands,
//! autocomplete, buttons, mentions, deadlines, two processes splitting the gateway shards;
//! in-process and as the built binary.
//!
//! [`Bot::start`] gives each test a fresh database with a schedule around the current time,
//! a stand-in, and `confbot::discord::run` connected to it through `discord.proxy_url`.

mod announcements;
mod announcements_manage;
mod binary;
mod channels;
pub mod commands;
mod deadline;
pub mod endpoint;
mod gateway;
pub mod guilds;
pub mod interactions;
mod limits;
pub mod messages;
mod multipart;
mod network;
pub mod payloads;
mod privacy;
mod questions;
mod ratelimits;
mod replicas;
pub mod responses;
mod sessions;
mod setup;
mod setup_events;
mod setup_guilds;
mod setup_live;
mod setup_updates;
mod setup_web;
mod shards;
mod standby;
pub mod standin;
mod strict;
mod subscriptions;
mod sync;
mod sync_preview;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use confbot::config::Settings;
use serde_json::Value;
use tokio::sync::{oneshot, Notify};

use crate::harness::TestDb;
use payloads::{APP_ID, GUILD_ID};
use standin::{Recorded, StandIn};

/// The conference the test guild is mapped to.
pub const CONFERENCE: &str = "livecon";
/// The talk running when a test starts (in Barn, until 20 minutes from now).
pub const ORCHESTRATOR: &str = "Python as Orchestrator: When to Glue, When to Compute";
/// Lightning talks in the schedule: enough that a day's programme needs several messages.
pub const LIGHTNING_TALKS: usize = 150;

/// A running bot, its stand-in and its database.
pub struct Bot {
    pub standin: StandIn,
    pub db: TestDb,
    /// The minute the schedule was built around (see [`live_schedule`]).
    pub now: DateTime<Utc>,
    /// The bot's `plan_changed`: notified on every subscription, lead or channel change.
    pub plan_changed: Arc<Notify>,
    stop: Option<oneshot::Sender<()>>,
    app: tokio::task::JoinHandle<anyhow::Result<()>>,
    next_id: AtomicU64,
}

impl Bot {
    /// A bot whose guild sees [`CONFERENCE`], imported from [`live_schedule`] with `title`
    /// for the talk running now.
    pub async fn start_with_title(title: &str, extra_env: &[(&str, &str)]) -> Bot {
        let (db, now) = live_db(title).await;
        let standin = StandIn::start().await;
        let settings = settings(&db, &standin, CONFERENCE, extra_env);
        // Its own pool, as in production: a test holding locks through `db.pool` then
        // competes with the bot like another process would.
        let pool = confbot::store::connect(&db.url, 5).await.expect("bot pool");
        let (stop, stopped) = oneshot::channel::<()>();
        let plan_changed = Arc::new(Notify::new());
        let notified = Arc::clone(&plan_changed);
        let app = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            confbot::discord::run(&settings, pool, plan_changed, shutdown).await
        });
        Bot {
            standin,
            db,
            now,
            plan_changed: notified,
            stop: Some(stop),
            app,
            next_id: AtomicU64::new(7_000),
        }
    }

    /// A bot with the usual schedule.
    pub async fn start() -> Bot {
        Bot::start_with_title(ORCHESTRATOR, &[]).await
    }

    /// A fresh interaction id and token.
    pub fn next_interaction(&self) -> (u64, String) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        (id, format!("token-{id}"))
    }

    /// Invokes `/command` with string options; returns the token and when it was sent.
    pub async fn slash(&self, command: &str, options: &[(&str, &str)]) -> (String, Instant) {
        let (id, token) = self.next_interaction();
        let sent = self
            .standin
            .send_interaction(payloads::slash(id, &token, command, options))
            .await;
        (token, sent)
    }

    /// The interaction callback (first response) for `token`.
    pub async fn callback(&self, token: &str) -> Recorded {
        let suffix = format!("/{token}/callback");
        self.standin
            .wait_for("interaction callback", |r| {
                r.method == "POST" && r.path.ends_with(&suffix)
            })
            .await
    }

    /// The edit of the original response for `token`.
    pub async fn edit(&self, token: &str) -> Recorded {
        let path = format!("/api/v10/webhooks/{APP_ID}/{token}/messages/@original");
        self.standin
            .wait_for("edit of the original response", |r| r.is("PATCH", &path))
            .await
    }

    /// The follow-up messages for `token` received so far, in order.
    pub fn followups(&self, token: &str) -> Vec<Recorded> {
        let path = format!("/api/v10/webhooks/{APP_ID}/{token}");
        let requests = self.standin.requests();
        requests
            .into_iter()
            .filter(|r| r.is("POST", &path))
            .collect()
    }

    /// Waits until the follow-ups for `token` satisfy `done`, and returns them.
    pub async fn followups_until(
        &self,
        token: &str,
        done: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        self.standin
            .wait_for("follow-ups", |_| done(&self.followups(token)))
            .await;
        self.followups(token)
    }

    /// Every message the bot sent so far: interaction responses that are messages (type
    /// 4), follow-ups and edits.
    pub fn sent_messages(&self) -> Vec<Value> {
        self.standin
            .requests()
            .into_iter()
            .filter_map(|r| match r.body["type"].as_u64() {
                Some(4) => Some(r.body["data"].clone()),
                _ if r.path.starts_with("/api/v10/webhooks/") && r.method != "DELETE" => {
                    Some(r.body)
                }
                _ => None,
            })
            .collect()
    }

    /// Stops the bot as SIGTERM would and returns how `run` ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(standin::WAIT, &mut self.app)
            .await
            .expect("the bot stops in time")
            .expect("the bot task did not panic")
    }
}

/// The environment of a bot on `db` that reaches Discord through `standin` and answers
/// for `conference` by default (as a built binary is given it).
pub fn bot_env(db: &TestDb, standin: &StandIn, conference: &str) -> Vec<(String, String)> {
    [
        ("DISCORD_TOKEN", "stand-in-token".to_owned()),
        ("DATABASE_URL", db.url.clone()),
        ("CONFBOT__DISCORD__PROXY_URL", standin.url()),
        ("CONFBOT__DEFAULTS__CONFERENCE", conference.to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

/// Lets a bot fetch schedule sources from the tests' servers on 127.0.0.1 (refused by
/// default: loopback is no public address).
pub const ALLOW_PRIVATE_ADDRESSES: (&str, &str) =
    ("CONFBOT__IMPORT__ALLOW_PRIVATE_ADDRESSES", "true");

/// The settings of a bot in process: [`bot_env`] with the commands registered in
/// [`GUILD_ID`], and `extra_env` added.
pub fn settings(
    db: &TestDb,
    standin: &StandIn,
    conference: &str,
    extra_env: &[(&str, &str)],
) -> Settings {
    let mut env = bot_env(db, standin, conference);
    env.push((
        "CONFBOT__DISCORD__GUILD_IDS".to_owned(),
        format!("[{GUILD_ID}]"),
    ));
    env.extend(
        extra_env
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
    );
    Settings::load(None, &env).expect("settings")
}

/// Holds the imports table locked (ACCESS EXCLUSIVE) until the returned transaction ends:
/// a bot's first programme load then waits on it, as on a slow database.
pub async fn lock_imports(db: &TestDb) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut blocker = db.pool.begin().await.expect("transaction");
    sqlx::query("LOCK TABLE imports IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    blocker
}

/// A fresh database with [`live_schedule`] (`title` running now) imported into
/// [`CONFERENCE`], and the minute it was built around.
pub async fn live_db(title: &str) -> (TestDb, DateTime<Utc>) {
    let db = TestDb::new().await;
    let now = Utc::now()
        .duration_trunc(TimeDelta::minutes(1))
        .expect("truncate");
    import_ics(&db, &live_schedule(now, title)).await;
    (db, now)
}

/// How many PATCH requests (edits of a message) the stand-in has received so far.
pub fn patches(standin: &StandIn) -> usize {
    let requests = standin.requests();
    requests.iter().filter(|r| r.method == "PATCH").count()
}

/// Imports an iCalendar schedule into [`CONFERENCE`].
pub async fn import_ics(db: &TestDb, ics: &str) {
    crate::fixtures::import_text(&db.pool, CONFERENCE, ics).await;
}

/// A pretalx-style calendar (in UTC) built around `now`: `title` runs in Barn from 10
/// minutes ago for 30 minutes, two talks follow in Loft and Barn, and [`LIGHTNING_TALKS`]
/// five-minute talks fill three stages on today's date, away from now.
pub fn live_schedule(now: DateTime<Utc>, title: &str) -> String {
    let now = now.duration_trunc(TimeDelta::minutes(1)).expect("truncate");
    let midnight = now.duration_trunc(TimeDelta::days(1)).expect("truncate");
    let mut talks = vec![
        (
            "LIVE01".to_owned(),
            now - TimeDelta::minutes(10),
            30,
            "Barn",
            format!("{title} - Freya Bhushan Mehta"),
        ),
        (
            "LIVE02".to_owned(),
            now + TimeDelta::minutes(30),
            45,
            "Loft",
            "Flask for Fun and Profit - Armin Ronacher".to_owned(),
        ),
        (
            "LIVE03".to_owned(),
            now + TimeDelta::minutes(40),
            30,
            "Barn",
            "What to do when your data is large\\, but not big - Dillon Niederhut".to_owned(),
        ),
    ];
    // The lightning talks fill a stretch of `now`'s day clear of the talks around now: from
    // midnight when they end an hour before now, else from two hours after now (a run in the
    // first hours of a UTC day used to find them running, and `/ask` suggested them).
    let block = TimeDelta::minutes(5 * LIGHTNING_TALKS.div_ceil(3) as i64);
    let first = if midnight + block + TimeDelta::hours(1) <= now {
        midnight
    } else {
        now + TimeDelta::hours(2)
    };
    for i in 0..LIGHTNING_TALKS {
        let stage = ["Stage A", "Stage B", "Stage C"][i % 3];
        let start = first + TimeDelta::minutes(5 * (i / 3) as i64);
        let summary = format!("Lightning talk {i}: notes from a test suite - Speaker {i}");
        talks.push((format!("LT{i:03}"), start, 5, stage, summary));
    }
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut ics = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:Live Conf\r\nX-WR-TIMEZONE:UTC\r\n\
         PRODID:-//pretalx//pretalx.example.org//livecon\r\n",
    );
    for (code, start, minutes, room, summary) in talks {
        ics.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:pretalx-livecon-{code}@pretalx.example.org\r\n\
             DTSTART:{}\r\nDTEND:{}\r\nDESCRIPTION:About {code}.\r\nDTSTAMP:20260101T000000Z\r\n\
             LOCATION:{room}\r\nSUMMARY:{summary}\r\n\
             URL:https://pretalx.example.org/livecon/talk/{code}/\r\nEND:VEVENT\r\n",
            stamp(start),
            stamp(start + TimeDelta::minutes(minutes)),
        ));
    }
    ics.push_str("END:VCALENDAR\r\n");
    ics
}

/// The JSON body's `data` of an interaction callback (type 4 or 5 responses).
pub fn data(callback: &Recorded) -> &Value {
    &callback.body["data"]
}

/// Whether a message body sets `flags` to ephemeral (64).
pub fn is_ephemeral(message: &Value) -> bool {
    message["flags"]
        .as_u64()
        .is_some_and(|flags| flags & 64 != 0)
}
