//! The built `confbot` binary as an operator starts it: [`confbot`] gives the command with
//! a clean environment, [`Process`] runs it with its log read as it comes (so a full pipe
//! never blocks it), finds the addresses it logs as bound, and stops it with SIGTERM.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::mpsc;

use crate::harness::confbot_bin;

/// The binary with none of the tester's own confbot settings in its environment.
pub fn confbot() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(confbot_bin());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CONFBOT") || key == "DATABASE_URL" || key.starts_with("DISCORD_") {
            command.env_remove(key);
        }
    }
    command
}

/// A started binary and its log lines (stderr) as they come.
pub struct Process {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    log: Vec<String>,
    wait: Duration,
}

/// How a [`Process`] ended: its exit code and every line it logged.
pub struct Exit {
    pub code: Option<i32>,
    pub lines: Vec<String>,
}

impl Exit {
    /// The whole log, one line after the other.
    pub fn log(&self) -> String {
        self.lines.join("\n")
    }
}

impl Process {
    /// Starts `command` logging at `info` (in its default format); `wait` bounds each wait
    /// on it (for a bound address, for the exit after SIGTERM).
    pub fn spawn(command: &mut tokio::process::Command, wait: Duration) -> Process {
        let mut child = command
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("confbot starts");
        let (sender, lines) = mpsc::unbounded_channel();
        let mut reader = BufReader::new(child.stderr.take().expect("stderr piped")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = sender.send(line);
            }
        });
        Process {
            child,
            lines,
            log: Vec::new(),
            wait,
        }
    }

    /// [`Process::spawn`] with JSON log lines (`log.format = "json"`), which
    /// [`Process::bound`] reads.
    pub fn spawn_json(command: &mut tokio::process::Command, wait: Duration) -> Process {
        Process::spawn(command.env("CONFBOT__LOG__FORMAT", "json"), wait)
    }

    /// The address the listener logged with `message` bound to (in the log so far or in a
    /// line still to come).
    pub async fn bound(&mut self, message: &str) -> SocketAddr {
        let bound_in = |line: &str| -> Option<SocketAddr> {
            let entry = serde_json::from_str::<Value>(line).ok()?;
            let fields = &entry["fields"];
            let text = fields["message"].as_str()?;
            let bound = fields["bound"]
                .as_str()
                .filter(|_| text.starts_with(message))?;
            bound.parse().ok()
        };
        if let Some(addr) = self.log.iter().find_map(|line| bound_in(line)) {
            return addr;
        }
        let found = tokio::time::timeout(self.wait, async {
            while let Some(line) = self.lines.recv().await {
                self.log.push(line.clone());
                if let Some(addr) = bound_in(&line) {
                    return Some(addr);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(addr)) => addr,
            _ => panic!("no {message:?} line; log:\n{}", self.log.join("\n")),
        }
    }

    /// The first log line (so far or still to come) containing `text`.
    pub async fn logged(&mut self, text: &str) -> String {
        if let Some(line) = self.log.iter().find(|line| line.contains(text)) {
            return line.clone();
        }
        let found = tokio::time::timeout(self.wait, async {
            while let Some(line) = self.lines.recv().await {
                self.log.push(line.clone());
                if line.contains(text) {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(line)) => line,
            _ => panic!("no line with {text:?}; log:\n{}", self.log.join("\n")),
        }
    }

    /// SIGKILL: the process dies wherever it is, and this returns once it has.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL sent");
        let _ = tokio::time::timeout(self.wait, self.child.wait())
            .await
            .expect("a killed process ends");
    }

    /// SIGTERM, then the exit code and the whole log (which ends with the process).
    pub async fn stop(mut self) -> Exit {
        let pid = self.child.id().expect("running") as libc::pid_t;
        // SAFETY: signals the child this test started and still owns.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let exit = tokio::time::timeout(self.wait, self.child.wait())
            .await
            .expect("confbot exits after SIGTERM")
            .expect("exit status");
        let drained = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(line) = self.lines.recv().await {
                self.log.push(line);
            }
        })
        .await;
        drained.expect("the log ends with the process");
        Exit {
            code: exit.code(),
            lines: self.log,
        }
    }
}
