use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// What the test server does on one connection.
enum Reply {
    /// Writes these bytes and closes.
    Full(String),
    /// Writes a chunked header and then 4 KiB chunks until the client goes away.
    EndlessChunks,
}

fn response(status: &str, headers: &[&str], body: &str) -> Reply {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    Reply::Full(format!("{head}\r\n{body}"))
}

/// Starts an HTTP/1.1 server on 127.0.0.1:0 that answers the n-th connection with
/// `handler(n, request head)`. Returns its base URL and the request heads it saw.
async fn serve<F>(handler: F) -> (String, Arc<Mutex<Vec<String>>>)
where
    F: Fn(usize, &str) -> Reply + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        for n in 0.. {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let head = read_head(&mut stream).await;
            log.lock().unwrap().push(head.clone());
            match handler(n, &head) {
                Reply::Full(text) => {
                    let _ = stream.write_all(text.as_bytes()).await;
                    let _ = stream.shutdown().await;
                }
                Reply::EndlessChunks => {
                    tokio::spawn(endless_chunks(stream));
                }
            }
        }
    });
    (base, seen)
}

async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&head).to_ascii_lowercase()
}

async fn endless_chunks(mut stream: TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = format!("1000\r\n{}\r\n", "x".repeat(4096));
    // Ends when the client hangs up, which is what the size cap must make it do.
    while stream.write_all(chunk.as_bytes()).await.is_ok() {}
}

fn fetcher(max_bytes: usize, timeout: Duration) -> Fetcher {
    Fetcher::new(&ImportSettings {
        max_bytes,
        fetch_timeout: timeout,
        user_agent: "confbot-test/1".to_owned(),
        // The test servers listen on 127.0.0.1; the guard itself is tested in guard/tests.rs.
        allow_private_addresses: true,
    })
    .unwrap()
}

fn default_fetcher() -> Fetcher {
    fetcher(64 * 1024, Duration::from_secs(5))
}

/// Runs a fetch with a hard upper bound, so a broken timeout fails the test instead of
/// hanging it.
async fn bounded(
    fetcher: &Fetcher,
    url: &str,
    validators: &Validators,
) -> Result<Fetched, FetchError> {
    tokio::time::timeout(Duration::from_secs(10), fetcher.fetch(url, validators))
        .await
        .expect("the fetch itself should have ended well within 10 s")
}

#[tokio::test]
async fn a_body_is_fetched_with_its_validators_and_content_type() {
    let (base, seen) = serve(|_, _| {
        let headers = [
            "Content-Type: text/calendar; charset=utf-8",
            "ETag: \"v1\"",
            "Last-Modified: Tue, 01 Jul 2025 10:00:00 GMT",
            "Content-Length: 15",
        ];
        response("200 OK", &headers, "BEGIN:VCALENDAR")
    })
    .await;

    let fetched = bounded(
        &default_fetcher(),
        &format!("{base}/s.ics"),
        &Validators::default(),
    )
    .await
    .unwrap();

    let expected = Fetched::Body {
        bytes: b"BEGIN:VCALENDAR".to_vec(),
        validators: Validators {
            etag: Some("\"v1\"".to_owned()),
            last_modified: Some("Tue, 01 Jul 2025 10:00:00 GMT".to_owned()),
        },
        content_type: Some("text/calendar; charset=utf-8".to_owned()),
    };
    assert_eq!(fetched, expected);
    let head = seen.lock().unwrap()[0].clone();
    assert!(head.starts_with("get /s.ics http/1.1\r\n"));
    assert!(head.contains("user-agent: confbot-test/1\r\n"));
}

#[tokio::test]
async fn sending_back_the_etag_gives_not_modified() {
    let (base, seen) = serve(|_, head| {
        // The server only says "not modified" if it was asked conditionally.
        if head.contains("if-none-match: \"v1\"\r\n") {
            response("304 Not Modified", &["ETag: \"v1\""], "")
        } else {
            response("200 OK", &["ETag: \"v1\"", "Content-Length: 4"], "body")
        }
    })
    .await;
    let fetcher = default_fetcher();
    let url = format!("{base}/schedule.json");
    let Fetched::Body { validators, .. } = bounded(&fetcher, &url, &Validators::default())
        .await
        .unwrap()
    else {
        panic!("the first fetch should return the body");
    };

    let second = bounded(&fetcher, &url, &validators).await.unwrap();

    assert_eq!(second, Fetched::NotModified);
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 2);
    assert!(!heads[0].contains("if-none-match"));
    assert!(heads[1].contains("if-none-match: \"v1\"\r\n"));
}

