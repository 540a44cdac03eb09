//! The rolling restart's helpers: waiting for the new process to deliver, and asking
//! `/help` through the gateway throughout, to see that interactions are answered while the
//! gateway lease moves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::payloads;
use super::standin::StandIn;

/// Each `/help` asked: its interaction token, when it was asked, and whether a gateway
/// session received it (one that found none failed, as at Discord).
pub type Asked = Arc<Mutex<Vec<(String, Instant, bool)>>>;

/// How often `/help` is asked during a rolling restart: often enough that a gap of a few
/// hundred milliseconds without a session shows.
const ASK_EVERY: Duration = Duration::from_millis(100);

/// Until two delivery workers have a heartbeat (the new process has joined; it claims once
/// the others have slowed to their share, `JOIN_WAIT` later).
pub async fn wait_for_second_worker(pool: &PgPool) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let (alive,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM delivery_workers WHERE seen_at > now() - interval '2 seconds'",
        )
        .fetch_one(pool)
        .await?;
        if alive >= 2 {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < until, "the new process never delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Once the bot is first connected, asks `/help` through the gateway every [`ASK_EVERY`],
/// whether or not the last was answered (an answer that never comes must not stop the
/// asking), and records each. An interaction asked while its shard has no session fails, as
/// at Discord: a rolling restart that leaves a gap loses what is asked in it.
pub async fn ask_help_throughout(standin: Arc<StandIn>, asked: Asked) {
    standin.wait_for_identify().await;
    let mut every = tokio::time::interval(ASK_EVERY);
    // After a stall, on at the same pace rather than a burst of the asks missed.
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for id in 1_u64.. {
        every.tick().await;
        let token = format!("keynote-help-{id}");
        let help = payloads::slash(900_000 + id, &token, "help", &[]);
        let asked_at = Instant::now();
        let delivered = standin.send_interaction_now(help);
        let at = delivered.map_or(asked_at, |delivered| delivered.at);
        asked.lock().unwrap().push((token, at, delivered.is_some()));
    }
}

/// How many `/help`s were asked and answered, and the longest from asking to the answer's
/// arrival at the stand-in. Waits up to 15 s for answers still due; each one still missing is
/// printed with when it was asked, relative to the stop of the first process, and whether a session received
/// it.
pub async fn answers(
    standin: &StandIn,
    asked: &Asked,
    stopped_at: Option<Instant>,
) -> (usize, usize, Duration) {
    let asked = asked.lock().unwrap().clone();
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let requests = standin.requests();
        // Each token's first answer, and how many answers it drew (two processes answering
        // one interaction would show here: Discord refuses the second).
        let mut answered: HashMap<&str, (Instant, usize)> = HashMap::new();
        for r in &requests {
            let segments: Vec<&str> = r.path.split('/').collect();
            if let [.., "interactions", _, token, "callback"] = segments.as_slice() {
                let (_, count) = answered.entry(*token).or_insert((r.at, 0));
                *count += 1;
            }
        }
        let waits: Vec<Option<Duration>> = asked
            .iter()
            .map(|(token, at, _)| {
                answered
                    .get(token.as_str())
                    .map(|(answer, _)| *answer - *at)
            })
            .collect();
        let due = asked.iter().zip(&waits);
        let settled = due
            .filter(|((_, _, delivered), _)| *delivered)
            .all(|(_, w)| w.is_some());
        if settled || Instant::now() >= until {
            for (token, (_, count)) in &answered {
                if *count > 1 && token.starts_with("keynote-help-") {
                    eprintln!("  /help {token} answered {count} times");
                }
            }
            for ((token, at, delivered), wait) in asked.iter().zip(&waits) {
                if wait.is_none() {
                    let after = stopped_at.map_or(f64::NAN, |stopped_at| {
                        let (later, sooner) = (
                            at.saturating_duration_since(stopped_at),
                            stopped_at.saturating_duration_since(*at),
                        );
                        (later.as_secs_f64() - sooner.as_secs_f64()) * 1000.0
                    });
                    let why = if *delivered {
                        "unanswered"
                    } else {
                        "failed, no session"
                    };
                    eprintln!("  /help {token} {why}: asked {after:+.0} ms from the stop (SIGTERM, or SIGKILL for `takeover`)");
                }
            }
            let answered: Vec<Duration> = waits.into_iter().flatten().collect();
            let longest = answered.iter().copied().max().unwrap_or_default();
            return (asked.len(), answered.len(), longest);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
