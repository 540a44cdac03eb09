//! `/metrics`: the Prometheus text page. Counters and histograms come from memory; the
//! outbox depth and the sync summary are one query each at scrape time (bounded by
//! [`DATABASE_TIMEOUT`]; when the database does not answer they are left out and
//! `confbot_metrics_database_up` says 0).

use chrono::Utc;

use super::{Ops, DATABASE_TIMEOUT};
use crate::discord::Gateway;
use crate::jobs::Outcome;
use crate::metrics::Encoder;
use crate::store::{outbox, syncs};

/// The whole page.
pub async fn render(ops: &Ops) -> String {
    let mut page = Encoder::default();
    page.header("confbot_build_info", "gauge", "The running version.");
    page.sample(
        "confbot_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    commands(&mut page, ops);
    delivery(&mut page, ops);
    let gateway = ops.telemetry.gateway().await;
    gauges(&mut page, ops, &gateway);
    database(&mut page, ops).await;
    page.finish()
}

fn commands(page: &mut Encoder, ops: &Ops) {
    let kinds = [
        (
            &ops.telemetry.commands,
            "commands",
            "command",
            "slash command",
        ),
        (
            &ops.telemetry.autocompletes,
            "autocompletes",
            "autocomplete",
            "autocomplete request",
        ),
    ];
    for (family, plural, singular, label) in kinds {
        let series = family.snapshot();
        let total = format!("confbot_{plural}_total");
        page.header(
            &total,
            "counter",
            &format!("Each {label} answered, by command."),
        );
        for (name, snapshot) in &series {
            #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
            page.sample(&total, &[("command", name)], snapshot.count() as f64);
        }
        let duration = format!("confbot_{singular}_duration_seconds");
        let help = format!("Seconds from a {label} arriving to its answer sent, by command.");
        page.header(&duration, "histogram", &help);
        for (name, snapshot) in &series {
            page.histogram(&duration, &[("command", name)], snapshot);
        }
    }
    let name = "confbot_interactions_rejected_total";
    page.header(
        name,
        "counter",
        "Requests to the HTTP interactions endpoint refused: bad signature, stale or replayed.",
    );
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^53
    page.sample(name, &[], ops.telemetry.rejected() as f64);
}

fn delivery(page: &mut Encoder, ops: &Ops) {
    let name = "confbot_deliveries_total";
    page.header(
        name,
        "counter",
        "Outbox rows by kind (reminder, moved, cancelled, announcement) and outcome.",
    );
    for (kind, counts) in ops.outcomes.by_kind() {
        for (outcome, count) in Outcome::ALL.iter().zip(counts) {
            #[allow(clippy::cast_precision_loss)]
            page.sample(
                name,
                &[("kind", kind.as_str()), ("outcome", outcome.as_str())],
                count as f64,
            );
        }
    }
    let name = "confbot_delivery_lateness_seconds";
    page.header(
        name,
        "histogram",
        "Seconds between a post's due time and its send.",
    );
    page.histogram(name, &[], &ops.outcomes.lateness());
    let name = "confbot_discord_invalid_requests_total";
    page.header(
        name,
        "counter",
        "Delivery requests Discord answered 401, 403 or 429 (it bans the IP at 10,000 in 10 minutes).",
    );
    #[allow(clippy::cast_precision_loss)]
    page.sample(name, &[], ops.invalid.total() as f64);
    let name = "confbot_discord_invalid_requests_window";
    page.header(
        name,
        "gauge",
        "Of those, the ones in the last 10 minutes; delivery pauses at 1,000.",
    );
    #[allow(clippy::cast_precision_loss)]
    page.sample(
        name,
        &[],
        ops.invalid.in_window(tokio::time::Instant::now()) as f64,
    );
    let name = "confbot_dm_channels_opened_total";
    page.header(
        name,
        "counter",
        "Users' DM channels opened: ahead of their reminders, or at the send when not in time.",
    );
    #[allow(clippy::cast_precision_loss)]
    page.sample(name, &[], ops.outcomes.counts().dm_channels_opened as f64);
}

fn gauges(page: &mut Encoder, ops: &Ops, gateway: &Gateway) {
    #[allow(clippy::cast_precision_loss)] // shard counts are small
    let shards = [
        (
            "confbot_gateway_connected",
            "1 while every gateway shard this process runs is connected.",
            f64::from(u8::from(gateway.all_connected())),
        ),
        (
            "confbot_gateway_shards",
            "Gateway shards this process runs.",
            gateway.shards.len() as f64,
        ),
        (
            "confbot_gateway_shards_connected",
            "Gateway shards of this process that are connected.",
            gateway.connected() as f64,
        ),
        (
            "confbot_gateway_standby",
            "1 while another process holds the gateway lease of these shards and this one \
             stands by to take over; 0 while this one holds it.",
            f64::from(u8::from(gateway.standby)),
        ),
    ];
    // A process without a gateway (`serve-interactions`, `run --no-gateway`) has no shards
    // to report: a 0 would read as "disconnected".
    for (name, help, value) in shards.into_iter().filter(|_| ops.parts.gateway) {
        page.header(name, "gauge", help);
        page.sample(name, &[], value);
    }
    if let Some(age) = ops.outcomes.heartbeat_age() {
        let name = "confbot_delivery_heartbeat_age_seconds";
        page.header(
            name,
            "gauge",
            "Seconds since the delivery loop last looked at the outbox.",
        );
        page.sample(name, &[], age.as_secs_f64());
    }
}

async fn database(page: &mut Encoder, ops: &Ops) {
    let read = async {
        let pending = outbox::pending_count(&ops.pool).await?;
        let syncs = syncs::summary(&ops.pool).await?;
        Ok::<_, crate::store::StoreError>((pending, syncs))
    };
    let read = tokio::time::timeout(DATABASE_TIMEOUT, read).await;
    let name = "confbot_metrics_database_up";
    page.header(
        name,
        "gauge",
        "1 when this scrape could read the database gauges.",
    );
    let Ok(Ok((pending, syncs))) = read else {
        page.sample(name, &[], 0.0);
        return;
    };
    page.sample(name, &[], 1.0);
    #[allow(clippy::cast_precision_loss)]
    let gauges = [
        (
            "confbot_outbox_pending",
            "Outbox rows waiting to be sent (claimed or not).",
            pending as f64,
        ),
        (
            "confbot_sync_sources",
            "Schedule sources synced at least once.",
            syncs.sources as f64,
        ),
        (
            "confbot_sync_sources_failing",
            "Schedule sources whose last sync failed.",
            syncs.failing as f64,
        ),
    ];
    for (name, help, value) in gauges {
        page.header(name, "gauge", help);
        page.sample(name, &[], value);
    }
    if let Some(last) = syncs.last_success_at {
        let name = "confbot_sync_last_success_timestamp_seconds";
        page.header(
            name,
            "gauge",
            "Unix time of the latest successful schedule sync.",
        );
        #[allow(clippy::cast_precision_loss)]
        page.sample(name, &[], last.timestamp_millis() as f64 / 1000.0);
        let name = "confbot_sync_last_success_age_seconds";
        page.header(
            name,
            "gauge",
            "Seconds since the latest successful schedule sync.",
        );
        #[allow(clippy::cast_precision_loss)]
        page.sample(
            name,
            &[],
            (Utc::now() - last).num_milliseconds() as f64 / 1000.0,
        );
    }
}
