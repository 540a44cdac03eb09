//! Import benchmark behind BENCHMARKS.md: `cargo bench --bench import` (or `bash
//! benches/run.sh`, which adds the Python comparison).
//!
//! It generates a 10,000-talk conference (`CONFBOT_BENCH_TALKS` or the first plain argument
//! overrides the count) as pretalx .ics, pretalx schedule.json, frab XML and a talk listing
//! under `target/bench-data/`, then measures against a real PostgreSQL
//! (`CONFBOT_BENCH_DATABASE_URL`, else a private embedded server):
//! - parse alone, parse + store into a fresh conference, and re-import of the unchanged file
//!   (whose diff must be empty: the benchmark fails otherwise), `CONFBOT_BENCH_RUNS` times
//!   each (default 5), reported as min / median;
//! - the listing imported after the .ics into the same conference (enrichment);
//! - one run of each split into phases (parse, load, plan, write, commit);
//! - the peak RSS of a whole `target/release/confbot import` process per format.
//!
//! It prints a Markdown report (also written to `target/bench-data/report-N.md`) and writes
//! the .ics parse median to `target/bench-data/confbot-ics-parse-seconds.txt` for run.sh.

#[path = "import/generate.rs"]
mod generate;
#[path = "import/measure.rs"]
mod measure;
#[path = "import/phases.rs"]
mod phases;
#[path = "import/render.rs"]
mod render;
#[path = "import/render_json.rs"]
mod render_json;
#[path = "import/report.rs"]
mod report;
#[path = "import/rounds.rs"]
mod rounds;
#[path = "import/setup.rs"]
mod setup;
#[path = "import/words.rs"]
mod words;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use confbot::domain::import::{self, Format, ImportOptions};
use confbot::embedded_db::EmbeddedPostgres;
use sqlx::PgPool;

use measure::{timed, ProcessCost, Samples};
use phases::Phases;
use rounds::{analyze, expect_unchanged, forget, import_once};

/// Writes a generated conference in one format.
type Render = fn(&generate::Conference) -> String;

