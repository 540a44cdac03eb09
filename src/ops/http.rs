//! A minimal HTTP/1.1 responder: one request per connection (`Connection: close`), GET or
//! HEAD, no request bodies. Enough for health checks and Prometheus, and small enough to
//! read in one sitting; anything else gets 404, 405 or 400.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{health, page, Ops};
use crate::metrics::CONTENT_TYPE;

/// The longest request head read (a scrape's is a few hundred bytes).
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request: a silent connection must not hold a
/// task forever.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A response: status line, content type, body.
struct Response {
    status: &'static str,
    content_type: &'static str,
    body: String,
}

impl Response {
    fn text(status: &'static str, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }
}

/// Reads one request from `stream` and answers it. I/O errors end the connection quietly:
/// the client went away.
pub(super) async fn answer(mut stream: TcpStream, ops: Arc<Ops>) {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => {
            let response = Response::text("400 Bad Request", "bad request\n");
            let _ = write(&mut stream, &response, false).await;
            return;
        }
        Ok(Err(_)) | Err(_) => return,
    };
    let (method, path) = request_line(&head);
    let response = route(method, path, &ops).await;
    let _ = write(&mut stream, &response, method == "HEAD").await;
}

async fn route(method: &str, path: &str, ops: &Ops) -> Response {
    let path = path.split('?').next().unwrap_or(path);
    match (method, path) {
        ("GET" | "HEAD", "/healthz") => {
            let probe = health::probe(ops).await;
            let problems = health::problems(&probe, ops.delivery_stale_after);
            if problems.is_empty() && probe.gateway.standby && ops.parts.gateway {
                Response::text(
                    "200 OK",
                    "ok: standby (another process runs these gateway shards; this one takes \
                     over when it stops)\n",
                )
            } else if problems.is_empty() {
                Response::text("200 OK", "ok\n")
            } else {
                // Logged too: the orchestrator may only keep the status code.
                tracing::warn!(problems = %problems.join("; "), "health check failed");
                Response::text("503 Service Unavailable", problems.join("\n") + "\n")
            }
        }
        ("GET" | "HEAD", "/metrics") => Response {
            status: "200 OK",
            content_type: CONTENT_TYPE,
            body: page::render(ops).await,
        },
        ("GET" | "HEAD", _) => {
            Response::text("404 Not Found", "not found: try /healthz or /metrics\n")
        }
        _ => Response::text("405 Method Not Allowed", "only GET and HEAD\n"),
    }
}

/// The bytes up to the blank line ending the head; `None` when it is too long or the
/// client closed before finishing it.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0_u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&chunk[..read]);
        if let Some(end) = find_end(&head) {
            head.truncate(end);
            return Ok(String::from_utf8(head).ok());
        }
        if head.len() > MAX_HEAD {
            return Ok(None);
        }
    }
}

fn find_end(head: &[u8]) -> Option<usize> {
    head.windows(4).position(|window| window == b"\r\n\r\n")
}

/// Method and target of `GET /metrics HTTP/1.1`; empty strings when malformed (routed
/// to 405).
fn request_line(head: &str) -> (&str, &str) {
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    (method, target)
}

async fn write(
    stream: &mut TcpStream,
    response: &Response,
    head_only: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {}\r\ncontent-type: {}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(response.body.as_bytes()).await?;
    }
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_gives_method_and_target() {
        assert_eq!(
            request_line("GET /metrics?x=1 HTTP/1.1\r\nHost: a"),
            ("GET", "/metrics?x=1")
        );
        assert_eq!(request_line(""), ("", ""));
        assert_eq!(find_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(14));
    }
}
