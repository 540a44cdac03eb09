//! Web surface benchmark behind BENCHMARKS.md: `cargo bench --bench web`.
//!
//! The web surface (`confbot::web`) serves a 10,000-talk conference from a real PostgreSQL,
//! in this process, on a loopback port. It measures:
//! 1. `CONFBOT_BENCH_SCREENS` (default 200) screens open at once (`…/screen/events`, raw
//!    sockets), measured first while the heap is fresh: time until each has its first
//!    event, memory per open screen (VmRSS of this process, which holds the server and the
//!    minimal clients), and how long an import takes to reach all of them;
//! 2. a person's live calendar with 200 subscriptions: `GET /cal/<token>.ics` in full and
//!    as a conditional request answered 304 (one keep-alive connection, sequential);
//! 3. the public feed of the whole programme: the first request (rendered) and later ones
//!    (kept rendered), and a room's screen page.
//!
//! `CONFBOT_BENCH_REQUESTS` (default 2,000) sets the sequential request count.
//! Database: `CONFBOT_BENCH_DATABASE_URL`, else a private embedded server.

#[path = "common/entry.rs"]
mod entry;
#[allow(dead_code)]
#[path = "commands/generate.rs"]
mod generate;
#[allow(dead_code)]
#[path = "commands/stats.rs"]
mod stats;
#[allow(dead_code)]
#[path = "commands/words.rs"]
mod words;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use confbot::domain::feeds::FeedToken;
use confbot::domain::model::{ConferenceSlug, TalkId};
use confbot::domain::reminders::LeadTime;
use confbot::store::subscriptions::{self, SubscriptionRef};
use confbot::web::feeds::Feeds;
use confbot::web::{Site, Throttle};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use stats::{ms, Samples};

const SLUG: &str = "web-bench";
const USER: u64 = 77;
const SUBSCRIPTIONS: usize = 200;
const SCREENS: usize = 200;

fn main() -> ExitCode {
    entry::run_with_database(|url, _embedded| async move { bench(&url).await })
}