/// One generated input file.
pub struct Input {
    pub format: Format,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl Input {
    fn source(&self) -> String {
        self.path.display().to_string()
    }
}

/// Everything measured for one format.
pub struct FormatResult {
    pub format: Format,
    pub file_bytes: usize,
    pub talks: usize,
    pub parse: Samples,
    pub first: Samples,
    pub reimport: Samples,
    pub first_phases: Phases,
    pub reimport_phases: Phases,
    /// The whole CLI process: first import, then re-import of the same file.
    pub process: Option<(ProcessCost, ProcessCost)>,
}

/// The listing imported into a conference that already holds the .ics timetable.
pub struct Enrichment {
    pub first: Samples,
    pub reimport: Samples,
    pub changed: usize,
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    let result = if args.peek().is_some_and(|a| a == measure::SPAWNER_FLAG) {
        args.next();
        measure::spawner_main(args)
    } else {
        run()
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("import benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let talks = setup::talk_count()?;
    let runs: usize = setup::env_number("CONFBOT_BENCH_RUNS")?.unwrap_or(5).max(1);
    let target = setup::target_dir()?;
    let data_dir = target.join("bench-data");
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;

    let started = Instant::now();
    let conf = generate::conference(talks);
    let renderers: [(Format, &str, Render); 4] = [
        (Format::Ics, "ics", render::ics),
        (Format::Json, "json", render_json::json),
        (Format::Xml, "xml", render::xml),
        (Format::Text, "txt", render::listing),
    ];
    let mut inputs = Vec::new();
    for (format, ext, render) in renderers {
        let path = data_dir.join(format!("schedule-{talks}.{ext}"));
        let bytes = render(&conf).into_bytes();
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        inputs.push(Input {
            format,
            path,
            bytes,
        });
    }
    eprintln!(
        "generated {talks} talks in 4 formats under {} ({:.1} s)",
        data_dir.display(),
        started.elapsed().as_secs_f64()
    );
    setup::check_formats_agree(&inputs)?;

    let binary = target.join("release").join("confbot");
    let binary = binary.is_file().then_some(binary);
    if binary.is_none() {
        eprintln!("target/release/confbot not found: memory is not measured (run `cargo build --release` first, or use benches/run.sh)");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let report = runtime.block_on(async {
        let (url, embedded) = match std::env::var("CONFBOT_BENCH_DATABASE_URL") {
            Ok(url) if !url.is_empty() => (url, None),
            _ => {
                let db = EmbeddedPostgres::start().await?;
                (db.url().to_owned(), Some(db))
            }
        };
        let result = measure_all(
            &data_dir,
            &url,
            embedded.is_some(),
            &inputs,
            talks,
            runs,
            binary.as_deref(),
        )
        .await;
        if let Some(db) = embedded {
            db.stop().await;
        }
        result
    })?;
    print!("{report}");
    let report_path = data_dir.join(format!("report-{talks}.md"));
    std::fs::write(&report_path, &report)?;
    eprintln!(
        "report written to {} (whole run {:.0} s)",
        report_path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn measure_all(
    data_dir: &Path,
    url: &str,
    embedded: bool,
    inputs: &[Input],
    talks: usize,
    runs: usize,
    binary: Option<&Path>,
) -> anyhow::Result<String> {
    let pool = confbot::store::connect(url, 4).await?;
    confbot::store::migrate(&pool).await?;
    let server: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&pool)
        .await?;

    let mut results = Vec::new();
    for input in inputs {
        eprintln!("measuring {} ...", input.format);
        let mut result = measure_format(&pool, input, talks, runs).await?;
        if let Some(binary) = binary {
            let slug = format!("bench-{}-process", input.format);
            let first = measure::import_process(binary, &input.path, &slug, url)?;
            let again = measure::import_process(binary, &input.path, &slug, url)?;
            result.process = Some((first, again));
            forget(&pool, &slug).await?;
        }
        results.push(result);
    }
    let enrichment = match (
        inputs.iter().find(|i| i.format == Format::Ics),
        inputs.iter().find(|i| i.format == Format::Text),
    ) {
        (Some(ics), Some(text)) => {
            eprintln!("measuring text after ics ...");
            Some(measure_enrichment(&pool, ics, text, runs).await?)
        }
        _ => None,
    };
    if let Some(ics) = results.iter().find(|r| r.format == Format::Ics) {
        let path = data_dir.join("confbot-ics-parse-seconds.txt");
        std::fs::write(&path, format!("{:.6}\n", ics.parse.median().as_secs_f64()))?;
    }
    let database = if embedded {
        format!("embedded PostgreSQL {server} (private server, Unix socket, fsync off)")
    } else {
        format!("PostgreSQL {server} from CONFBOT_BENCH_DATABASE_URL")
    };
    Ok(report::markdown(&report::Context {
        talks,
        runs,
        database,
        machine: measure::machine(),
        results: &results,
        enrichment: enrichment.as_ref(),
    }))
}

async fn measure_format(
    pool: &PgPool,
    input: &Input,
    talks: usize,
    runs: usize,
) -> anyhow::Result<FormatResult> {
    let mut parse = Samples::default();
    let mut parsed_talks = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let schedule = import::parse(&input.bytes, Some(input.format), &ImportOptions::default())
            .with_context(|| format!("parsing {}", input.path.display()))?;
        parse.push(start.elapsed());
        parsed_talks = schedule.talks.len();
    }
    if parsed_talks != talks {
        bail!(
            "{}: parsed {parsed_talks} talks, generated {talks}",
            input.format
        );
    }

    let mut first = Samples::default();
    let mut slug = String::new();
    for run in 0..runs {
        if !slug.is_empty() {
            forget(pool, &slug).await?;
        }
        slug = format!("bench-{}-{run}", input.format);
        let (outcome, took) = timed(import_once(pool, &slug, input)).await;
        let outcome = outcome?;
        if outcome.diff.added.len() != talks {
            bail!(
                "{}: the first import added {} talks, expected {talks}",
                input.format,
                outcome.diff.added.len()
            );
        }
        first.push(took);
    }

    analyze(pool).await?;
    let mut reimport = Samples::default();
    for _ in 0..runs {
        let (outcome, took) = timed(import_once(pool, &slug, input)).await;
        expect_unchanged(&outcome?, input.format, "re-import")?;
        reimport.push(took);
    }
    let reimport_phases = phases::measure(pool, &slug, input).await?;
    if !reimport_phases.unchanged {
        bail!("{}: the phased re-import changed talks", input.format);
    }
    forget(pool, &slug).await?;

    let phased_slug = format!("bench-{}-phases", input.format);
    let first_phases = phases::measure(pool, &phased_slug, input).await?;
    forget(pool, &phased_slug).await?;

    Ok(FormatResult {
        format: input.format,
        file_bytes: input.bytes.len(),
        talks: parsed_talks,
        parse,
        first,
        reimport,
        first_phases,
        reimport_phases,
        process: None,
    })
}

async fn measure_enrichment(
    pool: &PgPool,
    ics: &Input,
    text: &Input,
    runs: usize,
) -> anyhow::Result<Enrichment> {
    let mut first = Samples::default();
    let mut reimport = Samples::default();
    let mut changed = 0;
    for run in 0..runs {
        let slug = format!("bench-enrich-{run}");
        import_once(pool, &slug, ics).await?;
        analyze(pool).await?;
        let (outcome, took) = timed(import_once(pool, &slug, text)).await;
        let outcome = outcome?;
        if !outcome.diff.added.is_empty() {
            bail!(
                "the listing added {} talks to the .ics conference instead of enriching them \
                 (first: {:?})",
                outcome.diff.added.len(),
                outcome.diff.added.first().map(|e| &e.title)
            );
        }
        changed = outcome.diff.changed.len();
        first.push(took);
        let (outcome, took) = timed(import_once(pool, &slug, text)).await;
        expect_unchanged(&outcome?, Format::Text, "listing re-import after ics")?;
        reimport.push(took);
        forget(pool, &slug).await?;
    }
    Ok(Enrichment {
        first,
        reimport,
        changed,
    })
}
