//! The command line: argument types (clap) and one function per subcommand. Every
//! subcommand is a thin shell: load settings, open the store, call the domain, print.

#[macro_use]
pub mod output;
mod console;
mod demo;
mod export;
mod import;
mod run;
mod serve;
mod simulate;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::config::Settings;
use crate::store;

/// confbot: a Discord bot for conference communities.
#[derive(Debug, Parser)]
#[command(name = "confbot", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (TOML). Defaults to $CONFBOT_CONFIG; without either, built-in
    /// defaults and environment variables are used.
    #[arg(long, global = true, env = "CONFBOT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import a schedule (file or http(s) URL) into a conference; a re-import is a diff.
    Import(ImportArgs),
    /// Print a conference's talks as JSON or iCalendar.
    Export(ExportArgs),
    /// List the stored conferences.
    Conferences,
    /// Try confbot with nothing configured: a private throwaway database, a bundled sample
    /// conference, its schedule printed, then its reminders arriving on a demo clock while
    /// you type commands.
    Demo(demo::DemoArgs),
    /// Run the Discord bot: register the slash commands and answer them until SIGTERM or
    /// Ctrl-C, and deliver reminders and announcements. Needs DISCORD_TOKEN and a database.
    Run(run::RunArgs),
    /// Answer Discord's HTTP interactions (POST /interactions, Ed25519-verified) instead of
    /// the gateway: stateless replicas behind a load balancer, while `confbot run` workers
    /// deliver reminders. Needs DISCORD_TOKEN, DISCORD_PUBLIC_KEY,
    /// discord.application_id and a database.
    ServeInteractions(serve::ServeArgs),
    /// Answer attendee commands typed on standard input (`/next room:Barn`,
    /// `/talk query:"glue compute"`) exactly as the bot would, without Discord.
    Console(console::ConsoleArgs),
    /// Print every reminder the scheduler would post in a window, in order, one per line:
    /// due instant (RFC 3339 UTC), target (`channel:<name or id>` / `dm:<user id>`), text.
    /// Sends nothing.
    Simulate(simulate::SimulateArgs),
    /// Ask a running `confbot run` whether it is healthy (GET /healthz on `web.listen`, or
    /// --addr): exit status 0 if so, 1 with the reasons if not. For container health
    /// checks, where no curl is installed.
    Healthcheck(HealthcheckArgs),
}

/// Arguments of `confbot healthcheck`.
#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// The endpoint's address, e.g. `127.0.0.1:9090`; default `web.listen` (an unspecified
    /// address such as `0.0.0.0` is reached on the loopback).
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<std::net::SocketAddr>,
}

/// Arguments of `confbot import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A file path or an http(s) URL.
    pub source: String,
    /// The conference's slug (created on first import), e.g. `nbpy-2026`.
    #[arg(long, value_name = "SLUG")]
    pub conference: String,
    /// The conference's IANA time zone (e.g. `America/Los_Angeles`): used for floating times
    /// and wins over the zone the source names.
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// The source format; detected from the content when omitted.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Show what would change without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Import even when the source is byte for byte the one imported last (normally
    /// recognised and skipped, since it cannot change anything).
    #[arg(long)]
    pub force: bool,
    /// The iCalendar SUMMARY reads `Title - Speaker, Speaker` (as pretalx writes it) although
    /// the file is not from pretalx: split the speakers off the title.
    #[arg(long)]
    pub summary_speakers: bool,
    /// Apply even an import that would cancel more than half of the conference's scheduled
    /// talks or change its time zone (refused otherwise, in case the source is another
    /// conference's schedule).
    #[arg(long)]
    pub allow_mass_change: bool,
    /// Fetch a URL even from loopback, private, link-local and other internal addresses
    /// (as `import.allow_private_addresses = true` does for every fetch). Without it, a
    /// command-line import follows the config like the bot does.
    #[arg(long)]
    pub allow_private_addresses: bool,
}

/// Source formats accepted by `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// iCalendar (.ics), e.g. pretalx's export.
    Ics,
    /// pretalx / frab schedule.json.
    Json,
    /// frab / pentabarf schedule.xml.
    Xml,
    /// Plain-text talk listings, proposal pages, reStructuredText notes.
    Text,
}

