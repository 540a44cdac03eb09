//! Running `postgres` as a child that cannot outlive us, and stopping it.

use super::setup::ServiceUser;
use std::io;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a fast shutdown may take before the server is stopped harder.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The `postgres` child and the keep-alive of the thread that spawned it.
#[derive(Debug)]
pub(super) struct Server {
    pub child: Child,
    /// Dropping this ends the spawning thread (see [`spawn_server`]); only done once the
    /// server has exited.
    _keep_alive: mpsc::Sender<()>,
}

/// Makes `command` run as the service user (when running as root). Setting the ids in the
/// forked child rather than going through `runuser` keeps `postgres` our direct child, which
/// the parent-death signal below needs, and needs no PAM session.
pub(super) fn run_as(command: &mut Command, user: Option<&ServiceUser>) {
    use std::os::unix::process::CommandExt;
    if let Some(user) = user {
        command.uid(user.uid).gid(user.gid);
    }
}

/// Spawns the server from a dedicated thread that blocks until `_keep_alive` is dropped.
/// On Linux the child asks for SIGQUIT (immediate shutdown) when that thread dies, which
/// happens when our process dies for any reason. The signal is bound to the spawning *thread*,
/// so it must not be a runtime worker that could end while the server is still wanted.
pub(super) fn spawn_server(mut command: Command) -> io::Result<Server> {
    {
        use std::os::unix::process::CommandExt;
        // A group of its own: Ctrl-C in a terminal signals the whole foreground group, and
        // postgres would take that SIGINT as a fast shutdown under our feet, failing every
        // query still running while we shut down in order. We stop it ourselves.
        command.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent. It runs
        // after the uid switch, which would otherwise clear the setting.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) == 0 {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            });
        }
    }
    let (child_tx, child_rx) = mpsc::channel();
    let (keep_alive, keep_alive_rx) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("embedded-postgres".into())
        .spawn(move || {
            let _ = child_tx.send(command.spawn());
            // Returns (with an error) once the Sender is dropped; the thread then ends.
            let _ = keep_alive_rx.recv();
        })?;
    let child = child_rx
        .recv()
        .map_err(|_| io::Error::other("the spawning thread ended early"))??;
    Ok(Server {
        child,
        _keep_alive: keep_alive,
    })
}

/// Fast shutdown (SIGINT, what `pg_ctl stop -m fast` sends), then immediate (SIGQUIT), then
/// SIGKILL. The child is reaped, so its pid cannot be reused while we signal it.
pub(super) fn stop_child(child: &mut Child) {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    for (signal, patience) in [
        (libc::SIGINT, STOP_TIMEOUT),
        (libc::SIGQUIT, Duration::from_secs(5)),
    ] {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        // SAFETY: plain syscall; `pid` is our unreaped child.
        unsafe { libc::kill(pid, signal) };
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
