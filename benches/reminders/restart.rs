//! The rolling restart's helpers: waiting for the new process to deliver, and asking
//! `/help` through the gateway throughout, to see that interactions are answered while the
//! gateway lease moves.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::payloads;
use super::standin::StandIn;

/// Each `/help` asked: when, and when its answer came.
pub type Asked = Arc<Mutex<Vec<(Instant, Option<Instant>)>>>;

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

/// Asks `/help` through the gateway every half second and records when it was asked and
/// when the answer came. An interaction asked while no process holds the gateway waits for
/// one (Discord would fail it after 3 s: the longest wait shows whether it would).
pub async fn ask_help_every_half_second(standin: Arc<StandIn>, asked: Asked) {
    for id in 1_u64.. {
        let at = Instant::now();
        let token = format!("keynote-help-{id}");
        let index = {
            let mut asked = asked.lock().unwrap();
            asked.push((at, None));
            asked.len() - 1
        };
        standin
            .send_interaction(payloads::slash(900_000 + id, &token, "help", &[]))
            .await;
        let path = format!("/{token}/callback");
        standin
            .wait_for("the /help answer", |r| r.path.ends_with(&path))
            .await;
        asked.lock().unwrap()[index].1 = Some(Instant::now());
        tokio::time::sleep_until((at + Duration::from_millis(500)).into()).await;
    }
}
