//! The guard inside a real fetch: loopback servers that count the connections they accept,
//! so "refused without connecting" is a count of zero, and redirects refused at the hop.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::tests::{ip, TableLookup};
use super::*;
use crate::config::ImportSettings;
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};

/// A loopback server that answers every connection with `reply` and counts connections.
async fn counting_server(reply: String) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 2048];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, count)
}

fn ok_body() -> String {
    "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nConnection: close\r\n\r\nBEGIN:VCALENDAR".to_owned()
}

fn redirect_to(location: &str) -> String {
    format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

fn settings(allow_private: bool) -> ImportSettings {
    ImportSettings {
        max_bytes: 1024,
        fetch_timeout: Duration::from_secs(5),
        user_agent: "confbot-test/1".to_owned(),
        allow_private_addresses: allow_private,
    }
}

async fn fetch(fetcher: &Fetcher, url: &str) -> Result<Fetched, FetchError> {
    tokio::time::timeout(
        Duration::from_secs(10),
        fetcher.fetch(url, &Validators::default()),
    )
    .await
    .expect("the fetch ends well within 10 s")
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_without_connecting() {
    let (addr, connections) = counting_server(ok_body()).await;
    let lookup = TableLookup::with(&[("schedule.example", &["127.0.0.1"])]);
    let fetcher = Fetcher::with_lookup(&settings(false), lookup.clone()).unwrap();

    let url = format!("http://schedule.example:{}/talks.ics", addr.port());
    let error = fetch(&fetcher, &url).await.unwrap_err();

    assert!(matches!(error, FetchError::Refused { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("not a public internet address"),
        "{message}"
    );
    assert!(
        !message.contains("127.0.0.1"),
        "no resolved address echoed: {message}"
    );
    assert_eq!(*lookup.asked.lock().unwrap(), vec!["schedule.example"]);
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn loopback_literals_in_any_spelling_are_refused_without_connecting() {
    let (addr, connections) = counting_server(ok_body()).await;
    let lookup = TableLookup::with(&[]);
    let fetcher = Fetcher::with_lookup(&settings(false), lookup.clone()).unwrap();
    let port = addr.port();

    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
    ] {
        let error = fetch(&fetcher, &url).await.unwrap_err();
        assert!(
            matches!(error, FetchError::Refused { .. }),
            "{url}: {error:?}"
        );
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    assert!(lookup.asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn with_allow_private_addresses_a_loopback_server_is_fetched() {
    let (addr, connections) = counting_server(ok_body()).await;
    let lookup = TableLookup::with(&[("schedule.example", &["127.0.0.1"])]);
    let fetcher = Fetcher::with_lookup(&settings(true), lookup).unwrap();

    for url in [
        format!("http://{addr}/talks.ics"),
        format!("http://schedule.example:{}/talks.ics", addr.port()),
    ] {
        let Fetched::Body { bytes, .. } = fetch(&fetcher, &url).await.unwrap() else {
            panic!("expected a body from {url}");
        };
        assert_eq!(bytes, b"BEGIN:VCALENDAR");
    }
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

/// A fetcher that treats 127.0.0.1 as a public host, so a redirect away from it can be
/// refused at the hop while every address involved stays on loopback.
fn fetcher_trusting_127_0_0_1(lookup: Arc<TableLookup>) -> Fetcher {
    let rule = AddressRule {
        allow_private: false,
        stand_ins: vec![ip("127.0.0.1")],
    };
    Fetcher::with_rule(&settings(false), lookup, rule).unwrap()
}

#[tokio::test]
async fn a_redirect_to_a_refused_literal_is_refused_at_the_hop() {
    let (inner, inner_connections) = counting_server(ok_body()).await;
    // 127.0.0.2 is loopback but not the stand-in: it is refused like any internal address.
    let target = format!("http://127.0.0.2:{}/latest/meta-data/", inner.port());
    let (outer, outer_connections) = counting_server(redirect_to(&target)).await;
    let fetcher = fetcher_trusting_127_0_0_1(TableLookup::with(&[]));

    let error = fetch(&fetcher, &format!("http://{outer}/"))
        .await
        .unwrap_err();

    assert!(matches!(error, FetchError::Refused { .. }), "{error:?}");
    assert!(!error.to_string().contains("127.0.0.2"), "{error}");
    assert_eq!(outer_connections.load(Ordering::SeqCst), 1);
    assert_eq!(inner_connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_redirect_to_a_name_resolving_internally_is_refused_at_the_hop() {
    let (inner, inner_connections) = counting_server(ok_body()).await;
    let target = format!("http://metadata.internal:{}/", inner.port());
    let (outer, _) = counting_server(redirect_to(&target)).await;
    let lookup = TableLookup::with(&[("metadata.internal", &["127.0.0.3"])]);
    let fetcher = fetcher_trusting_127_0_0_1(lookup.clone());

    let error = fetch(&fetcher, &format!("http://{outer}/"))
        .await
        .unwrap_err();

    assert!(matches!(error, FetchError::Refused { .. }), "{error:?}");
    assert_eq!(*lookup.asked.lock().unwrap(), vec!["metadata.internal"]);
    assert_eq!(inner_connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_redirect_to_file_or_ftp_says_so_instead_of_naming_the_status() {
    for (location, scheme) in [
        ("file:///etc/passwd", "file"),
        ("ftp://files.example/schedule.ics", "ftp"),
    ] {
        let (outer, _) = counting_server(redirect_to(location)).await;
        let fetcher = fetcher_trusting_127_0_0_1(TableLookup::with(&[]));

        let error = fetch(&fetcher, &format!("http://{outer}/"))
            .await
            .unwrap_err();

        let message = error.to_string();
        assert!(
            matches!(&error, FetchError::RedirectScheme { scheme: s, .. } if s == scheme),
            "{location}: {error:?}"
        );
        assert!(
            message.contains(&format!("redirected to a {scheme}: URL")),
            "{message}"
        );
        assert!(!message.contains("302"), "{message}");
    }
}
