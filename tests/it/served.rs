//! A schedule server on 127.0.0.1 whose answers a test sets and changes: status, body and
//! ETag (a request sending the ETag back gets a 304), counting what it was asked. The sync,
//! mass-change and `/sync` tests fetch from it.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

/// What the server answers, and how many requests it saw.
pub struct Served {
    pub status: u16,
    pub body: String,
    /// Empty: no ETag is sent.
    pub etag: String,
    pub requests: usize,
    /// Requests answered 304 because they sent the ETag back.
    pub conditional: usize,
}

impl Served {
    /// A 200 with `body`, no ETag.
    pub fn ok(body: impl Into<String>) -> Arc<Mutex<Served>> {
        Arc::new(Mutex::new(Served {
            status: 200,
            body: body.into(),
            etag: String::new(),
            requests: 0,
            conditional: 0,
        }))
    }

    /// A 200 with `body` and `etag`.
    pub fn tagged(body: impl Into<String>, etag: &str) -> Arc<Mutex<Served>> {
        let served = Served::ok(body);
        served.lock().unwrap().etag = etag.to_owned();
        served
    }
}

async fn answer(State(served): State<Arc<Mutex<Served>>>, headers: HeaderMap) -> impl IntoResponse {
    let mut served = served.lock().unwrap();
    served.requests += 1;
    let sent = headers
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut tags = HeaderMap::new();
    if !served.etag.is_empty() {
        tags.insert("etag", served.etag.parse().expect("an ETag"));
        if sent.as_deref() == Some(served.etag.as_str()) {
            served.conditional += 1;
            return (StatusCode::NOT_MODIFIED, tags, String::new());
        }
    }
    let status = StatusCode::from_u16(served.status).expect("status");
    (status, tags, served.body.clone())
}

/// Starts the server; returns the URL of `path` on it (any path gets the same answer).
pub async fn start(served: &Arc<Mutex<Served>>, path: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/{path}", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(Arc::clone(served));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}
