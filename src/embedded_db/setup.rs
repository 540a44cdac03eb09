//! Finding the server binaries, the user to run them as, and creating the cluster.

use super::{run_as, EmbeddedDbError};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian and Ubuntu keep the server binaries off PATH, one directory per major version.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The unprivileged user the server runs as when we are root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ServiceUser {
    pub uid: u32,
    pub gid: u32,
}

/// The directory holding `initdb` and `postgres`: `CONFBOT_PG_BIN` if set, else the newest
/// `/usr/lib/postgresql/<version>/bin`, else the first PATH entry that has both.
pub(super) fn find_bin_dir() -> Result<PathBuf, EmbeddedDbError> {
    if let Some(dir) = std::env::var_os("CONFBOT_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(EmbeddedDbError::NotInstalled {
                searched: format!("CONFBOT_PG_BIN={}", dir.display()),
            })
        };
    }
    if let Some(dir) = newest_versioned_bin(Path::new(DEBIAN_ROOT)) {
        return Ok(dir);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| has_server(dir))
        .ok_or_else(|| EmbeddedDbError::NotInstalled {
            searched: format!("{DEBIAN_ROOT}/*/bin and PATH"),
        })
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}

/// The `bin` directory of the highest version under `root` (`15` < `16`, `9.6` < `10`).
fn newest_versioned_bin(root: &Path) -> Option<PathBuf> {
    std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = parse_version(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// `None` for a normal user (the server runs as us); the `postgres` user when we are root,
/// because `initdb` and `postgres` refuse to run as root.
pub(super) fn service_user() -> Result<Option<ServiceUser>, EmbeddedDbError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    lookup_user("postgres")
        .map(Some)
        .ok_or(EmbeddedDbError::NoServiceUser)
}

fn lookup_user(name: &str) -> Option<ServiceUser> {
    let name = CString::new(name).ok()?;
    // SAFETY: an all-zero passwd is a valid value to be overwritten by getpwnam_r.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the duration of the call and `buf.len()` is its size;
    // the reentrant variant keeps this safe with other threads looking users up.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut entry,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    (rc == 0 && !found.is_null()).then_some(ServiceUser {
        uid: entry.pw_uid,
        gid: entry.pw_gid,
    })
}

/// Creates the cluster in `data` with a `trust`ed superuser `role`. Prefers the `C.UTF-8`
/// locale, which a Debian system cluster uses too (pg_trgm only treats non-ASCII letters as
/// letters under a UTF-8 locale); falls back to `C` where that locale does not exist.
pub(super) fn run_initdb(
    initdb: &Path,
    data: &Path,
    cwd: &Path,
    role: &str,
    user: Option<&ServiceUser>,
) -> Result<(), EmbeddedDbError> {
    let mut failure = String::new();
    for locale in ["C.UTF-8", "C"] {
        let mut command = Command::new(initdb);
        command
            .arg("-D")
            .arg(data)
            .args(["-A", "trust", "-U", role, "-E", "UTF8", "--locale", locale])
            // The cluster is thrown away: skip the fsync of every file initdb writes.
            .arg("--no-sync")
            .current_dir(cwd)
            .env_remove("PGDATA");
        run_as(&mut command, user);
        let output = command
            .output()
            .map_err(EmbeddedDbError::io(format!("running {}", initdb.display())))?;
        if output.status.success() {
            return Ok(());
        }
        failure = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        // initdb removes its half-made data directory itself; only a locale problem is
        // worth another try.
        if !failure.contains("locale") {
            break;
        }
    }
    Err(EmbeddedDbError::Initdb {
        output: super::log_tail(&failure, 15),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_postgres_version_wins() {
        let root = tempfile::tempdir().unwrap();
        for version in ["9.6", "15", "16", "notaversion"] {
            let bin = root.path().join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            std::fs::write(bin.join("initdb"), "").unwrap();
            std::fs::write(bin.join("postgres"), "").unwrap();
        }
        std::fs::create_dir_all(root.path().join("17/bin")).unwrap(); // no binaries inside

        let found = newest_versioned_bin(root.path());

        assert_eq!(found, Some(root.path().join("16/bin")));
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("10") > parse_version("9.6"));
        assert_eq!(parse_version("15beta"), None);
    }

    #[test]
    fn an_unknown_user_is_not_found() {
        assert_eq!(lookup_user("no-such-user-confbot-test"), None);
        assert_eq!(lookup_user("root").map(|u| u.uid), Some(0));
    }
}
