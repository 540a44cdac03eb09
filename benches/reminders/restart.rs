//! The rolling restart's helpers: waiting for the new process to deliver, and asking
//! `/help` through the gateway throughout, to see that interactions are answered while the
//! gateway lease moves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::payloads;
use super::standin::StandIn;

/// Each `/help` asked: its interaction token, and when it was asked.
pub type Asked = Arc<Mutex<Vec<(String, Instant)>>>;

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

/// Asks `/help` through the gateway every half second, whether or not the last was answered
/// (an answer that never comes must not stop the asking), and records each. An interaction
/// asked while no process holds the gateway waits for one (Discord would fail it after 3 s:
/// the longest wait shows whether it would).
pub async fn ask_help_every_half_second(standin: Arc<StandIn>, asked: Asked) {
    let mut every = tokio::time::interval(Duration::from_millis(500));
    // After a stall, on at the same pace rather than a burst of the asks missed.
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for id in 1_u64.. {
        every.tick().await;
        let token = format!("keynote-help-{id}");
        asked.lock().unwrap().push((token.clone(), Instant::now()));
        let standin = Arc::clone(&standin);
        tokio::spawn(async move {
            let help = payloads::slash(900_000 + id, &token, "help", &[]);
            standin.send_interaction(help).await;
        });
    }
}

/// How many `/help`s were asked and answered, and the longest from asking to the answer's
/// arrival at the stand-in. Waits up to 15 s for answers still due; each one still missing is
/// printed with when it was asked, relative to the SIGTERM.
pub async fn answers(
    standin: &StandIn,
    asked: &Asked,
    sigterm: Option<Instant>,
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
            .map(|(token, at)| {
                answered
                    .get(token.as_str())
                    .map(|(answer, _)| *answer - *at)
            })
            .collect();
        if waits.iter().all(Option::is_some) || Instant::now() >= until {
            for (token, (_, count)) in &answered {
                if *count > 1 && token.starts_with("keynote-help-") {
                    eprintln!("  /help {token} answered {count} times");
                }
            }
            for ((token, at), wait) in asked.iter().zip(&waits) {
                if wait.is_none() {
                    let after = sigterm.map_or(f64::NAN, |sigterm| {
                        let (later, sooner) = (
                            at.saturating_duration_since(sigterm),
                            sigterm.saturating_duration_since(*at),
                        );
                        (later.as_secs_f64() - sooner.as_secs_f64()) * 1000.0
                    });
                    eprintln!("  /help {token} unanswered: asked {after:+.0} ms from the SIGTERM");
                }
            }
            let answered: Vec<Duration> = waits.into_iter().flatten().collect();
            let longest = answered.iter().copied().max().unwrap_or_default();
            return (asked.len(), answered.len(), longest);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
