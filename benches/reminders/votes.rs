//! A keynote's questions under a burst of votes (issue 14, item 2), through the real binary
//! and the gateway: once the keynote's Q&A thread is open, one `/ask` in it, then
//! `voters` different members click its card's Upvote at `per_second`, while the rooms'
//! channel reminders keep falling due. What counts: every click answered, how fast, what
//! the card costs in edits (each change is an outbox row, but one that finds the card
//! current costs no request), no 429s, and the card showing the final count soon after.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;

use super::conference::FIRST_USER;
use super::payloads;
use super::standin::StandIn;
use super::stats::Samples;

/// The burst: how many members vote, how fast.
#[derive(Debug, Clone, Copy)]
pub struct Burst {
    pub voters: usize,
    pub per_second: usize,
}

#[derive(Default)]
pub struct VotesMeasured {
    pub voters: usize,
    /// Clicks answered by an interaction callback.
    pub answered: usize,
    /// From a click sent on the gateway to its callback.
    pub answer: Samples,
    /// From `/ask` sent to its card in the thread.
    pub ask_to_card: Duration,
    /// Edits of the card, and the card's outbox rows: sent, and dropped (the card showed
    /// their change already, or a later change still to send will).
    pub edits: usize,
    pub rows_sent: i64,
    pub rows_current: i64,
    /// From the last click's answer to the card showing every vote (`None`: never).
    pub settled: Option<Duration>,
}

/// Runs the burst on the guild `guild` (the server of the `live` settings): waits for the
/// keynote's thread, asks, waits for the card, then votes.
pub async fn burst(
    standin: Arc<StandIn>,
    pool: PgPool,
    guild: u64,
    burst: Burst,
    deadline: Instant,
) -> anyhow::Result<VotesMeasured> {
    let thread = loop {
        let keynote = standin
            .messages()
            .threads()
            .into_iter()
            .find(|t| t.name.contains("Keynote 1"));
        // Asked once confbot has recorded the thread (a moment after Discord shows it).
        if let Some(thread) = keynote {
            let recorded: Option<i64> = sqlx::query_scalar(
                "SELECT 1::bigint FROM outbox WHERE kind = 'thread' AND status = 'sent'
                   AND message_id = $1",
            )
            .bind(i64::try_from(thread.id)?)
            .fetch_optional(&pool)
            .await?;
            if recorded.is_some() {
                break thread.id;
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the keynote's thread never opened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let member = |mut payload: serde_json::Value, user: u64| {
        payload["channel_id"] = json!(thread.to_string());
        payloads::as_member_of(payload, guild, user, 0, &[])
    };
    let question = vec![payloads::option(
        "question",
        3,
        json!("How do thousands of reminders arrive on time?"),
    )];
    let asked = standin
        .send_interaction(member(
            payloads::slash_with(1, "votes-ask", "ask", question),
            FIRST_USER,
        ))
        .await;
    let (card, custom_id) = loop {
        let card = standin
            .messages()
            .current(thread)
            .into_iter()
            .find(|p| p.content.starts_with("❓"));
        if let Some(card) = card {
            let id = card.body["components"][0]["components"][0]["custom_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            break (card, id);
        }
        if Instant::now() >= deadline {
            let answer = standin
                .requests()
                .into_iter()
                .find(|r| r.path.ends_with("/votes-ask/callback"))
                .map(|r| r.body["data"]["content"].to_string());
            anyhow::bail!("the question's card never came; /ask was answered {answer:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let ask_to_card = asked.elapsed();
    let started = Instant::now();
    let mut sent = Vec::with_capacity(burst.voters);
    for i in 0..burst.voters {
        let at = started + Duration::from_secs_f64(i as f64 / burst.per_second.max(1) as f64);
        tokio::time::sleep_until(at.into()).await;
        let token = format!("vote-{i}");
        let click = payloads::button(10_000 + i as u64, &token, &custom_id);
        let user = FIRST_USER + 1 + i as u64;
        sent.push((token, standin.send_interaction(member(click, user)).await));
    }
    let wanted = format!("▲ {} votes", burst.voters);
    let shown_at = loop {
        let now_shown = standin
            .messages()
            .current(thread)
            .into_iter()
            .find(|p| p.id == card.id)
            .is_some_and(|p| p.content.contains(&wanted));
        if now_shown {
            break Some(Instant::now());
        }
        if Instant::now() >= deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let requests = standin.requests();
    let mut answer = Samples::default();
    let mut last_answer = started;
    for (token, at) in &sent {
        let path = format!("/{token}/callback");
        if let Some(callback) = requests.iter().find(|r| r.path.ends_with(&path)) {
            answer.push(callback.at.duration_since(*at));
            last_answer = last_answer.max(callback.at);
        }
    }
    // Every change of the card settled (sent, or dropped as shown by another).
    loop {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE kind = 'question' AND status = 'pending'",
        )
        .fetch_one(&pool)
        .await?;
        if pending == 0 || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM outbox WHERE kind = 'question' GROUP BY status",
    )
    .fetch_all(&pool)
    .await?;
    let count = |status: &str| {
        rows.iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    };
    Ok(VotesMeasured {
        voters: burst.voters,
        answered: answer.len(),
        answer,
        ask_to_card,
        edits: standin
            .messages()
            .edits()
            .iter()
            .filter(|e| e.id == card.id)
            .count(),
        rows_sent: count("sent"),
        rows_current: count("dropped"),
        settled: shown_at.map(|at| at.saturating_duration_since(last_answer)),
    })
}

/// The bursts' Markdown table.
pub fn markdown(label: &str, m: &VotesMeasured) -> String {
    format!(
        "| {label} | {} | {} | {} / {} / {} | {:.2} s | {} | {} / {} | {} |\n",
        m.voters,
        m.answered,
        super::stats::ms(m.answer.p50()),
        super::stats::ms(m.answer.p99()),
        super::stats::ms(m.answer.max()),
        m.ask_to_card.as_secs_f64(),
        m.edits,
        m.rows_sent,
        m.rows_current,
        m.settled
            .map_or("never".to_owned(), |d| format!("{:.2} s", d.as_secs_f64())),
    )
}

/// The header of [`markdown`]'s rows.
pub const HEADER: &str = "| scenario | voters | clicks answered | answer p50 / p99 / max (ms) | /ask to card | card edits | card rows sent / dropped as shown | last answer to final count shown |\n|---|---:|---:|---|---:|---:|---|---:|\n";
