//! `confbot export --conference SLUG --format json|ics`.

use anyhow::Context;

use crate::cli::{connect_configured, ExportArgs, ExportFormat};
use crate::config::Settings;
use crate::domain::export;
use crate::domain::model::ConferenceSlug;
use crate::store;

pub async fn run(settings: &Settings, args: ExportArgs) -> anyhow::Result<()> {
    let slug = ConferenceSlug::parse(&args.conference)?;
    let pool = connect_configured(settings).await?;
    let mut conn = pool.acquire().await?;
    let row = store::conferences::find(&mut conn, &slug)
        .await?
        .with_context(|| format!("no conference {slug}: import a schedule into it first"))?;
    let talks = store::talks::load(&mut conn, row.id).await?;
    let rendered = match args.format {
        ExportFormat::Json => export::json::to_json(&talks) + "\n",
        ExportFormat::Ics => export::ics::to_ics(&row.conference, &talks, chrono::Utc::now()),
    };
    match args.output {
        Some(path) => tokio::fs::write(&path, rendered)
            .await
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => out!("{rendered}"),
    }
    Ok(())
}
