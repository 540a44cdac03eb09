//! `/metrics`: the OpenMetrics page. The recorders of the Discord adapter and the delivery
//! loop are registered as they are; what other parts keep for their own decisions (the
//! gateway's shards, the invalid-request window, the heartbeat) is copied in as constants;
//! the outbox depth and the sync summary are one query each at scrape time (bounded by
//! [`DATABASE_TIMEOUT`]; when the database does not answer they are left out and
//! `confbot_metrics_database_up` says 0).
//!
//! The registry is built per scrape: registering clones shares the recorders, and a
//! scrape-time value then needs no state of its own.

use chrono::Utc;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use super::{Ops, DATABASE_TIMEOUT};
use crate::discord::Gateway;
use crate::metrics;
use crate::store::{outbox, syncs};

/// The whole page.
pub async fn render(ops: &Ops) -> String {
    let gateway = ops.telemetry.gateway().await;
    let read = async {
        let pending = outbox::pending_count(&ops.pool).await?;
        let syncs = syncs::summary(&ops.pool).await?;
        Ok::<_, crate::store::StoreError>((pending, syncs))
    };
    let database = tokio::time::timeout(DATABASE_TIMEOUT, read).await;

    let mut page = Registry::with_prefix("confbot");
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    page.register("build", "The running version", Info::new(version));
    commands(&mut page, ops);
    delivery(&mut page, ops);
    gauges(&mut page, ops, &gateway);
    match database {
        Ok(Ok((pending, syncs))) => stored(&mut page, pending, &syncs),
        _ => database_up(&mut page, false),
    }
    metrics::encode(&page)
}

fn commands(page: &mut Registry, ops: &Ops) {
    let telemetry = &ops.telemetry;
    telemetry.commands.register(
        page,
        ["commands", "Each slash command answered, by command"],
        [
            "command_duration",
            "Seconds from a slash command arriving to its answer sent, by command",
        ],
    );
    telemetry.autocompletes.register(
        page,
        [
            "autocompletes",
            "Each autocomplete request answered, by command",
        ],
        [
            "autocomplete_duration",
            "Seconds from an autocomplete request arriving to its suggestions sent, by command",
        ],
    );
    page.register(
        "interactions_rejected",
        "Requests to the HTTP interactions endpoint refused: bad signature, stale or replayed",
        ConstCounter::new(telemetry.rejected()),
    );
}

fn delivery(page: &mut Registry, ops: &Ops) {
    page.register(
        "deliveries",
        "Outbox rows by kind (reminder, moved, cancelled, announcement, ...) and outcome",
        ops.outcomes.deliveries(),
    );
    page.register_with_unit(
        "delivery_lateness",
        "Seconds between a post's due time and its send",
        Unit::Seconds,
        ops.outcomes.lateness(),
    );
    page.register(
        "discord_invalid_requests",
        "Delivery requests Discord answered 401, 403 or 429 (it bans the IP at 10,000 in 10 \
         minutes)",
        ConstCounter::new(ops.invalid.total()),
    );
    let window = ops.invalid.in_window(tokio::time::Instant::now());
    page.register(
        "discord_invalid_requests_window",
        "Of those, the ones in the last 10 minutes; delivery pauses at 1,000",
        ConstGauge::new(i64::try_from(window).unwrap_or(i64::MAX)),
    );
    page.register(
        "dm_channels_opened",
        "Users' DM channels opened: ahead of their reminders, or at the send when not in time",
        ConstCounter::new(ops.outcomes.counts().dm_channels_opened),
    );
}

fn gauges(page: &mut Registry, ops: &Ops, gateway: &Gateway) {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let shards = [
        (
            "gateway_connected",
            "1 while every gateway shard this process runs is connected",
            i64::from(gateway.all_connected()),
        ),
        (
            "gateway_shards",
            "Gateway shards this process runs",
            count(gateway.shards.len()),
        ),
        (
            "gateway_shards_connected",
            "Gateway shards of this process that are connected",
            count(gateway.connected()),
        ),
        (
            "gateway_standby",
            "1 while another process holds the gateway lease of these shards and this one \
             stands by to take over; 0 while this one holds it",
            i64::from(gateway.standby),
        ),
    ];
    // A process without a gateway (`serve-interactions`, `run --no-gateway`) has no shards
    // to report: a 0 would read as "disconnected".
    for (name, help, value) in shards.into_iter().filter(|_| ops.parts.gateway) {
        page.register(name, help, ConstGauge::new(value));
    }
    if let Some(age) = ops.outcomes.heartbeat_age() {
        page.register_with_unit(
            "delivery_heartbeat_age",
            "Seconds since the delivery loop last looked at the outbox",
            Unit::Seconds,
            ConstGauge::new(age.as_secs_f64()),
        );
    }
    if let Some(workers) = ops.outcomes.workers() {
        page.register(
            "delivery_workers",
            "Delivering processes sharing Discord's global rate (this one included), as this \
             process's last heartbeat counted them: each paces at its share",
            ConstGauge::new(i64::from(workers)),
        );
    }
}

fn database_up(page: &mut Registry, up: bool) {
    page.register(
        "metrics_database_up",
        "1 when this scrape could read the database gauges",
        ConstGauge::new(i64::from(up)),
    );
}

fn stored(page: &mut Registry, pending: i64, syncs: &syncs::SyncSummary) {
    database_up(page, true);
    let gauges = [
        (
            "outbox_pending",
            "Outbox rows waiting to be sent (claimed or not)",
            pending,
        ),
        (
            "sync_sources",
            "Schedule sources synced at least once",
            syncs.sources,
        ),
        (
            "sync_sources_failing",
            "Schedule sources whose last sync failed",
            syncs.failing,
        ),
    ];
    for (name, help, value) in gauges {
        page.register(name, help, ConstGauge::new(value));
    }
    if let Some(last) = syncs.last_success_at {
        #[allow(clippy::cast_precision_loss)] // milliseconds since 1970: exact below 2^53
        let seconds = |millis: i64| millis as f64 / 1000.0;
        page.register_with_unit(
            "sync_last_success_timestamp",
            "Unix time of the latest successful schedule sync",
            Unit::Seconds,
            ConstGauge::new(seconds(last.timestamp_millis())),
        );
        page.register_with_unit(
            "sync_last_success_age",
            "Seconds since the latest successful schedule sync",
            Unit::Seconds,
            ConstGauge::new(seconds((Utc::now() - last).num_milliseconds())),
        );
    }
}
