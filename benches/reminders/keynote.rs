//! The keynote scenarios of issue 13: thousands of subscribers' DMs due at one instant,
//! through the stand-in with Discord's limits and a response latency, with the real
//! binary. What counts is whether every DM arrives by its due instant, what each DM cost in
//! requests, and that nothing is doubled or lost when a process dies or is replaced
//! mid-fan-out.
//!
//! The conference is stored early enough for the DM channels to be opened ahead (as they
//! are when people subscribe days before) and for the fan-out to start its own length
//! ahead of the due instant; rooms' channel reminders fall due every 2.5 s meanwhile.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::conference::{self, Layout, Stored};
use super::measure;
use super::messages::Limits;
use super::process::{Bot, Launch};
use super::restart::{answers, ask_help_throughout, wait_for_second_worker, Asked};
use super::standin::StandIn;
use super::stats::Samples;

/// What goes wrong mid-fan-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// SIGKILL at half the DMs, restarted at once.
    Kill,
    /// A rolling restart at half the DMs: a new process starts, then the old one gets
    /// SIGTERM; `/help` is asked through the gateway every 100 ms throughout.
    Rolling,
    /// A second process started at half the DMs, both delivering to the end (a replica
    /// added mid-fan-out): the processes share the global limit from then on.
    Join,
    /// A standby started at half the DMs, then the holder of the gateway killed with
    /// SIGKILL: it cannot hand over, so the standby takes the lease once PostgreSQL ends the
    /// dead session. `/help` is asked as for [`Fault::Rolling`].
    Takeover,
}

pub struct Keynote {
    pub label: String,
    pub keynotes: usize,
    pub subscribers: usize,
    pub latency: Duration,
    pub fault: Fault,
    /// The live-session features on (issue 14): a schedule updates channel, a board of a
    /// message per room, a Q&A thread on every talk's channel reminder and a Discord Event
    /// for every talk (Manage Events granted).
    pub live: bool,
    /// With `live`: a question in the keynote's thread and a burst of votes on its card.
    pub votes: Option<super::votes::Burst>,
    /// The first process starts only once the keynote is due (after downtime): every DM is
    /// overdue, so the fan-out goes at the full paced rate with its DM channels opened as it
    /// goes, instead of being released at the counted rate from its own length ahead.
    pub late: bool,
}

/// The board's and the schedule updates' channels of the `live` scenarios.
const LIVE_CHANNELS: [u64; 2] = [8_800_000_000_000_001, 8_800_000_000_000_002];

/// Number of the server following the bench conference in the `live` scenarios.
const LIVE_GUILD: i64 = 5;
pub struct KeynoteMeasured {
    pub label: String,
    pub latency: Duration,
    pub dms: usize,
    /// DMs created at or before their due instant.
    pub on_time: usize,
    /// The first and the last DM, relative to their due instant (negative: before).
    pub earliest: f64,
    pub latest: f64,
    /// Message POSTs to DM channels (429s and repeats included).
    pub dm_posts: usize,
    /// DM-channel opens in all, and those made once the fan-out had begun.
    pub opens: usize,
    pub opens_during: usize,
    pub rate_limited: usize,
    pub duplicates: usize,
    pub lost: usize,
    /// Channel posts: stand-in arrival minus due time.
    pub lateness: Samples,
    /// `/help` asked during a rolling restart: asked, answered, and the longest from asking
    /// to the answer.
    pub interactions: Option<(usize, usize, Duration)>,
    pub votes: Option<super::votes::VotesMeasured>,
}

const SLUG: &str = "bench-keynote";

