//! What the storm measured: the answers to every `/subscribe`, the subscriptions stored and
//! planned, and the live talks' reminders matched by nonce to what the stand-in created.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::conference::LEAD_MINUTES;
use super::standin::StandIn;
use super::stats::Samples;
use super::storm::{Request, StormMeasured};
use super::storm_layout::{Stored, FIRST_ATTENDEE, LIVE_SUBSCRIBERS};

/// Every first answer to a storm `/subscribe` (token -> arrival and body), once all have
/// come or none has for 30 s.
pub async fn wait_for_answers(
    standin: &StandIn,
    asked: usize,
) -> anyhow::Result<HashMap<String, (Instant, serde_json::Value)>> {
    let mut last_count = 0;
    let mut last_change = Instant::now();
    loop {
        let mut answers = HashMap::new();
        for r in standin.requests() {
            if r.method != "POST" || !r.path.ends_with("/callback") {
                continue;
            }
            let Some(token) = r.path.rsplit('/').nth(1) else {
                continue;
            };
            if token.starts_with("storm-") {
                answers.entry(token.to_owned()).or_insert((r.at, r.body));
            }
        }
        if answers.len() >= asked || last_change.elapsed() > Duration::from_secs(30) {
            return Ok(answers);
        }
        if answers.len() != last_count {
            (last_count, last_change) = (answers.len(), Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The `(user, talk)` pairs asked for that are stored, and the DM reminders planned for
/// the storm's attendees.
pub async fn check_stored(
    pool: &PgPool,
    conference_id: i64,
    plan: &[Request],
) -> anyhow::Result<(usize, i64)> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT s.user_id, t.title FROM subscriptions s JOIN talks t ON t.id = s.talk_id
         WHERE s.conference_id = $1 AND s.user_id >= $2",
    )
    .bind(conference_id)
    .bind(i64::try_from(FIRST_ATTENDEE)?)
    .fetch_all(pool)
    .await?;
    let stored: HashSet<(u64, &str)> = rows
        .iter()
        .map(|(user, title)| (*user as u64, title.as_str()))
        .collect();
    let asked: HashSet<(u64, &str)> = plan.iter().map(|r| (r.user, r.title.as_str())).collect();
    anyhow::ensure!(
        stored.is_subset(&asked),
        "subscriptions stored that nobody asked for"
    );
    let (planned,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM outbox WHERE conference_id = $1 AND target_kind = 'dm'
         AND target_id >= $2",
    )
    .bind(conference_id)
    .bind(i64::try_from(FIRST_ATTENDEE)?)
    .fetch_one(pool)
    .await?;
    Ok((stored.len(), planned))
}

/// Until no reminder of a live talk is pending, a minute after the last fell due at most.
pub async fn wait_for_live(pool: &PgPool, stored: &Stored) -> anyhow::Result<()> {
    let expected = i64::try_from(stored.live.len() as u64 * (1 + LIVE_SUBSCRIBERS))?;
    loop {
        let (rows, pending): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM outbox
             WHERE conference_id = $1 AND talk_id = ANY($2)",
        )
        .bind(stored.conference_id)
        .bind(&stored.live)
        .fetch_one(pool)
        .await?;
        if rows >= expected && pending == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Utc::now() < stored.last_due + chrono::Duration::seconds(60),
            "the live talks' reminders were not all sent a minute after the last fell due \
             ({rows} of {expected} planned, {pending} pending)"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub struct Delivered {
    pub dms: usize,
    pub dms_on_time: usize,
    pub latest_dm: f64,
    pub channel: Samples,
    pub duplicates: usize,
    pub lost: usize,
}

/// The stand-in's messages matched by nonce to the live talks' planned reminders; any
/// other message (a later talk's reminder sent early) counts as a duplicate.
pub async fn match_live(
    pool: &PgPool,
    standin: &StandIn,
    stored: &Stored,
) -> anyhow::Result<Delivered> {
    let rows: Vec<(String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT o.nonce, o.target_kind, t.starts_at
         FROM outbox o JOIN talks t ON t.id = o.talk_id
         WHERE o.conference_id = $1 AND o.talk_id = ANY($2)",
    )
    .bind(stored.conference_id)
    .bind(&stored.live)
    .fetch_all(pool)
    .await?;
    let lead = chrono::Duration::minutes(LEAD_MINUTES);
    let planned: HashMap<String, (bool, DateTime<Utc>)> = rows
        .into_iter()
        .map(|(nonce, kind, starts)| (nonce, (kind == "dm", starts - lead)))
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut delivered = Delivered {
        dms: 0,
        dms_on_time: 0,
        latest_dm: f64::NEG_INFINITY,
        channel: Samples::default(),
        duplicates: 0,
        lost: 0,
    };
    let posted = standin.messages().posted();
    for post in &posted {
        let Some((nonce, (dm, due))) = post.nonce.as_deref().and_then(|n| planned.get_key_value(n))
        else {
            delivered.duplicates += 1;
            continue;
        };
        let count = seen.entry(nonce.as_str()).or_default();
        *count += 1;
        if *count > 1 {
            delivered.duplicates += 1;
            continue;
        }
        let at = DateTime::<Utc>::from(post.at);
        if *dm {
            delivered.dms += 1;
            let relative = (at - *due).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
            delivered.latest_dm = delivered.latest_dm.max(relative);
            if at <= *due {
                delivered.dms_on_time += 1;
            }
        } else {
            delivered
                .channel
                .push((at - *due).to_std().unwrap_or_default());
        }
    }
    delivered.lost = planned.len().saturating_sub(seen.len());
    Ok(delivered)
}

/// The storm's Markdown table.
pub fn markdown(binary: &Path, results: &[StormMeasured]) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "\nSubscription storm ({}):\n\n\
         | storm | /subscribe asked | answer p50 / p99 / max (ms) | deferred / failed | stored / planned | DMs due meanwhile: by due, latest (s) | channel lateness p50 / p99 / max (ms) | opens | 429s | duplicates / lost | database CPU per subscription (ms) | bot CPU per subscription (ms) |\n\
         |---|---:|---|---|---|---|---|---:|---:|---|---:|---:|\n",
        binary.display()
    );
    for m in results {
        let per = |cpu: f64| 1000.0 * cpu / m.asked.max(1) as f64;
        let _ = writeln!(
            out,
            "| {} ({:.0} s) | {} | {} / {} / {} | {} / {} | {} / {} | {} of {}, {:+.2} | {} / {} / {} | {} | {} | {} / {} | {:.2} | {:.2} |",
            m.label,
            m.storm_secs,
            m.asked,
            super::stats::ms(m.answers.p50()),
            super::stats::ms(m.answers.p99()),
            super::stats::ms(m.answers.max()),
            m.deferred,
            m.failed,
            m.stored,
            m.planned,
            m.dms_on_time,
            m.dms,
            m.latest_dm,
            super::stats::ms(m.channel.p50()),
            super::stats::ms(m.channel.p99()),
            super::stats::ms(m.channel.max()),
            m.opens,
            m.rate_limited,
            m.duplicates,
            m.lost,
            per(m.database_cpu),
            per(m.bot_cpu),
        );
    }
    out
}
