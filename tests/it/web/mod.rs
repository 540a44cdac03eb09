//! The web surface (`confbot::web`) served on a free port against a real database: the
//! calendar feeds, their caching and their safety.

mod browser;
mod feeds;
mod mytalks;
mod public;
mod screens;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use confbot::domain::reminders::LeadTime;
use confbot::web::feeds::Feeds;
use confbot::web::{self, Site, Throttle};
use sqlx::PgPool;
use tokio::sync::oneshot;

/// The web surface with the feed routes, on a free loopback port.
pub struct Web {
    pub addr: SocketAddr,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Web {
    /// Feeds on `pool` with a ten-minute default lead; misses limited to bursts of 20.
    pub async fn start(pool: PgPool) -> Web {
        Web::start_on(pool, "127.0.0.1:0".parse().expect("addr")).await
    }

    /// [`Web::start`] on `addr` (a restarted server on the port of the one before).
    pub async fn start_on(pool: PgPool, addr: SocketAddr) -> Web {
        let n = |n| NonZeroU32::new(n).expect("non-zero");
        let lead = LeadTime::from_minutes(10).expect("lead");
        let feeds = Feeds::new(
            pool,
            Arc::default(),
            lead,
            Throttle::new(n(10), n(20), false),
        );
        let site = Site {
            feeds: Some(Arc::new(feeds)),
            ..Site::default()
        };
        let listener = web::bind(addr, "test").await.expect("bind");
        let addr = listener.local_addr().expect("bound");
        let (stop, stopped) = oneshot::channel::<()>();
        // As `confbot run` serves it: stopping ends the screens' streams too.
        let task = tokio::spawn(site.serve(vec![(listener, "web.listen")], async {
            let _ = stopped.await;
        }));
        Web {
            addr,
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `GET path` with these request headers.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Stops the server; it must stop when asked.
    pub async fn stop(mut self) {
        if let (Some(stop), Some(task)) = (self.stop.take(), self.task.take()) {
            let _ = stop.send(());
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("the web surface stops in time")
                .expect("no panic");
        }
    }
}

/// A response header as text ("" when absent).
pub fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}
