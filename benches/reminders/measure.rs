//! What one scenario delivered, counted by the stand-in and checked against the outbox:
//! channel lateness, the fan-out's duration against the rate-limit bound, duplicates and
//! losses.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::conference::{Stored, LEAD_MINUTES};
use super::messages::Counts;
use super::standin::StandIn;
use super::stats::Samples;

/// Discord's global limit, which the stand-in enforces: requests per second.
pub const ALLOWED_PER_SECOND: f64 = 50.0;

/// One scenario's numbers.
pub struct Measured {
    pub label: String,
    pub fanout: usize,
    pub channel_posts: usize,
    /// Channel posts: stand-in arrival minus planned due time.
    pub lateness: Samples,
    /// The first and the last DM created, in seconds after the DMs' due time (negative:
    /// before it; fan-outs start early), and the time between them.
    pub first_dm: f64,
    pub last_dm: f64,
    pub span: Duration,
    /// Requests the fan-out needed at least: a message per subscriber, plus the DM-channel
    /// opens and the channel posts made meanwhile (they share the global limit).
    pub needed: usize,
    /// Every delivery request the stand-in received during the fan-out (429s included).
    pub received: usize,
    pub counts: Counts,
    /// Messages created beyond one per planned post.
    pub duplicates: usize,
    /// Planned posts that no message was created for.
    pub lost: usize,
    /// Outbox rows by status (`sent` should be all of them).
    pub statuses: Vec<(String, i64)>,
}

impl Measured {
    /// The time the fan-out needs at the allowed rate.
    pub fn bound(&self) -> Duration {
        Duration::from_secs_f64(self.needed as f64 / ALLOWED_PER_SECOND)
    }

    /// The rate achieved over the fan-out as a share of the allowed rate.
    pub fn share_of_allowed(&self) -> f64 {
        self.bound().as_secs_f64() / self.span.as_secs_f64().max(1e-9)
    }
}