async fn bench(url: &str) -> anyhow::Result<()> {
    let requests: usize = std::env::var("CONFBOT_BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let pool = confbot::store::connect(url, 8).await?;
    confbot::store::migrate(&pool).await?;
    let token = seed(&pool).await?;
    let lead = LeadTime::from_minutes(10)?;
    let n = |n| NonZeroU32::new(n).context("non-zero");
    let feeds = Feeds::new(
        pool.clone(),
        Arc::default(),
        lead,
        Throttle::new(n(10)?, n(20)?, false),
    );
    let site = Site {
        feeds: Some(Arc::new(feeds)),
        ..Site::default()
    };
    let listener = confbot::web::bind("127.0.0.1:0".parse()?, "bench").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(confbot::web::serve(vec![listener], site.router(), async {
        let _ = stopped.await;
    }));
    // The screens first, while the process's heap is fresh: the feeds' megabytes freed later
    // would hide a screen's memory in reused pages.
    let screens_open: usize = std::env::var("CONFBOT_BENCH_SCREENS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SCREENS);
    screens(&pool, addr, screens_open).await?;
    let client = reqwest::Client::builder().no_proxy().build()?;
    let base = format!("http://{addr}");

    let personal = format!("{base}/cal/{}.ics", token.as_str());
    let (full, bytes, etag) = repeat(&client, &personal, None, requests).await?;
    let (conditional, _, _) = repeat(&client, &personal, Some(&etag), requests).await?;
    let public = format!("{base}/c/{SLUG}.ics");
    let cold = Instant::now();
    let (_, public_bytes, _) = repeat(&client, &public, None, 1).await?;
    let cold = cold.elapsed();
    let (warm, _, _) = repeat(&client, &public, None, requests / 10).await?;
    let screen = format!("{base}/c/{SLUG}/screen?room=Hall%201");
    let (page, _, _) = repeat(&client, &screen, None, requests).await?;

    println!("\n## Web surface: 10,000 talks, a person with {SUBSCRIPTIONS} subscriptions\n");
    table(&[
        ("GET /cal/<token>.ics (200)", &full, format!("{bytes} B")),
        (
            "GET /cal/<token>.ics, If-None-Match (304)",
            &conditional,
            "0 B".into(),
        ),
        (
            "GET /c/<slug>.ics, kept rendered (200)",
            &warm,
            format!("{public_bytes} B"),
        ),
        ("GET /c/<slug>/screen?room=… (page)", &page, String::new()),
    ]);
    println!(
        "\nThe whole programme's public feed, first request (rendered): {} ms.",
        ms(cold)
    );

    let _ = stop.send(());
    server.await?;
    Ok(())
}

/// The conference, [`USER`]'s subscriptions and link, and public pages on.
async fn seed(pool: &PgPool) -> anyhow::Result<FeedToken> {
    sqlx::query("DELETE FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .execute(pool)
        .await?;
    let schedule = generate::schedule(Utc::now());
    generate::store(pool, &ConferenceSlug::parse(SLUG)?, &schedule).await?;
    let conference: i64 = sqlx::query_scalar("SELECT id FROM conferences WHERE slug = $1")
        .bind(SLUG)
        .fetch_one(pool)
        .await?;
    let talks: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM talks WHERE conference_id = $1 ORDER BY starts_at, id")
            .bind(conference)
            .fetch_all(pool)
            .await?;
    let step = talks.len() / SUBSCRIPTIONS;
    for talk in talks.iter().step_by(step.max(1)).take(SUBSCRIPTIONS) {
        let target = SubscriptionRef::Talk(TalkId(*talk));
        subscriptions::subscribe(pool, conference, None, USER, target).await?;
    }
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, web_public, updated_by)
         VALUES (4242, $1, true, 0)
         ON CONFLICT (guild_id) DO UPDATE SET conference_slug = $1, web_public = true",
    )
    .bind(SLUG)
    .execute(pool)
    .await?;
    let fresh = FeedToken::from_random([5; FeedToken::BYTES]);
    Ok(confbot::store::feeds::token_of(pool, conference, USER, None, &fresh, Utc::now()).await?)
}

/// `count` sequential GETs of `url`: latencies, the last body's size and ETag.
async fn repeat(
    client: &reqwest::Client,
    url: &str,
    etag: Option<&str>,
    count: usize,
) -> anyhow::Result<(Samples, usize, String)> {
    let mut samples = Samples::default();
    let mut size = 0;
    let mut tag = String::new();
    for _ in 0..count {
        let took = Instant::now();
        let mut request = client.get(url);
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        anyhow::ensure!(status == 200 || status == 304, "{url}: {status}");
        tag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        size = response.bytes().await?.len();
        samples.push(took.elapsed());
    }
    Ok((samples, size, tag))
}

/// Part 3: `count` open screens ([`SCREENS`] unless `CONFBOT_BENCH_SCREENS` says).
async fn screens(pool: &PgPool, addr: SocketAddr, count: usize) -> anyhow::Result<()> {
    let before = rss_kb()?;
    let opened = Instant::now();
    let mut open = Vec::with_capacity(count);
    let mut first = Samples::default();
    for i in 0..count {
        let room = i % 20 + 1;
        let started = Instant::now();
        let mut socket = TcpStream::connect(addr).await?;
        let request = format!(
            "GET /c/{SLUG}/screen/events?room=Hall%20{room} HTTP/1.1\r\nHost: bench\r\n\
             Accept: text/event-stream\r\n\r\n"
        );
        socket.write_all(request.as_bytes()).await?;
        read_event(&mut socket).await?;
        first.push(started.elapsed());
        open.push(socket);
    }
    let all_open = opened.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kb()?;
    // A change every screen shows: the rooms' next talks are renamed.
    let changed = Instant::now();
    sqlx::query(
        "UPDATE talks SET title = title || ' (moved)' WHERE conference_id =
            (SELECT id FROM conferences WHERE slug = $1)",
    )
    .bind(SLUG)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO imports (conference_id, source, format, added, changed, cancelled,
                              unchanged, diff)
         SELECT id, 'bench', 'json', 0, 0, 0, 0, '{}' FROM conferences WHERE slug = $1",
    )
    .bind(SLUG)
    .execute(pool)
    .await?;
    let mut reached = Samples::default();
    for socket in &mut open {
        read_event(socket).await?;
        reached.push(changed.elapsed());
    }
    println!("## {count} room screens open at once\n");
    table(&[
        ("connect -> first event", &first, String::new()),
        (
            "import -> the change on each screen",
            &reached,
            String::new(),
        ),
    ]);
    let per = (after.saturating_sub(before)) as f64 / count as f64;
    println!(
        "\nAll {count} open in {} ms. VmRSS {before} kB before, {after} kB with them open: \
         {per:.1} kB per open screen (server and a raw-socket client in one process).",
        ms(all_open)
    );
    Ok(())
}

/// Latency rows as a Markdown table, with a body size where one is given.
fn table(rows: &[(&str, &Samples, String)]) {
    println!("| measurement | n | p50 ms | p99 ms | max ms | body |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (what, samples, body) in rows {
        println!(
            "| {what} | {} | {} | {} | {} | {body} |",
            samples.len(),
            ms(samples.p50()),
            ms(samples.p99()),
            ms(samples.max())
        );
    }
}

/// Reads until the end of one `event: screen` event (a blank line after its data).
async fn read_event(socket: &mut TcpStream) -> anyhow::Result<()> {
    let mut seen = Vec::new();
    let mut chunk = [0_u8; 8192];
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let read = socket.read(&mut chunk).await?;
            anyhow::ensure!(read > 0, "the stream closed");
            seen.extend_from_slice(&chunk[..read]);
            let text = String::from_utf8_lossy(&seen);
            if let Some(at) = text.find("event: screen") {
                if text[at..].contains("\n\n") {
                    return Ok(());
                }
            }
        }
    })
    .await
    .context("no screen event within 30 s")?
}

fn rss_kb() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .context("no VmRSS")
}
