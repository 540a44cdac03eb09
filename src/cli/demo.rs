//! `confbot demo`: the newcomer's first command. Needs nothing configured: it brings up a
//! private throwaway PostgreSQL (always: a configured database is never written to), imports a bundled sample
//! conference (a pretalx iCalendar export plus a talk listing that enriches it), prints the
//! programme in the conference's own time zone, and then runs the real scheduler and the
//! console together on a demo clock set just before the first talk: reminders are printed
//! as they would be posted (room channels and the demo attendee's DMs), and typed commands
//! (`/next`, `/now`, `/talk query:...`) are answered at the demo clock's time. `--fast N`
//! runs the clock N times faster so the reminders can be watched arriving. The end of input,
//! Ctrl-C, SIGTERM and SIGHUP all end it the same way: the server stopped and its files
//! removed.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{watch, Notify};

use anyhow::Context;

use crate::cli::output;
use crate::config::Settings;
use crate::domain::board::{Board, BoardLayout};
use crate::domain::guild_settings::{GuildSettings, SetupChange};
use crate::domain::import::{self, Format, ImportOptions};
use crate::domain::model::{ConferenceSlug, TalkId};
use crate::domain::programme::Programme;
use crate::domain::reminders::ChannelPlan;
use crate::domain::threads::ThreadSettings;
use crate::embedded_db::EmbeddedPostgres;
use crate::jobs::{self, Clock, DeliveryOptions, PlanSettings, Setup};
use crate::store;
use crate::store::imports::{apply_import, ImportRequest};
use crate::store::subscriptions::SubscriptionRef;

/// The bundled sample: a two-day conference in America/Los_Angeles, exported by pretalx
/// (TZID=PST with a VTIMEZONE), and a plain-text listing of some of its talks.
const SAMPLE_ICS: &str = include_str!("demo/schedule.ics");
const SAMPLE_LISTING: &str = include_str!("demo/listing.txt");

mod desk;
mod printer;
use desk::DemoDesk;
use printer::Printer;
/// The demo's room channels (ids are made up; names are what is shown).
const CHANNELS: [(&str, u64, &str); 2] = [("Barn", 1001, "barn"), ("Loft", 1002, "loft")];
/// The demo server's live board: one message for every room (`/setup board`).
const BOARD: (u64, &str) = (1003, "now-next");
/// The demo's server (for its settings) and organiser (for their audit entry).
const GUILD: u64 = 2001;
/// The demo attendee, subscribed to the second talk.
const ATTENDEE: u64 = 1;
/// The demo clock starts this long before the first reminder is due (at least: a fast
/// clock gets a second of real time, so start-up does not make the first reminder late).
const HEAD_START: Duration = Duration::seconds(20);

/// Arguments of `confbot demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Run the demo clock N times faster than real time (e.g. 60: a minute per second), to
    /// watch the reminders arrive.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub fast: u32,
}

pub async fn run(settings: &Settings, args: DemoArgs) -> anyhow::Result<()> {
    // Listening before anything else: from here on a signal ends the demo through the
    // clean-up below instead of killing the process and leaving the server's files behind.
    let stop = stop_signals()?;
    if settings.database.url.is_some() {
        note!(
            "confbot demo runs on a private PostgreSQL of its own: the configured database is \
             left alone."
        );
    }
    let embedded = EmbeddedPostgres::start().await?;
    note!(
        "Started a private throwaway PostgreSQL in {} (removed on exit).",
        embedded.dir().display()
    );
    let result = match connect(settings, &embedded).await {
        Ok(pool) => {
            let result = demo(settings, &pool, args, stop).await;
            pool.close().await;
            result
        }
        Err(error) => Err(error),
    };
    embedded.stop().await;
    note!("Stopped the private PostgreSQL and removed its files.");
    result
}

async fn connect(settings: &Settings, db: &EmbeddedPostgres) -> anyhow::Result<sqlx::PgPool> {
    let pool = store::connect(db.url(), settings.database.max_connections).await?;
    store::migrate(&pool).await?;
    Ok(pool)
}

/// Becomes true on Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal closed): each ends the
/// demo the way the end of its input does.
fn stop_signals() -> anyhow::Result<watch::Receiver<bool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut hangup = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
        }
        let _ = stop.send(true);
    });
    Ok(stopping)
}

async fn stopped(mut stopping: watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens once it has sent.
    let _ = stopping.wait_for(|stop| *stop).await;
}

