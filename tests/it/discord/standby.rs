//! One gateway per shard: a second `confbot run` configured with the same shards stands by
//! (healthy, saying so in `/healthz` and `/metrics`, not connected to the gateway) and takes
//! over when the first one dies (SIGKILL) or stops (SIGTERM, as a rolling deploy does). A
//! stopping holder hands over: the standby connects first, and no interaction of the deploy
//! is lost or answered twice.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::watch;

use super::bot_env;
use super::payloads;
use super::standin::{Delivered, StandIn, WAIT};
use crate::harness::TestDb;
use crate::ops::{get, prometheus, scrape_until};
use crate::process::{confbot, Process};

const SLUG: &str = "standby-con";

fn start(db: &TestDb, standin: &StandIn) -> Process {
    let mut command = confbot();
    command
        .envs(bot_env(db, standin, SLUG))
        .env("CONFBOT__WEB__LISTEN", "127.0.0.1:0")
        .arg("run");
    Process::spawn_json(&mut command, WAIT)
}

/// `/help` through the gateway; returns the path of the callback that answered it.
async fn help_answered(standin: &StandIn, id: u64) -> String {
    let token = format!("standby-help-{id}");
    standin
        .send_interaction(payloads::slash(id, &token, "help", &[]))
        .await;
    let path = format!("/{token}/callback");
    standin
        .wait_for("the /help answer", |r| r.path.ends_with(&path))
        .await
        .path
}

/// `/healthz` until it answers `expected`, at most [`WAIT`]: a bounded poll of a condition
/// another process brings about. The last answer either way.
async fn health_until(ops: SocketAddr, expected: &str) -> (u16, String) {
    let mut last = (0, String::new());
    // Paced: the process answering is the one being tested, on a machine shared with it.
    let mut pace = tokio::time::interval(Duration::from_millis(20));
    let polled = tokio::time::timeout(WAIT, async {
        loop {
            pace.tick().await;
            last = get(ops, "/healthz").await;
            if last.1 == expected {
                return;
            }
        }
    })
    .await;
    if polled.is_err() {
        eprintln!("{ops}: /healthz never said {expected:?}");
    }
    last
}

const STANDBY_HEALTH: &str =
    "ok: standby (another process runs these gateway shards; this one takes over when it stops)\n";

/// Identifies the stand-in received so far.
fn identifies(standin: &StandIn) -> usize {
    standin.identifies().len()
}

async fn takes_over(kill: bool) {
    let db = TestDb::new().await;
    let standin = StandIn::start().await;
    let mut first = start(&db, &standin);
    let first_ops = first.bound("web surface listening").await;
    standin.wait_for_identify().await;
    help_answered(&standin, 1).await;

    let mut second = start(&db, &standin);
    let second_ops = second.bound("web surface listening").await;
    let standing_by = second.logged("standing by to take over").await;
    // Its other parts (the delivery loop) may still be starting.
    let (standby_status, standby_health) = health_until(second_ops, STANDBY_HEALTH).await;
    let standby_metrics = scrape_until(second_ops, "the standby's gauge", |page| {
        page.value("confbot_gateway_standby") == 1.0
    })
    .await;
    let (_, active_metrics) = get(first_ops, "/metrics").await;
    let active_metrics = prometheus::parse(&active_metrics).expect("metrics page");
    let identified_by_the_first = identifies(&standin);
    // Answered by the first process: the standby has no session to receive it.
    help_answered(&standin, 2).await;

    if kill {
        first.kill().await;
    } else {
        let exit = first.stop().await;
        assert_eq!(exit.code, Some(0), "{}", exit.log());
    }
    let took_over = second.logged("took over the gateway lease").await;
    let answered_after = help_answered(&standin, 3).await;
    let (status, health) = health_until(second_ops, "ok\n").await;
    let (_, metrics) = get(second_ops, "/metrics").await;
    let metrics = prometheus::parse(&metrics).expect("metrics page");
    let second = second.stop().await;

    assert!(standing_by.contains("WARN"), "{standing_by}");
    assert_eq!(
        (standby_status, standby_health.as_str()),
        (200, STANDBY_HEALTH),
        "a standby is healthy and says what it is"
    );
    assert_eq!(standby_metrics.value("confbot_gateway_connected"), 0.0);
    assert!(active_metrics
        .samples
        .contains_key("confbot_gateway_standby"));
    assert_eq!(active_metrics.value("confbot_gateway_standby"), 0.0);
    assert_eq!(active_metrics.value("confbot_gateway_connected"), 1.0);
    assert_eq!(
        identified_by_the_first, 1,
        "only the lease holder identified while both ran"
    );
    assert_eq!(
        identifies(&standin),
        2,
        "the standby identified once, after taking over"
    );
    assert!(took_over.contains("took over"), "{took_over}");
    assert!(answered_after.ends_with("/standby-help-3/callback"));
    assert_eq!((status, health.as_str()), (200, "ok\n"));
    assert_eq!(metrics.value("confbot_gateway_standby"), 0.0);
    assert_eq!(second.code, Some(0), "{}", second.log());
}

