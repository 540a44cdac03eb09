//! A headless Chromium driven over the DevTools protocol: just enough to open a page at
//! 1920×1080, read its DOM, take a screenshot and collect the errors it logs.
//!
//! Chromium comes from Debian's `chromium` package: `CONFBOT_TEST_CHROMIUM` names another
//! binary; when none is found and the tests run as root with apt-get (as `.ci/run` and
//! a fresh container do), it is installed once.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(30);
static INSTALL: Mutex<()> = Mutex::new(());

/// The Chromium binary, installed first where that is possible.
fn chromium() -> PathBuf {
    if let Ok(path) = std::env::var("CONFBOT_TEST_CHROMIUM") {
        return PathBuf::from(path);
    }
    let find = || {
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|name| which(name))
    };
    let _once = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = find() {
        return found;
    }
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0"));
    if root && which("apt-get").is_some() {
        let installed = std::process::Command::new("apt-get")
            .args(["install", "-y", "-qq", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|status| status.success());
        let updated_then = installed
            || (std::process::Command::new("apt-get")
                .args(["update", "-qq"])
                .status()
                .is_ok_and(|s| s.success())
                && std::process::Command::new("apt-get")
                    .args(["install", "-y", "-qq", "chromium"])
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .status()
                    .is_ok_and(|s| s.success()));
        assert!(updated_then, "apt-get install chromium failed");
    }
    find().expect(
        "the screen test needs Chromium: apt-get install chromium, or set CONFBOT_TEST_CHROMIUM",
    )
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

/// A Chromium with one page.
pub struct Browser {
    process: tokio::process::Child,
    page: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Exceptions and console errors the page reported.
    pub errors: Vec<String>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Opens `url` in a new headless Chromium, with a 1920×1080 viewport.
    pub async fn open(url: &str) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut process = tokio::process::Command::new(chromium())
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=1920,1080",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        let stderr = process.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let endpoint = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("chromium exited without its DevTools address");
        })
        .await
        .expect("chromium's DevTools address in time");
        // The rest of its chatter is drained so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let port = endpoint
            .trim_start_matches("ws://")
            .split(['/', ':'])
            .nth(1)
            .expect("port")
            .to_owned();
        let target = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .put(format!("http://127.0.0.1:{port}/json/new?about:blank"))
            .send()
            .await
            .expect("a new page")
            .text()
            .await
            .expect("its description");
        let target: Value = serde_json::from_str(&target).expect("json");
        let ws = target["webSocketDebuggerUrl"]
            .as_str()
            .expect("page socket");
        let (page, _) = tokio_tungstenite::connect_async(ws)
            .await
            .expect("page socket");
        let mut browser = Browser {
            process,
            page,
            next_id: 0,
            errors: Vec::new(),
            _profile: profile,
        };
        for method in ["Runtime.enable", "Log.enable", "Page.enable"] {
            browser.call(method, json!({})).await;
        }
        let viewport =
            json!({"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": false});
        browser
            .call("Emulation.setDeviceMetricsOverride", viewport)
            .await;
        browser.call("Page.navigate", json!({"url": url})).await;
        browser
    }

    /// Sends a command and returns its result, noting errors reported meanwhile.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.page.send(Message::text(message)).await.expect("send");
        tokio::time::timeout(WAIT, async {
            while let Some(message) = self.page.next().await {
                let Ok(Message::Text(text)) = message else {
                    continue;
                };
                let value: Value = serde_json::from_str(text.as_str()).expect("json");
                if value["id"] == id {
                    assert!(value.get("error").is_none(), "{method}: {value}");
                    return value["result"].clone();
                }
                self.note(&value);
            }
            panic!("the page's socket closed during {method}");
        })
        .await
        .unwrap_or_else(|_| panic!("{method} unanswered"))
    }

    fn note(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                self.errors.push(params["exceptionDetails"].to_string());
            }
            Some("Runtime.consoleAPICalled") if params["type"] == "error" => {
                self.errors.push(params["args"].to_string());
            }
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => {
                let text = params["entry"]["text"].as_str().unwrap_or_default();
                // A dropped stream while the server restarts is expected and retried.
                if !text.contains("net::ERR_") && !text.contains("EventSource") {
                    self.errors.push(params["entry"].to_string());
                }
            }
            _ => {}
        }
    }

    /// The value of a JavaScript expression on the page.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is `expected` or `within` passes; returns whether
    /// it became so. Polling the page is how one waits for a browser.
    pub async fn wait_until(
        &mut self,
        expression: &str,
        expected: Value,
        within: Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.eval(expression).await == expected {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        use base64::Engine as _;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("data"))
            .expect("base64")
    }

    pub async fn close(mut self) {
        let _ = self.process.kill().await;
    }
}

/// Width and height of a PNG, from its IHDR chunk.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (be(16), be(20))
}