async fn demo(
    settings: &Settings,
    pool: &sqlx::PgPool,
    args: DemoArgs,
    signalled: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    // A signal during the set-up drops it half-way: its transactions roll back, and the
    // whole database goes away with the server anyway.
    let prepared = tokio::select! {
        prepared = prepare(settings, pool) => prepared?,
        () = stopped(signalled.clone()) => return Ok(()),
    };
    let Some((programme, start)) = prepared else {
        return Ok(());
    };
    let head_start = HEAD_START.max(Duration::seconds(i64::from(args.fast)));
    let clock_start = start.checked_sub_signed(head_start).unwrap_or(start);
    let clock = Clock::starting_at(clock_start, args.fast);
    let zone = programme.conference.time_zone;
    outln!(
        "\nThe demo clock now reads {} and runs {}× real time. Reminders appear below as \
         confbot would post them; type /next, /now, /talk query:..., /help, and once a talk's \
         thread is open /ask question:\"...\" and /questions (Ctrl-D or Ctrl-C ends).\n",
        clock_start
            .with_timezone(&zone)
            .format("%a %-d %b %H:%M:%S %Z"),
        args.fast
    );
    if !std::io::stdin().is_terminal() {
        note!("(standard input is not a terminal: the demo ends when it is closed)");
    }

    let (stop, stopping) = watch::channel(false);
    let mut delivery = DeliveryOptions::for_rate("demo".to_owned(), 50);
    // Printing has no rate limit: every post at its due instant.
    delivery.per_request = None;
    // Leases are read on the demo clock: on a fast clock they last as long in real time as
    // they do in production.
    delivery.lease = delivery.lease.saturating_mul(args.fast.max(1));
    let setup = Setup {
        plan: PlanSettings::from_settings(settings),
        clock,
        delivery,
        plan_changed: Arc::new(Notify::new()),
        outcomes: Arc::default(),
        // The demo's conference comes from bundled files, not a URL.
        sync: None,
        snapshots: Arc::default(),
    };
    let printer = Printer {
        zone,
        clock,
        next_id: std::sync::atomic::AtomicU64::new(1),
        threads: std::sync::Mutex::default(),
    };
    let conference_id = {
        let mut conn = pool.acquire().await?;
        store::conferences::find(&mut conn, &programme.conference.slug)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo conference vanished"))?
            .id
    };
    let desk = DemoDesk {
        pool,
        programme: &programme,
        conference_id,
        zone,
    };
    let scheduler = jobs::run(pool.clone(), printer, setup, stopped(stopping));
    let console = async {
        // The scheduler stops in order (claims released, loops joined) before the pool
        // closes, whichever way the console ends.
        let answered = tokio::select! {
            answered = super::console::serve(&programme, || clock.now(), &desk) => answered,
            () = stopped(signalled) => Ok(()),
        };
        let _ = stop.send(true);
        answered
    };
    let (scheduler, console) = tokio::join!(scheduler, console);
    scheduler?;
    console
}

/// Imports the sample, prints the programme and sets up the reminders; the programme and
/// when the first reminder is due, if any is.
async fn prepare(
    settings: &Settings,
    pool: &sqlx::PgPool,
) -> anyhow::Result<Option<(Programme, DateTime<Utc>)>> {
    let slug = ConferenceSlug::parse("demo-conf")?;
    import_sample(settings, pool, &slug).await?;
    let programme = store::programme::load(pool, &slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo conference vanished"))?;
    outln!();
    out!(
        "{}",
        output::programme(&programme.conference, &programme.talks)
    );
    let Some(start) = first_reminder(&programme, settings) else {
        return Ok(None);
    };
    prepare_reminders(settings, pool, &programme).await?;
    Ok(Some((programme, start)))
}

async fn import_sample(
    settings: &Settings,
    pool: &sqlx::PgPool,
    slug: &ConferenceSlug,
) -> anyhow::Result<()> {
    for (name, text) in [
        ("bundled sample schedule.ics", SAMPLE_ICS),
        ("bundled sample listing.txt", SAMPLE_LISTING),
    ] {
        let format = Format::detect(text.as_bytes());
        let schedule = import::parse(text.as_bytes(), Some(format), &ImportOptions::default())?;
        let outcome = apply_import(
            pool,
            ImportRequest {
                slug,
                source: name,
                format,
                schedule,
                time_zone_override: None,
                default_time_zone: settings.defaults.time_zone,
                dry_run: false,
                allow_mass_change: false,
            },
        )
        .await?;
        outln!("Imported {name}:");
        out!(
            "{}",
            output::import_report(&outcome.conference, &outcome.diff, false)
        );
    }
    Ok(())
}

/// The remindable talks in programme order.
fn remindable(programme: &Programme) -> impl Iterator<Item = (TalkId, DateTime<Utc>)> + '_ {
    programme
        .attendable()
        .filter_map(|i| programme.talks.get(i))
        .filter_map(|talk| Some((talk.id, talk.data.slot?.start)))
}

/// When the first channel reminder is due.
fn first_reminder(programme: &Programme, settings: &Settings) -> Option<DateTime<Utc>> {
    let (_, start) = remindable(programme).next()?;
    start.checked_sub_signed(settings.reminders.channel_lead.duration())
}

/// Room channels for Barn and Loft, the demo attendee subscribed to the second talk, a
/// board for every room in #now-next, and a thread for every talk.
async fn prepare_reminders(
    settings: &Settings,
    pool: &sqlx::PgPool,
    programme: &Programme,
) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let row = store::conferences::find(&mut conn, &programme.conference.slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo conference vanished"))?;
    let plan = ChannelPlan {
        by_room: CHANNELS
            .iter()
            .map(|(room, id, _)| ((*room).to_owned(), *id))
            .collect(),
        default: None,
        lead: settings.reminders.channel_lead,
        names: CHANNELS
            .iter()
            .map(|(_, id, name)| (*id, (*name).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    };
    store::subscriptions::set_channel_plan(&mut conn, row.id, &plan).await?;
    if let Some((talk, _)) = remindable(programme).nth(1) {
        store::subscriptions::subscribe(
            &mut *conn,
            row.id,
            None,
            ATTENDEE,
            SubscriptionRef::Talk(talk),
        )
        .await?;
    }
    let board = SetupChange::Board(Some(Board {
        channel: BOARD.0,
        layout: BoardLayout::Single,
    }));
    let threads = SetupChange::Threads(Some(ThreadSettings::default()));
    let seed = GuildSettings::seeded(Some(programme.conference.slug.clone()), None);
    for change in [board, threads] {
        store::guilds::change(&mut conn, GUILD, &seed, ATTENDEE, &change).await?;
    }
    Ok(())
}