/// Waits until the outbox of the conference holds every planned post and none is pending
/// (sent, dropped or failed), calling `tick` about every 200 ms meanwhile (a scenario kills
/// processes from there). Fails after `deadline`.
pub async fn wait_until_done<F, Fut>(
    pool: &PgPool,
    stored: &Stored,
    deadline: Instant,
    mut tick: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    loop {
        tick().await?;
        if all_done(pool, stored).await? {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "not done in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether the outbox of the conference holds every planned post and none is pending.
pub async fn all_done(pool: &PgPool, stored: &Stored) -> anyhow::Result<bool> {
    let expected = i64::try_from(stored.fanout + stored.channel_posts)?;
    // Reminders only: a board's later periods and threads' archives are planned hours ahead.
    let (rows, pending): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 'pending')
         FROM outbox WHERE conference_id = $1 AND kind = 'reminder'",
    )
    .bind(stored.conference_id)
    .fetch_one(pool)
    .await?;
    Ok(rows >= expected && pending == 0)
}

/// The first message the stand-in created for a planned post.
pub struct First {
    pub at: DateTime<Utc>,
    /// The post's planned due time.
    pub due: DateTime<Utc>,
    pub dm: bool,
}

/// The stand-in's messages matched by nonce to the conference's planned posts.
pub struct Matched {
    /// One per planned post that got a message.
    pub firsts: Vec<First>,
    /// Messages beyond one per planned post, and messages of no planned post.
    pub duplicates: usize,
    /// Planned posts without a message.
    pub lost: usize,
}

/// Matches every message the stand-in created to the outbox rows of `stored`.
pub async fn match_posts(
    pool: &PgPool,
    standin: &StandIn,
    stored: &Stored,
) -> anyhow::Result<Matched> {
    let rows: Vec<(String, String, i64, i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT o.nonce, o.target_kind, o.target_id, o.talk_id, t.starts_at
         FROM outbox o JOIN talks t ON t.id = o.talk_id
         WHERE o.conference_id = $1 AND o.kind = 'reminder'",
    )
    .bind(stored.conference_id)
    .fetch_all(pool)
    .await?;
    // The posts of the live-session features (a thread's card, a board, an update) are
    // not reminders: neither matched nor counted as strays.
    let others: std::collections::HashSet<String> = sqlx::query_scalar(
        "SELECT nonce FROM outbox WHERE conference_id = $1 AND kind <> 'reminder'",
    )
    .bind(stored.conference_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    // Nonce -> (planned post: target and talk, planned due). The due time is computed from
    // the talk, not read from `due_at`, which a rate-limit postponement moves.
    let lead = chrono::Duration::minutes(LEAD_MINUTES);
    type Key = (String, i64, i64);
    let planned: HashMap<String, (Key, DateTime<Utc>)> = rows
        .into_iter()
        .map(|(nonce, kind, target, talk, starts)| (nonce, ((kind, target, talk), starts - lead)))
        .collect();
    let mut per_key: HashMap<Key, usize> = HashMap::new();
    let mut unknown = 0;
    let mut firsts = Vec::new();
    for post in standin.messages().posted() {
        if post.nonce.as_ref().is_some_and(|n| others.contains(n)) {
            continue;
        }
        let Some((key, due)) = post.nonce.as_ref().and_then(|n| planned.get(n)) else {
            unknown += 1;
            continue;
        };
        let count = per_key.entry(key.clone()).or_default();
        *count += 1;
        if *count == 1 {
            firsts.push(First {
                at: DateTime::<Utc>::from(post.at),
                due: *due,
                dm: post.dm_user.is_some(),
            });
        }
    }
    Ok(Matched {
        duplicates: unknown + per_key.values().map(|n| n - 1).sum::<usize>(),
        lost: (stored.fanout + stored.channel_posts).saturating_sub(per_key.len()),
        firsts,
    })
}

/// Counts what the stand-in received for the conference stored as `stored`.
pub async fn measure(
    label: &str,
    pool: &PgPool,
    standin: &StandIn,
    stored: &Stored,
) -> anyhow::Result<Measured> {
    let matched = match_posts(pool, standin, stored).await?;
    let posted = standin.messages().posted();
    let mut lateness = Samples::default();
    let (mut first_dm, mut last_dm) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
    for first in &matched.firsts {
        let at = first.at;
        if first.dm {
            first_dm = Some(first_dm.map_or(at, |t| t.min(at)));
            last_dm = Some(last_dm.map_or(at, |t| t.max(at)));
        } else {
            lateness.push((at - first.due).to_std().unwrap_or_default());
        }
    }
    let (duplicates, lost) = (matched.duplicates, matched.lost);
    let since_t0 =
        |at: DateTime<Utc>| (at - stored.t0).num_microseconds().unwrap_or(0) as f64 / 1e6;
    let end = last_dm.context("no DM was delivered")?;
    let start = first_dm.context("no DM was delivered")?;
    let in_window = |at: DateTime<Utc>| at >= start && at <= end;
    let channel_in_window = posted
        .iter()
        .filter(|p| p.dm_user.is_none() && in_window(DateTime::<Utc>::from(p.at)))
        .count();
    let opens_in_window = requests_in_window(standin, start, end, |path| {
        path.ends_with("/users/@me/channels")
    });
    let received = requests_in_window(standin, start, end, |path| {
        path.ends_with("/messages") || path.ends_with("/users/@me/channels")
    });
    let statuses = sqlx::query_as(
        "SELECT status, count(*) FROM outbox WHERE conference_id = $1
         GROUP BY status ORDER BY status",
    )
    .bind(stored.conference_id)
    .fetch_all(pool)
    .await?;
    Ok(Measured {
        label: label.to_owned(),
        fanout: stored.fanout,
        channel_posts: stored.channel_posts,
        lateness,
        first_dm: since_t0(start),
        last_dm: since_t0(end),
        span: (end - start).to_std().unwrap_or_default(),
        needed: stored.fanout + opens_in_window + channel_in_window,
        received,
        counts: standin.messages().counts(),
        duplicates,
        lost,
        statuses,
    })
}

/// POSTs whose path `matches` that arrived between `from` and `to`. The stand-in stamps
/// requests with a monotonic `Instant`: mapped to wall time through one reading of both
/// clocks.
fn requests_in_window(
    standin: &StandIn,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    matches: impl Fn(&str) -> bool,
) -> usize {
    let (mono, wall) = (Instant::now(), Utc::now());
    standin
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && matches(&r.path))
        .filter(|r| {
            let ago = chrono::Duration::from_std(mono.duration_since(r.at)).unwrap_or_default();
            let at = wall - ago;
            at >= from && at <= to
        })
        .count()
}

/// The Discord Events the stand-in holds for `guild`, and the event requests it received.
pub fn events_of(standin: &StandIn, guild: u64) -> (usize, usize) {
    let path = format!("/api/v10/guilds/{guild}/scheduled-events");
    let requests = standin.requests();
    let asked = requests
        .iter()
        .filter(|r| r.path.starts_with(&path))
        .count();
    (standin.guilds().events().of(guild).len(), asked)
}
