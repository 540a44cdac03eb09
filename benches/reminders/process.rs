//! `confbot run` as a child process, configured as an operator would through the
//! environment, pointed at the stand-in; stopped with SIGTERM or killed with SIGKILL.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context as _};

/// One running `confbot run`.
pub struct Bot {
    child: tokio::process::Child,
    pid: libc::pid_t,
}

/// How to start the bot.
pub struct Launch<'a> {
    pub binary: &'a Path,
    pub database_url: &'a str,
    pub proxy_url: String,
    pub conference: &'a str,
    /// Appended to, so the log of a killed process and of its restart stay together.
    pub log: PathBuf,
    /// `reminders.rate_per_second`; `None`: the build's own default.
    pub rate: Option<u32>,
}

impl Bot {
    pub fn start(launch: &Launch<'_>) -> anyhow::Result<Bot> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&launch.log)
            .with_context(|| format!("opening {:?}", launch.log))?;
        let mut command = tokio::process::Command::new(launch.binary);
        // None of the caller's own confbot settings: only what an operator would set here.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("CONFBOT") || key == "DATABASE_URL" || key == "DISCORD_TOKEN" {
                command.env_remove(key);
            }
        }
        if let Some(rate) = launch.rate {
            command.env("CONFBOT__REMINDERS__RATE_PER_SECOND", rate.to_string());
        }
        let child = command
            .arg("run")
            .env_remove("RUST_LOG")
            .env("DISCORD_TOKEN", "stand-in-token")
            .env("DATABASE_URL", launch.database_url)
            .env("CONFBOT__DISCORD__PROXY_URL", &launch.proxy_url)
            .env("CONFBOT__DEFAULTS__CONFERENCE", launch.conference)
            .env(
                "CONFBOT__DEFAULTS__LEAD_MINUTES",
                super::conference::LEAD_MINUTES.to_string(),
            )
            .env(
                "CONFBOT__REMINDERS__CHANNEL_LEAD_MINUTES",
                super::conference::LEAD_MINUTES.to_string(),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {:?}", launch.binary))?;
        let pid = child.id().context("confbot exited at once")?;
        Ok(Bot {
            child,
            pid: libc::pid_t::try_from(pid)?,
        })
    }

    /// A crash: SIGKILL, wherever the process is. Its claims stay until their lease ends.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.signal(libc::SIGKILL)?;
        self.child.wait().await?;
        Ok(())
    }

    /// SIGTERM, as `docker stop` sends it: a clean exit within ten seconds.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.signal(libc::SIGTERM)?;
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .context("confbot did not exit within 10 s of SIGTERM")??;
        if !status.success() {
            bail!("confbot exited with {status}");
        }
        Ok(())
    }

    /// Its process id, to read its CPU time.
    pub fn pid(&self) -> u32 {
        self.pid.unsigned_abs()
    }

    /// Whether the process has exited on its own (it should not).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn signal(&self, signal: libc::c_int) -> anyhow::Result<()> {
        // SAFETY: signals the child this benchmark started and still owns (not yet reaped).
        if unsafe { libc::kill(self.pid, signal) } != 0 {
            bail!("could not signal confbot ({signal})");
        }
        Ok(())
    }
}
