//! `confbot simulate --conference SLUG --from T1 --to T2`: every post the scheduler would
//! make in a window, one per line, from the stored programme, subscriptions, lead times,
//! channel plan and boards, with the schedule updates waiting in the outbox. Nothing is sent
//! or written.

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::cli::connect_configured;
use crate::cli::console::parse_instant;
use crate::config::Settings;
use crate::domain::board::{self, Panel};
use crate::domain::model::ConferenceSlug;
use crate::domain::reminders::{simulate, why_nothing, PlannedPost, PostKind};
use crate::jobs::{PlanSettings, Planner};
use crate::store;

/// The most queued schedule update posts listed (each import makes at most a few per
/// channel).
const QUEUED_UPDATES: u32 = 1_000;

/// Arguments of `confbot simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The conference's slug, e.g. `nbpy-2026`.
    #[arg(long, value_name = "SLUG")]
    pub conference: String,
    /// The window's start (RFC 3339, included), e.g. `2026-04-25T22:00:00Z`.
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub from: DateTime<Utc>,
    /// The window's end (RFC 3339, excluded).
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub to: DateTime<Utc>,
}

/// Prints "due instant TAB target TAB text" for each post due in the window, in order.
pub async fn run(settings: &Settings, args: SimulateArgs) -> anyhow::Result<()> {
    let slug = ConferenceSlug::parse(&args.conference)?;
    anyhow::ensure!(
        args.from < args.to,
        "--from ({}) must be before --to ({})",
        args.from.to_rfc3339(),
        args.to.to_rfc3339()
    );
    let pool = connect_configured(settings).await?;
    let mut conn = pool.acquire().await?;
    let row = store::conferences::find(&mut conn, &slug)
        .await?
        .with_context(|| format!("no conference {slug}: import its schedule first"))?;
    drop(conn);
    let mut planner = Planner::new(pool.clone(), PlanSettings::from_settings(settings));
    let inputs = planner.inputs(&row).await?;
    let mut others: Vec<PlannedPost> =
        store::outbox::upcoming(&pool, row.id, PostKind::ScheduleUpdate, QUEUED_UPDATES)
            .await?
            .into_iter()
            .map(|entry| entry.post)
            .collect();
    let boards = store::boards::boards_of(&pool, row.id).await?;
    pool.close().await;
    // Ids only key the outbox: any distinct ones do for a rehearsal.
    let panels: Vec<Panel> = board::panels(&inputs.programme, &boards)
        .into_iter()
        .zip(0..)
        .map(|(spec, id)| Panel {
            id,
            spec,
            shown: None,
        })
        .collect();
    others.extend(board::board_edits(
        &inputs.programme,
        &panels,
        args.from..args.to,
    ));
    let lines = simulate(
        &inputs.programme,
        &inputs.subscriptions,
        &inputs.leads,
        inputs.default_lead,
        &inputs.channels,
        &others,
        args.from..args.to,
    );
    if lines.is_empty() {
        // On stderr: stdout stays one post per line for scripts.
        note!(
            "{}",
            why_nothing(
                &inputs.programme,
                &inputs.subscriptions,
                &inputs.channels,
                args.from..args.to
            )
        );
    }
    for line in lines {
        outln!("{line}");
    }
    Ok(())
}
