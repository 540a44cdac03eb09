//! Request bodies as serenity sends them: JSON, or `multipart/form-data` for a message with
//! files (a `payload_json` part with the JSON and one `files[n]` part per file).

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use serde_json::Value;

/// A file attached to a recorded request.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A request body: JSON, or `multipart/form-data` as serenity sends messages with files (a
/// `payload_json` part with the JSON and one `files[n]` part per file).
pub fn read_body(headers: &HeaderMap, body: &[u8]) -> (Value, Vec<Attachment>) {
    let boundary = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.starts_with("multipart/form-data"))
        .and_then(|value| parameter(value, "boundary"));
    let Some(boundary) = boundary else {
        return (
            serde_json::from_slice(body).unwrap_or(Value::Null),
            Vec::new(),
        );
    };
    let delimiter = format!("--{boundary}");
    let mut json = Value::Null;
    let mut files = Vec::new();
    // Parts sit between delimiters: CRLF, headers, a blank line, the content, CRLF. The
    // closing delimiter is followed by "--".
    for part in split(body, delimiter.as_bytes()).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(blank) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..blank]);
        let content = &part[blank + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let Some(disposition) = head.lines().find(|line| {
            line.to_ascii_lowercase()
                .starts_with("content-disposition:")
        }) else {
            continue;
        };
        match (
            parameter(disposition, "name").as_deref(),
            parameter(disposition, "filename"),
        ) {
            (Some("payload_json"), _) => {
                json = serde_json::from_slice(content).unwrap_or(Value::Null);
            }
            (_, Some(filename)) => files.push(Attachment {
                filename,
                bytes: content.to_vec(),
            }),
            _ => {}
        }
    }
    (json, files)
}

/// `key=value` or `key="value"` among a header value's `;`-separated parameters.
fn parameter(header: &str, key: &str) -> Option<String> {
    header.split(';').find_map(|item| {
        let (name, value) = item.trim().split_once('=')?;
        (name.eq_ignore_ascii_case(key)).then(|| value.trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn split<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(body, delimiter) {
        parts.push(&body[..at]);
        body = &body[at + delimiter.len()..];
    }
    parts.push(body);
    parts
}