#[tokio::test]
async fn last_modified_is_sent_back_as_if_modified_since() {
    let (base, seen) = serve(|_, _| response("304 Not Modified", &[], "")).await;
    let validators = Validators {
        etag: None,
        last_modified: Some("Tue, 01 Jul 2025 10:00:00 GMT".to_owned()),
    };

    let fetched = bounded(&default_fetcher(), &base, &validators)
        .await
        .unwrap();

    assert_eq!(fetched, Fetched::NotModified);
    let head = seen.lock().unwrap()[0].clone();
    assert!(head.contains("if-modified-since: tue, 01 jul 2025 10:00:00 gmt\r\n"));
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_off_at_the_cap() {
    let (base, _) = serve(|_, _| Reply::EndlessChunks).await;

    let result = bounded(
        &fetcher(10_000, Duration::from_secs(30)),
        &base,
        &Validators::default(),
    )
    .await;

    let error = result.unwrap_err();
    assert!(
        matches!(
            error,
            FetchError::TooLarge {
                max_bytes: 10_000,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        format!("{base}/ is larger than the limit of 10000 bytes")
    );
}

#[tokio::test]
async fn a_body_without_content_length_over_the_cap_is_too_large() {
    // No length and no chunking: the body runs until the server closes the connection.
    let body = "y".repeat(2_000);
    let (base, _) = serve(move |_, _| response("200 OK", &[], &body)).await;

    let result = bounded(
        &fetcher(1_000, Duration::from_secs(5)),
        &base,
        &Validators::default(),
    )
    .await;

    assert!(matches!(
        result,
        Err(FetchError::TooLarge {
            max_bytes: 1_000,
            ..
        })
    ));
}

#[tokio::test]
async fn an_announced_length_over_the_cap_is_refused_before_downloading() {
    let (base, _) = serve(|_, _| response("200 OK", &["Content-Length: 5000000"], "")).await;

    let result = bounded(
        &fetcher(1_000, Duration::from_secs(5)),
        &base,
        &Validators::default(),
    )
    .await;

    assert!(matches!(
        result,
        Err(FetchError::TooLarge {
            max_bytes: 1_000,
            ..
        })
    ));
}

#[tokio::test]
async fn a_body_exactly_at_the_cap_is_accepted() {
    let (base, _) = serve(|_, _| response("200 OK", &[], "12345")).await;

    let result = bounded(
        &fetcher(5, Duration::from_secs(5)),
        &base,
        &Validators::default(),
    )
    .await;

    assert!(matches!(result, Ok(Fetched::Body { bytes, .. }) if bytes == b"12345"));
}

#[tokio::test]
async fn a_404_is_an_error_naming_status_and_url_without_credentials() {
    let (base, _) = serve(|_, _| response("404 Not Found", &["Content-Length: 0"], "")).await;
    let url = base.replacen("http://", "http://organiser:hunter2@", 1) + "/missing.ics";

    let error = bounded(&default_fetcher(), &url, &Validators::default())
        .await
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        format!("{base}/missing.ics answered HTTP 404 Not Found")
    );
}

#[tokio::test]
async fn redirects_are_followed() {
    let (base, _) = serve(|_, head| {
        if head.starts_with("get /old ") {
            response("302 Found", &["Location: /new", "Content-Length: 0"], "")
        } else {
            response("200 OK", &["Content-Length: 3"], "new")
        }
    })
    .await;

    let result = bounded(
        &default_fetcher(),
        &format!("{base}/old"),
        &Validators::default(),
    )
    .await;

    assert!(matches!(result, Ok(Fetched::Body { bytes, .. }) if bytes == b"new"));
}

#[tokio::test]
async fn a_redirect_loop_stops_after_five_redirects() {
    let (base, seen) =
        serve(|_, _| response("302 Found", &["Location: /again", "Content-Length: 0"], "")).await;

    let error = bounded(&default_fetcher(), &base, &Validators::default())
        .await
        .unwrap_err();

    assert!(
        matches!(error, FetchError::TooManyRedirects { .. }),
        "{error}"
    );
    assert_eq!(seen.lock().unwrap().len(), MAX_REDIRECTS + 1);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Bound but never accepted: the kernel completes the handshake, nobody ever replies.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/schedule.xml", silent.local_addr().unwrap());

    let error = bounded(
        &fetcher(1_000, Duration::from_millis(200)),
        &url,
        &Validators::default(),
    )
    .await
    .unwrap_err();

    assert!(matches!(error, FetchError::Timeout { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!("{url} did not answer within 200 ms")
    );
}

#[tokio::test]
async fn an_ftp_url_is_refused() {
    let error = default_fetcher()
        .fetch(
            "ftp://files.example.org/schedule.xml",
            &Validators::default(),
        )
        .await
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        "ftp://files.example.org/schedule.xml: only http and https URLs can be fetched"
    );
}

#[test]
fn urls_are_told_apart_from_paths() {
    assert!(is_url(
        "https://pretalx.com/pycon/schedule/export/schedule.json"
    ));
    assert!(is_url("  http://localhost:8000/s.ics"));
    assert!(is_url("ftp://files.example.org/s.xml"));
    assert!(!is_url("schedule.ics"));
    assert!(!is_url("/srv/confbot/schedule.xml"));
    assert!(!is_url("C:\\schedules\\pycon.ics"));
    assert!(!is_url("weird name://not a scheme"));
}

#[test]
fn a_source_url_is_logged_without_its_credentials() {
    assert_eq!(
        super::shown_url("https://bot:s3cret@pretalx.example.org/x/schedule.ics"),
        "https://pretalx.example.org/x/schedule.ics"
    );
    assert_eq!(super::shown_url("not a url s3cret"), "<not a URL>");
}

#[test]
fn connection_failures_are_generic_in_public_messages_and_detailed_for_the_operator() {
    let url = "https://schedule.example.org/s.ics".to_owned();
    let connect = FetchError::Connect {
        url: url.clone(),
        reason: "tcp connect error: Connection refused (os error 111)".to_owned(),
    };
    let transport = FetchError::Transport {
        url: url.clone(),
        reason: "connection reset by peer".to_owned(),
    };

    assert_eq!(
        connect.public_message(),
        format!("could not connect to {url}")
    );
    assert_eq!(transport.public_message(), format!("fetching {url} failed"));
    assert!(connect.to_string().contains("Connection refused"));
}

#[test]
fn token_query_parameters_are_hidden_in_fetch_errors() {
    let error = bounded_parse("https://u:p@host.example/s.ics?token=t0k&lang=en");
    let message = error.to_string();
    assert!(
        !message.contains("t0k") && !message.contains("u:p"),
        "{message}"
    );
}

fn bounded_parse(url: &str) -> FetchError {
    // An ftp URL is refused while parsing, with the URL in its message.
    parse_http_url(&url.replacen("https", "ftp", 1)).unwrap_err()
}
