//! `/healthz` and `/metrics` of the in-process [`Running`] bot.

use crate::reminders::BARN;

use super::{get, scrape_until, Running, SUBSCRIBER};

#[tokio::test]
async fn metrics_count_a_command_answered_through_the_stand_in_and_the_reminders_sent() {
    let running = Running::start().await;

    let help = running.slash(9_001, "help").await;
    let posted = running
        .scheduler
        .wait_for("the reminder in Barn and by DM", |c| c.sent >= 2)
        .await;
    let page = scrape_until(running.addr, "/help counted", |page| {
        page.value("confbot_commands_total{command=\"help\"}") >= 1.0
    })
    .await;
    let response = reqwest::get(format!("http://{}/metrics", running.addr))
        .await
        .expect("GET /metrics");
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE].clone();
    let created = running.standin.messages().posted();
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
        .fetch_one(&running.db.pool)
        .await
        .expect("count");
    running.stop().await;

    assert_eq!(help.body["type"], 4, "/help answered at once");
    assert_eq!(
        content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8",
        "what Prometheus asks for first, so it reads the page as OpenMetrics"
    );
    assert_eq!(page.types["confbot_build"], "info");
    let build = format!(
        "confbot_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(page.value(&build), 1.0);
    assert_eq!(page.types["confbot_commands"], "counter");
    assert_eq!((posted.sent, recorded), (2, 2));
    assert!(created.iter().any(|p| p.channel == BARN));
    assert!(created.iter().any(|p| p.dm_user == Some(SUBSCRIBER)));
    assert_eq!(page.value("confbot_commands_total{command=\"help\"}"), 1.0);
    assert_eq!(page.value("confbot_commands_total{command=\"talk\"}"), 0.0);
    assert_eq!(
        page.value("confbot_command_duration_seconds_count{command=\"help\"}"),
        1.0
    );
    assert_eq!(page.types["confbot_command_duration_seconds"], "histogram");
    assert_eq!(
        page.value("confbot_deliveries_total{kind=\"reminder\",outcome=\"sent\"}"),
        2.0
    );
    assert_eq!(
        page.value("confbot_deliveries_total{kind=\"reminder\",outcome=\"failed\"}"),
        0.0
    );
    // Both sends observed; how late they were is the benchmarks' business (a loaded machine
    // makes them late), not this test's.
    assert_eq!(page.value("confbot_delivery_lateness_seconds_count"), 2.0);
    assert_eq!(
        page.value("confbot_delivery_lateness_seconds_bucket{le=\"+Inf\"}"),
        2.0
    );
    assert_eq!(page.value("confbot_outbox_pending"), 0.0);
    assert_eq!(page.value("confbot_gateway_connected"), 1.0);
    assert_eq!(page.value("confbot_metrics_database_up"), 1.0);
    assert_eq!(page.value("confbot_sync_sources_failing"), 0.0);
    assert!(page
        .samples
        .contains_key("confbot_delivery_heartbeat_age_seconds"));
    assert_eq!(
        page.value("confbot_delivery_workers"),
        1.0,
        "this one, alone"
    );
}

#[tokio::test]
async fn healthz_is_ok_while_the_database_the_gateway_and_the_delivery_loop_work() {
    let running = Running::start().await;

    let (status, body) = get(running.addr, "/healthz").await;
    let (missing, _) = get(running.addr, "/nope").await;
    running.stop().await;

    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert_eq!(missing, 404);
}

#[tokio::test]
async fn healthz_names_the_database_when_it_cannot_be_reached() {
    let running = Running::start().await;

    running.ops_pool.close().await;
    let (status, body) = get(running.addr, "/healthz").await;
    let (_, metrics) = get(running.addr, "/metrics").await;
    running.stop().await;

    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with("database: unreachable ("), "{body}");
    assert_eq!(body.lines().count(), 1, "only the database fails: {body}");
    let page = super::prometheus::parse(&metrics).expect("still a valid page");
    assert_eq!(page.value("confbot_metrics_database_up"), 0.0);
    assert!(!page.samples.contains_key("confbot_outbox_pending"));
}

#[tokio::test]
async fn healthz_names_the_gateway_once_discord_is_disconnected() {
    let mut running = Running::start().await;
    assert!(
        running.telemetry.gateway_connected().await,
        "READY was handled"
    );

    running.stop_bot().await;
    let (status, body) = get(running.addr, "/healthz").await;
    running.stop().await;

    assert_eq!(
        (status, body.as_str()),
        (503, "gateway: not connected to Discord\n")
    );
}

#[tokio::test]
async fn healthz_names_the_shard_that_is_not_connected_and_metrics_count_the_shards() {
    let shards = [
        ("CONFBOT__DISCORD__SHARDS", "2"),
        ("CONFBOT__DISCORD__SHARD_RANGE", "0-1"),
    ];
    // Shard 1 identifies but gets no READY: connecting, not connected.
    let running = Running::start_with(&shards, |standin| standin.hold_ready(1)).await;

    let (down, reason) = get(running.addr, "/healthz").await;
    let (_, text) = get(running.addr, "/metrics").await;
    let half = super::prometheus::parse(&text).expect("a valid page");
    running.standin.release_ready(1);
    running.standin.wait_for_session(1).await;
    let both = scrape_until(running.addr, "both shards connected", |page| {
        page.value("confbot_gateway_connected") == 1.0
    })
    .await;
    let (up, ok) = get(running.addr, "/healthz").await;
    // Shard 1 dropped and not READY again: unhealthy once more.
    running.standin.hold_ready(1);
    running.standin.disconnect(1).await;
    scrape_until(running.addr, "shard 1 seen disconnected", |page| {
        page.value("confbot_gateway_shards_connected") == 1.0
    })
    .await;
    let (again, dropped) = get(running.addr, "/healthz").await;
    let identified = running.standin.identified_shards();
    running.stop().await;

    let expected = "gateway: 1 of 2 shards connected (shard 1 is not)\n";
    assert_eq!((down, reason.as_str()), (503, expected));
    assert_eq!(half.value("confbot_gateway_connected"), 0.0);
    assert_eq!(half.value("confbot_gateway_shards"), 2.0);
    assert_eq!(half.value("confbot_gateway_shards_connected"), 1.0);
    assert_eq!(half.types["confbot_gateway_shards_connected"], "gauge");
    assert_eq!(both.value("confbot_gateway_shards_connected"), 2.0);
    assert_eq!((up, ok.as_str()), (200, "ok\n"));
    assert_eq!((again, dropped.as_str()), (503, expected));
    assert_eq!(
        &identified[..2],
        [[0, 2], [1, 2]],
        "each shard of 2 identified"
    );
}
