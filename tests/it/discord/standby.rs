//! One gateway per shard: a second `confbot run` configured with the same shards stands by
//! (healthy, saying so in `/healthz` and `/metrics`, not connected to the gateway) and takes
//! over when the first one dies (SIGKILL) or stops (SIGTERM, as a rolling deploy does).

use std::net::SocketAddr;

use super::bot_env;
use super::payloads;
use super::standin::{StandIn, WAIT};
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

/// `/healthz` until it answers `ok\n` (every shard connected), at most [`WAIT`]: a bounded
/// poll of a condition another process brings about.
async fn healthy_and_connected(ops: SocketAddr) -> (u16, String) {
    let polled = tokio::time::timeout(WAIT, async {
        loop {
            let answer = get(ops, "/healthz").await;
            if answer == (200, "ok\n".to_owned()) {
                return answer;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    polled.unwrap_or_else(|_| panic!("{ops}: /healthz never said every shard is connected"))
}

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
    let (standby_status, standby_health) = get(second_ops, "/healthz").await;
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
    let (status, health) = healthy_and_connected(second_ops).await;
    let (_, metrics) = get(second_ops, "/metrics").await;
    let metrics = prometheus::parse(&metrics).expect("metrics page");
    let second = second.stop().await;

    assert!(standing_by.contains("WARN"), "{standing_by}");
    assert_eq!(
        (standby_status, standby_health.as_str()),
        (
            200,
            "ok: standby (another process runs these gateway shards; this one takes over \
             when it stops)\n"
        ),
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