#[tokio::test]
async fn a_standby_takes_over_the_gateway_when_the_holder_is_killed() {
    takes_over(true).await;
}

#[tokio::test]
async fn a_standby_takes_over_the_gateway_when_the_holder_stops_for_a_rolling_deploy() {
    takes_over(false).await;
}

/// A user typing `/help` every 20 milliseconds (each a fresh interaction, straight into the
/// gateway: one that finds no session fails, as at Discord) until `done`, and a few times
/// after. `asked` counts them. Returns each token with its delivery (`None`: no session
/// received it).
async fn ask_help_until(
    standin: &StandIn,
    asked: watch::Sender<usize>,
    mut done: watch::Receiver<bool>,
) -> Vec<(String, Option<Delivered>)> {
    // 50 a second: a gap of a few tens of milliseconds without a session shows.
    const EVERY: Duration = Duration::from_millis(20);
    const AFTER: usize = 20;
    let mut sent = Vec::new();
    let mut pace = tokio::time::interval(EVERY);
    let mut after = 0;
    while after < AFTER {
        pace.tick().await;
        let id = 10_000 + sent.len() as u64;
        let token = format!("deploy-help-{id}");
        let delivered = standin.send_interaction_now(payloads::slash(id, &token, "help", &[]));
        sent.push((token, delivered));
        asked.send_replace(sent.len());
        if *done.borrow_and_update() {
            after += 1;
        }
    }
    sent
}

#[tokio::test]
async fn a_rolling_deploy_hands_the_gateway_over_and_answers_every_interaction_once() {
    let db = TestDb::new().await;
    let standin = StandIn::start().await;
    let mut first = start(&db, &standin);
    first.bound("web surface listening").await;
    standin.wait_for_identify().await;
    let mut second = start(&db, &standin);
    second.bound("web surface listening").await;
    second.logged("standing by to take over").await;

    let (asked, mut asked_so_far) = watch::channel(0);
    let (done, done_rx) = watch::channel(false);
    let deploying = async {
        // SIGTERM mid-stream: some asks answered by the holder before it.
        asked_so_far
            .wait_for(|&count| count >= 20)
            .await
            .expect("the asker runs");
        let holder = first.stop().await;
        second.logged("took over the gateway lease").await;
        done.send_replace(true);
        holder
    };
    let (help, holder) = tokio::join!(ask_help_until(&standin, asked, done_rx), deploying);
    // Both processes answer what they received before they exit.
    let second = second.stop().await;

    let undelivered: Vec<&String> = help
        .iter()
        .filter(|(_, delivered)| delivered.is_none())
        .map(|(token, _)| token)
        .collect();
    assert_eq!(
        undelivered,
        Vec::<&String>::new(),
        "every /help of the deploy found a session ({} asked)",
        help.len()
    );
    let to_both = help
        .iter()
        .filter(|(_, delivered)| delivered.is_some_and(|d| d.sessions == 2))
        .count();
    let requests = standin.requests();
    let answers = |token: &str| {
        let path = format!("/{token}/callback");
        requests.iter().filter(|r| r.path.ends_with(&path)).count()
    };
    let not_once: Vec<(&String, usize)> = help
        .iter()
        .map(|(token, _)| (token, answers(token)))
        .filter(|&(_, answers)| answers != 1)
        .collect();
    assert_eq!(not_once, Vec::new(), "each /help answered once");
    assert!(
        to_both > 0,
        "some /help went to both processes' sessions, and was answered once"
    );
    // Here rather than at the stand-in's drop, with both logs.
    let refused = standin.interactions().unexpected_refusals();
    assert!(
        refused.is_empty(),
        "refused as Discord would: {refused:#?}\nholder:\n{}\nsuccessor:\n{}",
        holder.log(),
        second.log()
    );
    assert_eq!(holder.code, Some(0), "{}", holder.log());
    let log = holder.log();
    assert!(log.contains("handing the gateway over"), "{log}");
    assert!(log.contains("the standby is connected"), "{log}");
    let log = second.log();
    let connecting = log.find("connecting to take over");
    let took_over = log.find("took over the gateway lease");
    assert!(
        matches!((connecting, took_over), (Some(c), Some(t)) if c < t),
        "connected first, took the lease after: {log}"
    );
    assert_eq!(second.code, Some(0), "{log}");
    assert_eq!(identifies(&standin), 2, "one identify each");
}