/// Runs one keynote scenario against `binary`.
pub async fn run(
    pool: &PgPool,
    url: &str,
    binary: &Path,
    scenario: &Keynote,
    log: std::path::PathBuf,
) -> anyhow::Result<KeynoteMeasured> {
    let standin = Arc::new(StandIn::start().await);
    standin.messages().set_limits(Limits::DISCORD);
    standin
        .guilds()
        .add_text(&conference::channels(scenario.keynotes));
    if !scenario.latency.is_zero() {
        let latency = scenario.latency;
        standin.set_latency(latency..latency + Duration::from_millis(1), 13);
    }
    let dms = scenario.keynotes * scenario.subscribers;
    // The fan-out counted at 40 requests a second, and the opens ahead at 20 (waves that
    // wait for Discord's answers), plus the processes' start.
    let ahead = if scenario.late {
        0
    } else {
        i64::try_from(dms)?
    };
    let spread = chrono::Duration::milliseconds(ahead * 25);
    let opening = chrono::Duration::milliseconds(ahead * 50);
    let t0 = Utc::now() + chrono::Duration::seconds(15) + opening + spread;
    // A vote burst starts once the keynote's thread opens (2 s after t0): the rooms'
    // reminders keep falling due throughout it.
    let burst_span = scenario.votes.map_or(0, |burst| {
        i64::try_from(burst.voters / burst.per_second.max(1)).unwrap_or(0) + 10
    });
    let layout = Layout {
        t0,
        keynotes: scenario.keynotes,
        subscribers: scenario.subscribers,
        rooms_from: t0 - spread - chrono::Duration::seconds(10),
        rooms_until: t0 + chrono::Duration::seconds(20 + burst_span),
    };
    let stored = conference::store_layout(pool, SLUG, &layout).await?;
    sqlx::query("DELETE FROM guild_settings WHERE guild_id = $1")
        .bind(LIVE_GUILD)
        .execute(pool)
        .await?;
    if scenario.live {
        standin.guilds().add_text(&LIVE_CHANNELS);
        standin.guilds().grant_bot(super::guilds::MANAGE_EVENTS);
        sqlx::query(
            "INSERT INTO guild_settings (guild_id, conference_slug, board_channel,
                                         updates_channel, threads, events, updated_by)
             VALUES ($1, $2, $3, $4, true, true, 1)",
        )
        .bind(LIVE_GUILD)
        .bind(SLUG)
        .bind(i64::try_from(LIVE_CHANNELS[0])?)
        .bind(i64::try_from(LIVE_CHANNELS[1])?)
        .execute(pool)
        .await?;
    }
    let launch = Launch {
        binary,
        database_url: url,
        proxy_url: standin.url(),
        conference: SLUG,
        log,
        rate: None,
    };
    if scenario.late {
        tokio::time::sleep((t0 - Utc::now()).to_std().unwrap_or_default()).await;
    }
    let mut bots = vec![Bot::start(&launch)?];
    let asked: Asked = Arc::default();
    let asking = matches!(scenario.fault, Fault::Rolling | Fault::Takeover).then(|| {
        let (standin, asked) = (Arc::clone(&standin), Arc::clone(&asked));
        tokio::spawn(ask_help_throughout(standin, asked))
    });
    let mut fault_done = scenario.fault == Fault::None;
    let mut stopped_at = None;
    let deadline = Instant::now()
        // Past already when the first process starts late.
        + (t0 - Utc::now()).to_std().unwrap_or_default()
        + spread.to_std()? * 2
        // A late start's backlog goes at the full rate: an open and a send per DM.
        + Duration::from_millis(if scenario.late { u64::try_from(dms)? * 50 } else { 0 })
        + Duration::from_secs(120 + u64::try_from(burst_span)?);
    let voting = scenario.votes.map(|burst| {
        let guild = u64::try_from(LIVE_GUILD).unwrap_or_default();
        let (standin, pool) = (Arc::clone(&standin), pool.clone());
        tokio::spawn(super::votes::burst(standin, pool, guild, burst, deadline))
    });
    let half = dms / 2;
    loop {
        let created_dms = standin
            .messages()
            .posted()
            .iter()
            .filter(|p| p.dm_user.is_some())
            .count();
        if !fault_done && created_dms >= half {
            fault_done = true;
            match scenario.fault {
                Fault::Kill => {
                    bots.remove(0).kill().await?;
                    eprintln!("  SIGKILL after {created_dms} DMs; restarting");
                    bots.push(Bot::start(&launch)?);
                }
                Fault::Rolling | Fault::Takeover => {
                    bots.push(Bot::start(&launch)?);
                    // The new process is up (its delivery heartbeat) before the old stops.
                    wait_for_second_worker(pool).await?;
                    stopped_at = Some(Instant::now());
                    let old = bots.remove(0);
                    if scenario.fault == Fault::Rolling {
                        eprintln!("  rolling restart after {created_dms} DMs: SIGTERM to the old");
                        old.stop().await?;
                    } else {
                        eprintln!("  SIGKILL to the gateway's holder after {created_dms} DMs");
                        old.kill().await?;
                    }
                }
                Fault::Join => {
                    bots.push(Bot::start(&launch)?);
                    eprintln!("  second process started after {created_dms} DMs");
                }
                Fault::None => {}
            }
        }
        for bot in &mut bots {
            if let Some(status) = bot.exited() {
                anyhow::bail!("confbot exited by itself ({status}); see {:?}", launch.log);
            }
        }
        if measure::all_done(pool, &stored).await? {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the keynote scenario did not finish in time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if let Some(asking) = asking {
        asking.abort();
        let _ = asking.await;
    }
    // Before the processes stop: the last asked are answered by a running one.
    let interactions = match scenario.fault {
        Fault::Rolling | Fault::Takeover => Some(answers(&standin, &asked, stopped_at).await),
        _ => None,
    };
    let votes = match voting {
        Some(voting) => Some(voting.await??),
        None => None,
    };
    for bot in bots {
        bot.stop().await?;
    }
    if scenario.live {
        let guild = u64::try_from(LIVE_GUILD).unwrap_or_default();
        let (made, requests) = super::measure::events_of(&standin, guild);
        eprintln!("  Discord Events: {made} made, {requests} event requests");
    }

    let mut measured = measure_keynote(pool, &standin, &stored, scenario, interactions).await?;
    measured.votes = votes;
    Ok(measured)
}

async fn measure_keynote(
    pool: &PgPool,
    standin: &StandIn,
    stored: &Stored,
    scenario: &Keynote,
    interactions: Option<(usize, usize, Duration)>,
) -> anyhow::Result<KeynoteMeasured> {
    let matched = measure::match_posts(pool, standin, stored).await?;
    let mut lateness = Samples::default();
    let mut on_time = 0;
    let (mut earliest, mut latest) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut first_dm = None::<DateTime<Utc>>;
    for first in &matched.firsts {
        let (at, due) = (first.at, first.due);
        if first.dm {
            let relative = (at - due).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
            earliest = earliest.min(relative);
            latest = latest.max(relative);
            if at <= due {
                on_time += 1;
            }
            first_dm = Some(first_dm.map_or(at, |t| t.min(at)));
        } else {
            lateness.push((at - due).to_std().unwrap_or_default());
        }
    }
    let dms = stored.fanout;
    let (duplicates, lost) = (matched.duplicates, matched.lost);
    let guild_channels: HashSet<u64> = conference::channels(scenario.keynotes)
        .into_iter()
        .collect();
    let (mono, wall) = (Instant::now(), Utc::now());
    let to_wall = |at: Instant| {
        wall - chrono::Duration::from_std(mono.duration_since(at)).unwrap_or_default()
    };
    let requests = standin.requests();
    let dm_posts = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .filter(|r| {
            let channel = r
                .path
                .trim_start_matches("/api/v10/channels/")
                .split('/')
                .next()
                .and_then(|id| id.parse::<u64>().ok());
            channel.is_some_and(|channel| !guild_channels.contains(&channel))
        })
        .count();
    let is_open = |r: &&super::standin::Recorded| {
        r.method == "POST" && r.path.ends_with("/users/@me/channels")
    };
    let opens = requests.iter().filter(is_open).count();
    let opens_during = match first_dm {
        Some(first) => requests
            .iter()
            .filter(is_open)
            .filter(|r| to_wall(r.at) >= first)
            .count(),
        None => 0,
    };
    Ok(KeynoteMeasured {
        label: scenario.label.clone(),
        latency: scenario.latency,
        dms,
        on_time,
        earliest,
        latest,
        dm_posts,
        opens,
        opens_during,
        rate_limited: standin.messages().counts().rate_limited,
        duplicates,
        lost,
        lateness,
        interactions,
        votes: None,
    })
}

/// The keynote scenarios' Markdown table.
pub fn markdown(results: &[KeynoteMeasured]) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "| scenario | latency | DMs | sent by due | first / last DM vs due (s) | DM POSTs per DM | opens (during the fan-out) | 429s | duplicates / lost | channel lateness p50 / p99 / max (ms) | /help asked / answered, longest wait |\n\
         |---|---:|---:|---:|---|---:|---|---:|---|---|---|\n",
    );
    for m in results {
        let interactions = m
            .interactions
            .map_or("-".to_owned(), |(asked, answered, wait)| {
                format!("{asked} / {answered}, {:.2} s", wait.as_secs_f64())
            });
        let _ = writeln!(
            out,
            "| {} | {} ms | {} | {:.1} % | {:+.2} / {:+.2} | {:.3} | {} ({}) | {} | {} / {} | {} / {} / {} | {} |",
            m.label,
            m.latency.as_millis(),
            m.dms,
            100.0 * m.on_time as f64 / m.dms.max(1) as f64,
            m.earliest,
            m.latest,
            m.dm_posts as f64 / m.dms.max(1) as f64,
            m.opens,
            m.opens_during,
            m.rate_limited,
            m.duplicates,
            m.lost,
            super::stats::ms(m.lateness.p50()),
            super::stats::ms(m.lateness.p99()),
            super::stats::ms(m.lateness.max()),
            interactions,
        );
    }
    out
}