impl From<FormatArg> for crate::domain::import::Format {
    fn from(value: FormatArg) -> Self {
        use crate::domain::import::Format;
        match value {
            FormatArg::Ics => Format::Ics,
            FormatArg::Json => Format::Json,
            FormatArg::Xml => Format::Xml,
            FormatArg::Text => Format::Text,
        }
    }
}

/// Arguments of `confbot export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The conference's slug.
    #[arg(long, value_name = "SLUG")]
    pub conference: String,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Json,
    Ics,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env(cli.config.as_deref())?;
    // The demo talks to a person on the terminal: only warnings in between, unless asked.
    // A health check runs every few seconds: only its verdict, not a log line.
    let quiet = matches!(cli.command, Command::Demo(_) | Command::Healthcheck(_));
    init_tracing(&settings, quiet);
    match cli.command {
        Command::Migrate => {
            let pool = connect_configured(&settings).await?;
            store::migrate(&pool).await?;
            outln!("Database schema is up to date.");
            Ok(())
        }
        Command::Import(args) => import::run(&settings, args).await,
        Command::Export(args) => export::run(&settings, args).await,
        Command::Conferences => {
            let pool = connect_configured(&settings).await?;
            let mut conn = pool.acquire().await?;
            let list = store::conferences::list(&mut conn).await?;
            out!("{}", output::conference_list(&list));
            Ok(())
        }
        Command::Demo(args) => demo::run(&settings, args).await,
        Command::Run(args) => run::run(&settings, args).await,
        Command::ServeInteractions(args) => serve::run(&settings, args).await,
        Command::Console(args) => console::run(&settings, args).await,
        Command::Simulate(args) => simulate::run(&settings, args).await,
        Command::Healthcheck(args) => {
            let addr = args
                .addr
                .or(settings.run_listen().map(|(addr, _)| addr))
                .context(
                    "no endpoint to check: set web.listen (CONFBOT__WEB__LISTEN) or pass --addr",
                )?;
            out!("{}", crate::ops::check(addr).await?);
            Ok(())
        }
    }
}

/// One malloc arena for the whole process. glibc gives each thread that allocates its own
/// arena and keeps freed memory there; an import parses on a blocking thread and stores on a
/// worker, so a 10,000-talk import peaked at 121 MB with per-thread arenas and 96 MB with one
/// (BENCHMARKS.md). confbot's threads mostly wait on I/O, so the shared lock costs nothing
/// measurable. Must run before the async runtime starts its threads.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn init_tracing(settings: &Settings, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if quiet {
        "warn"
    } else {
        settings.log.level.as_str()
    };
    // The quiet commands talk to a person (the demo) or a health checker: the pool's
    // complaint about a connection the throwaway server closed as the demo shut it down
    // is noise to them (under load it can race the end of the demo's last queries).
    let pool = if quiet { ",sqlx_core::pool=error" } else { "" };
    let filter = EnvFilter::try_from_default_env()
        // Postgres NOTICEs ("relation already exists, skipping" on every migrate) and the
        // cron scheduler's start-up chatter are noise.
        .or_else(|_| {
            EnvFilter::try_new(format!(
                "{level},sqlx::postgres::notice=warn,tokio_cron_scheduler=warn{pool}"
            ))
        })
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes are for a person at a terminal: not for a log file, a pipe or a CI log,
    // and never when NO_COLOR is set (no-color.org).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && !matches!(std::env::var_os("NO_COLOR"), Some(value) if !value.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    // A second initialisation (tests calling `run` twice) is harmless: keep the first.
    let _ = match settings.log.format {
        crate::config::LogFormat::Json => builder.json().try_init(),
        crate::config::LogFormat::Text => builder.try_init(),
    };
}

/// Connects to the configured database and applies migrations. Commands that keep data
/// (import, export, ...) need a real database: the throwaway one would lose it on exit.
pub async fn connect_configured(settings: &Settings) -> anyhow::Result<PgPool> {
    let url = settings.database.url.as_ref().context(
        "no database configured: set DATABASE_URL (or database.url in the config file); \
         only `confbot demo` runs on a private throwaway database",
    )?;
    let pool = store::connect(url.expose_secret(), settings.database.max_connections).await?;
    store::migrate(&pool).await?;
    Ok(pool)
}
