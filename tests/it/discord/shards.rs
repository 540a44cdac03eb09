//! Gateway sharding: two bot processes (two `discord::run_observed` in this process) on one
//! database, each running its own shard of two, against one stand-in. Each answers the
//! servers its shard owns, and only the one running shard 0 registers the commands.

use std::sync::Arc;

use confbot::discord::Telemetry;
use tokio::sync::{oneshot, Notify};

use super::commands::text;
use super::payloads::{self, APP_ID, GUILD_ID, USER_ID};
use super::standin::{self, Recorded, StandIn};
use super::{data, live_db, settings, CONFERENCE, ORCHESTRATOR};
use crate::harness::TestDb;

/// A server whose events Discord sends to shard 1 of 2: the stand-in routes by Discord's
/// rule, `(guild_id >> 22) % 2`, which is 0 for [`GUILD_ID`] (its bit 22 is clear) and 1
/// once bit 22 is set. What is tested is the bot: which shard each process identifies as,
/// and which process answers.
const SHARD_1_GUILD: u64 = GUILD_ID + (1 << 22);

/// One bot process: the Discord adapter with its own pool and telemetry.
struct Instance {
    telemetry: Arc<Telemetry>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Instance {
    /// Runs shards `range` of 2 against `standin`, on `db`.
    async fn start(db: &TestDb, standin: &StandIn, range: &str) -> Instance {
        let extra_env = [
            ("CONFBOT__DISCORD__SHARDS", "2"),
            ("CONFBOT__DISCORD__SHARD_RANGE", range),
        ];
        let settings = settings(db, standin, CONFERENCE, &extra_env);
        let pool = confbot::store::connect(&db.url, 5).await.expect("bot pool");
        let telemetry = Arc::new(Telemetry::default());
        let recorder = Arc::clone(&telemetry);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            let plan_changed = Arc::new(Notify::new());
            confbot::discord::run_observed(
                &settings,
                pool,
                plan_changed,
                recorder,
                Arc::default(),
                confbot::discord::rest::Rest::standalone(50),
                shutdown,
            )
            .await
        });
        Instance {
            telemetry,
            stop,
            task,
        }
    }

    /// Stops it as SIGTERM would; returns how many of each command it answered (final
    /// then: shutdown waits for the interactions being answered).
    async fn stop(self) -> Vec<(&'static str, u64)> {
        let _ = self.stop.send(());
        tokio::time::timeout(standin::WAIT, self.task)
            .await
            .expect("the bot stops in time")
            .expect("no panic")
            .expect("the bot ran without error");
        let counts = self.telemetry.commands.counts().into_iter();
        counts.filter(|(_, count)| *count > 0).collect()
    }
}

/// `/command` from `guild` (`None`: a direct message); returns its callback.
async fn ask(standin: &StandIn, id: u64, command: &str, guild: Option<u64>) -> Recorded {
    let token = format!("shards-{id}");
    let interaction = payloads::slash(id, &token, command, &[]);
    let interaction = match guild {
        Some(guild) => payloads::as_member_of(interaction, guild, USER_ID, 0, &[]),
        None => payloads::in_dm(interaction),
    };
    standin.send_interaction(interaction).await;
    let suffix = format!("/{token}/callback");
    standin
        .wait_for("interaction callback", |r| {
            r.method == "POST" && r.path.ends_with(&suffix)
        })
        .await
}

fn registrations(standin: &StandIn) -> Vec<Recorded> {
    let path = format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands");
    let requests = standin.requests().into_iter();
    requests.filter(|r| r.is("PUT", &path)).collect()
}

#[tokio::test]
async fn two_processes_each_run_one_shard_and_answer_the_servers_it_owns() {
    let (db, _) = live_db(ORCHESTRATOR).await;
    let standin = StandIn::start().await;

    // Shard 1's process alone first: it connects and answers, and registers nothing.
    let second = Instance::start(&db, &standin, "1").await;
    standin.wait_for_session(1).await;
    let on_shard_1 = ask(&standin, 1, "next", Some(SHARD_1_GUILD)).await;
    let registered_by_shard_1 = registrations(&standin).len();
    let first = Instance::start(&db, &standin, "0").await;
    standin.wait_for_session(0).await;
    let registration = standin
        .wait_for("the commands registered", |r| {
            r.path.ends_with(&format!("/guilds/{GUILD_ID}/commands"))
        })
        .await;
    let on_shard_0 = ask(&standin, 2, "next", Some(GUILD_ID)).await;
    let in_dm = ask(&standin, 3, "help", None).await;
    let first = first.stop().await;
    let second = second.stop().await;

    assert_eq!(
        standin.identified_shards(),
        [[1, 2], [0, 2]],
        "one identify per process, each its own shard of 2"
    );
    assert_eq!(registered_by_shard_1, 0);
    assert_eq!(registration.method, "PUT");
    assert_eq!(registrations(&standin).len(), 1, "registered once");
    // Both read the one database.
    for answer in [&on_shard_0, &on_shard_1] {
        assert_eq!(answer.body["type"], 4);
        let next = text(data(answer));
        assert!(next.contains("**Flask for Fun and Profit**"), "{next}");
    }
    assert_eq!(in_dm.body["type"], 4);
    assert_eq!(
        first,
        [("help", 1), ("next", 1)],
        "shard 0's process: its server and the DM"
    );
    assert_eq!(second, [("next", 1)], "shard 1's process: its server");
}
