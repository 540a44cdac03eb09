//! Where schedules come from: http(s) sources with ETag, and sources identical to the
//! latest import.

use crate::cli::{confbot, fixture, run, talk_count};
use crate::harness::TestDb;

/// Serves `body` at every path with ETag `"v1"`, answering 304 to a request that sends it
/// back and 404 to paths ending in `missing`. Returns the base URL and the request count.
async fn schedule_server(body: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buffer[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let response = if path.ends_with("missing") {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            } else if head.contains("if-none-match: \"v1\"") {
                "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n".to_owned()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Type: text/calendar\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    (base, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_from_a_url_sends_the_etag_back_and_an_unchanged_schedule_costs_one_304() {
    let db = TestDb::new().await;
    let seed = std::fs::read_to_string(fixture("seed000-nbpy-pretalx.ics")).expect("seed");
    let (base, requests) = schedule_server(seed).await;
    let url = format!("{base}/nbpy-2026/schedule.ics");
    let import = |url: &str| {
        run(confbot(Some(&db.url)).args([
            "import",
            url,
            "--conference",
            "nbpy-2026",
            "--allow-private-addresses",
        ]))
    };

    let (code, first, stderr) = import(&url);
    assert_eq!(code, 0, "{stderr}");
    assert!(first.contains("1 added"), "{first}");

    let (code, second, stderr) = import(&url);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        second.contains("has not changed since the last import (HTTP 304)"),
        "{second}"
    );
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 2);

    let (code, _, stderr) = import(&format!("{base}/missing"));
    assert_eq!(code, 1);
    assert!(stderr.contains("404"), "{stderr}");
    assert_eq!(talk_count(&db).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_from_the_environment_are_never_used() {
    // A proxy would be a second way out of the SSRF guard (it connects where the URL says,
    // to addresses the guard never sees): confbot connects to the source itself.
    let db = TestDb::new().await;
    let seed = std::fs::read_to_string(fixture("seed000-nbpy-pretalx.ics")).expect("seed");
    let (base, requests) = schedule_server(seed).await;
    let (proxy, proxied) = schedule_server(String::new()).await;
    let mut command = confbot(Some(&db.url));
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        command.env(name, &proxy);
    }
    command.env_remove("no_proxy").env_remove("NO_PROXY");

    let (code, out, stderr) = run(command.args([
        "import",
        &format!("{base}/nbpy-2026/schedule.ics"),
        "--conference",
        "nbpy-2026",
        "--allow-private-addresses",
    ]));

    assert_eq!(code, 0, "{stderr}");
    assert!(out.contains("1 added"), "{out}");
    assert_eq!(
        proxied.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the proxy was asked"
    );
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_source_is_only_skipped_when_it_is_identical_to_the_latest_import() {
    let db = TestDb::new().await;
    let import = |name: &str| {
        run(confbot(Some(&db.url))
            .args(["import", "--conference", "demo"])
            .arg(fixture(name)))
    };
    let (code, _, stderr) = import("pretalx-anyconf.json");
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = import("pretalx-fosdemformat.xml");
    assert_eq!(code, 0, "{stderr}");

    // The JSON was imported before, but not last: it is diffed again, not skipped.
    let (code, again, _) = import("pretalx-anyconf.json");

    assert_eq!(code, 0);
    assert!(!again.contains("identical"), "{again}");
    assert!(again.contains("demo (Europe/Brussels): "), "{again}");
}
