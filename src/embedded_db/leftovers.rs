//! Server directories that killed processes left behind. A process killed with SIGKILL never
//! runs its clean-up; its server dies with it (see `process.rs`), but the directory stays.
//! Each directory therefore names its owner (process id and start time), so the next
//! process can prove the owner is gone and remove the directory at once; directories made
//! before owners were recorded fall back to an age rule.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The file in a server directory naming the process that made it.
const OWNER_FILE: &str = "owner";
/// A directory without an owner file is left alone this long: another process may be
/// setting it up right now.
const UNOWNED_GRACE: Duration = Duration::from_secs(3600);

/// A process, told apart from a later one that reuses its id by its start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Owner {
    pid: libc::pid_t,
    /// Clock ticks after boot (`/proc/PID/stat` field 22); `None` where `/proc` is missing.
    started: Option<u64>,
}

impl Owner {
    fn this_process() -> Owner {
        // A process id always fits pid_t; the fallback only keeps this free of a panic path.
        let pid = libc::pid_t::try_from(std::process::id()).unwrap_or(libc::pid_t::MAX);
        Owner {
            pid,
            started: start_time(pid),
        }
    }

    fn parse(text: &str) -> Option<Owner> {
        let mut words = text.split_whitespace();
        let pid = words.next()?.parse().ok()?;
        let started = match words.next()? {
            "-" => None,
            ticks => Some(ticks.parse().ok()?),
        };
        Some(Owner { pid, started })
    }

    fn render(self) -> String {
        match self.started {
            Some(ticks) => format!("{} {ticks}\n", self.pid),
            None => format!("{} -\n", self.pid),
        }
    }

    /// Whether this very process still runs (not merely some process with its id).
    fn alive(self) -> bool {
        match (self.started, start_time(self.pid)) {
            (Some(recorded), Some(now)) => recorded == now,
            (_, None) if Path::new("/proc/self/stat").exists() => false,
            _ => pid_exists(self.pid),
        }
    }
}

/// Records this process as the owner of the server directory `root`.
pub(super) fn claim(root: &Path) -> io::Result<()> {
    std::fs::write(root.join(OWNER_FILE), Owner::this_process().render())
}

/// Deletes the server directories under `parent` that a killed process left behind: those
/// whose owner is provably gone, and unowned ones older than an hour, in each case only
/// when no server runs in them. Best effort: anything unexpected is left alone.
pub(super) fn remove_stale_dirs(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let grace_ends = SystemTime::now() - UNOWNED_GRACE;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(prefix));
        // symlink_metadata: never follow a link out of `parent`.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !ours || !meta.is_dir() {
            continue;
        }
        let abandoned = match std::fs::read_to_string(path.join(OWNER_FILE)) {
            Ok(text) => Owner::parse(&text).is_some_and(|owner| !owner.alive()),
            Err(_) => meta.modified().is_ok_and(|at| at < grace_ends),
        };
        if abandoned && !server_alive(&path.join("data")) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Whether the postmaster named in `data/postmaster.pid` still runs. A directory without
/// that file never got a server, or the server shut down cleanly and removed it.
fn server_alive(data: &Path) -> bool {
    let Ok(pid_file) = std::fs::read_to_string(data.join("postmaster.pid")) else {
        return false;
    };
    let Some(pid) = pid_file
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<libc::pid_t>().ok())
    else {
        // Unreadable: treat as alive rather than delete a server's files.
        return true;
    };
    pid > 0 && pid_exists(pid)
}

/// Whether process `pid` runs. A zombie does not: where nobody reaps orphans (a container
/// whose first process does not), a killed server stays a zombie for good.
fn pid_exists(pid: libc::pid_t) -> bool {
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        let state = stat
            .rfind(')')
            .and_then(|end| stat[end + 1..].split_whitespace().next());
        return state != Some("Z");
    }
    // SAFETY: signal 0 only checks that the process exists. EPERM means it exists.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// The start time of process `pid` in clock ticks after boot, from `/proc/PID/stat`.
fn start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name; the start time is field 22.
    after_name.split_whitespace().nth(22 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(parent: &Path, name: &str, owner: Option<&str>, server: Option<u32>, age: u64) {
        let data = parent.join(name).join("data");
        std::fs::create_dir_all(&data).unwrap();
        if let Some(pid) = server {
            std::fs::write(data.join("postmaster.pid"), format!("{pid}\n/tmp\n")).unwrap();
        }
        if let Some(owner) = owner {
            std::fs::write(parent.join(name).join(OWNER_FILE), owner).unwrap();
        }
        let when = SystemTime::now() - Duration::from_secs(age);
        let dir = std::fs::File::open(parent.join(name)).unwrap();
        dir.set_modified(when).unwrap();
    }

    fn left(parent: &Path) -> Vec<String> {
        let mut left: Vec<String> = std::fs::read_dir(parent)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        left
    }

    #[test]
    fn only_old_unowned_directories_without_a_live_server_are_swept() {
        let parent = tempfile::tempdir().unwrap();
        make(
            parent.path(),
            "confbot-pg-old-dead",
            None,
            Some(u32::MAX / 2),
            7200,
        );
        make(
            parent.path(),
            "confbot-pg-old-running",
            None,
            Some(std::process::id()),
            7200,
        );
        make(parent.path(), "confbot-pg-new", None, None, 10);
        make(parent.path(), "unrelated-old", None, None, 7200);

        remove_stale_dirs(parent.path(), "confbot-pg-");

        assert_eq!(
            left(parent.path()),
            ["confbot-pg-new", "confbot-pg-old-running", "unrelated-old"]
        );
    }

    #[test]
    fn a_fresh_directory_whose_owner_is_gone_is_swept_at_once() {
        let parent = tempfile::tempdir().unwrap();
        let me = Owner::this_process().render();
        // The recorded process started at another time: its id was reused since.
        let reused = format!("{} 1\n", std::process::id());
        make(
            parent.path(),
            "confbot-pg-gone",
            Some("2147483646 5\n"),
            None,
            1,
        );
        make(parent.path(), "confbot-pg-reused", Some(&reused), None, 1);
        make(parent.path(), "confbot-pg-mine", Some(&me), None, 1);
        make(
            parent.path(),
            "confbot-pg-gone-but-serving",
            Some("2147483646 5\n"),
            Some(std::process::id()),
            1,
        );
        make(
            parent.path(),
            "confbot-pg-garbled",
            Some("not an owner"),
            None,
            7200,
        );

        remove_stale_dirs(parent.path(), "confbot-pg-");

        assert_eq!(
            left(parent.path()),
            [
                "confbot-pg-garbled",
                "confbot-pg-gone-but-serving",
                "confbot-pg-mine"
            ]
        );
    }

    #[test]
    fn an_owner_survives_its_text_form() {
        let me = Owner::this_process();

        assert!(me.started.is_some(), "Linux has /proc");
        assert_eq!(Owner::parse(&me.render()), Some(me));
        assert!(me.alive());
        assert_eq!(
            Owner::parse("12 -"),
            Some(Owner {
                pid: 12,
                started: None
            })
        );
        assert_eq!(Owner::parse("12"), None);
    }
}
