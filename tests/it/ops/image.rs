//! What the Dockerfile's runtime stage assumes, proven on the built binary (no Docker engine
//! runs here): its shared libraries are all in debian:bookworm-slim's own packages (libc6,
//! libgcc-s1: no libssl, no libpq), it needs no newer glibc than bookworm's 2.36, and it
//! starts with nothing but itself: an empty working directory and a clean environment. And
//! the build stage's dependency layer: its placeholder sources make a manifest cargo reads.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use confbot::discord::Telemetry;
use confbot::jobs::Outcomes;
use confbot::ops::{self, Ops};

use crate::harness::{confbot_bin, TestDb};

/// Sonames shipped by bookworm-slim's required packages: `libc6` (glibc and its loader)
/// and `libgcc-s1` (unwinding), plus the kernel's vDSO.
const IMAGE_LIBRARIES: &[&str] = &[
    "linux-vdso.so.1",
    "linux-gate.so.1",
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "librt.so.1",
    "libutil.so.1",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
];
/// bookworm's glibc.
const IMAGE_GLIBC: (u32, u32) = (2, 36);

/// The libraries `ldd` lists and the GLIBC symbol versions the binary itself needs.
#[derive(Debug, PartialEq)]
struct Linkage {
    libraries: BTreeSet<String>,
    not_found: Vec<String>,
    glibc_versions: BTreeSet<(u32, u32)>,
}

/// Reads `ldd -v` output: `\tlibc.so.6 => /lib/... (0x...)`, `\t/lib64/ld-linux... (0x...)`,
/// `\tlibfoo.so => not found`, then "Version information:" with the binary's own needs
/// (`\t\tlibc.so.6 (GLIBC_2.34) => ...`) under its path.
fn parse_ldd(output: &str, binary: &str) -> Result<Linkage, String> {
    let mut linkage = Linkage {
        libraries: BTreeSet::new(),
        not_found: Vec::new(),
        glibc_versions: BTreeSet::new(),
    };
    if output.contains("not a dynamic executable") {
        return Err(format!("ldd cannot read {binary}: {}", output.trim()));
    }
    let mut in_versions = false;
    let mut own_section = false;
    for line in output.lines() {
        if line.trim() == "Version information:" {
            in_versions = true;
            continue;
        }
        if in_versions {
            // One tab: a file's section header; two tabs: what that file needs.
            if let Some(file) = line.strip_prefix('\t').filter(|l| !l.starts_with('\t')) {
                own_section = file.trim_end_matches(':') == binary;
            } else if own_section {
                let Some(version) = line.split("(GLIBC_").nth(1) else {
                    continue;
                };
                let version = version.split(')').next().unwrap_or_default();
                let mut parts = version.split('.').map(|p| p.parse::<u32>());
                if let (Some(Ok(major)), Some(Ok(minor))) = (parts.next(), parts.next()) {
                    linkage.glibc_versions.insert((major, minor));
                }
            }
            continue;
        }
        let entry = line.trim();
        if entry.is_empty() || entry == "statically linked" {
            continue;
        }
        let name = entry.split_whitespace().next().unwrap_or_default();
        // The loader is listed by path: keep its file name.
        let soname = name.rsplit('/').next().unwrap_or(name).to_owned();
        if entry.contains("=> not found") {
            linkage.not_found.push(soname.clone());
        }
        linkage.libraries.insert(soname);
    }
    Ok(linkage)
}

#[test]
fn the_binary_links_only_libraries_that_debian_bookworm_slim_ships() {
    let binary = confbot_bin();
    let output = match Command::new("ldd").arg("-v").arg(&binary).output() {
        Ok(output) => output,
        Err(error) => panic!(
            "ldd is needed to check the image's libraries and did not run ({error}); \
             install it (Debian: libc-bin)"
        ),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let linkage = parse_ldd(&text, &binary.display().to_string()).unwrap_or_else(|e| panic!("{e}"));

    let foreign: Vec<&String> = linkage
        .libraries
        .iter()
        .filter(|lib| !IMAGE_LIBRARIES.contains(&lib.as_str()))
        .collect();
    assert!(
        foreign.is_empty(),
        "not in the runtime image: {foreign:?}\n{text}"
    );
    assert!(linkage.not_found.is_empty(), "{text}");
    assert!(linkage.libraries.contains("libc.so.6"), "{text}");
    let newest = linkage.glibc_versions.iter().max().copied();
    assert!(
        newest.is_some_and(|newest| newest <= IMAGE_GLIBC),
        "needs glibc {newest:?}, bookworm has {IMAGE_GLIBC:?}\n{text}"
    );
}

#[test]
fn ldd_output_is_read_into_libraries_and_glibc_versions() {
    let output = "\tlinux-vdso.so.1 (0x00007ffc)\n\
        \tlibssl.so.3 => not found\n\
        \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\
        \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n\
        \n\tVersion information:\n\
        \t/bin/confbot:\n\
        \t\tlibc.so.6 (GLIBC_2.34) => /lib/x86_64-linux-gnu/libc.so.6\n\
        \t\tlibc.so.6 (GLIBC_2.2.5) => /lib/x86_64-linux-gnu/libc.so.6\n\
        \t/lib/x86_64-linux-gnu/libc.so.6:\n\
        \t\tld-linux-x86-64.so.2 (GLIBC_2.99) => /lib64/ld-linux-x86-64.so.2\n";

    let linkage = parse_ldd(output, "/bin/confbot").unwrap();

    let libraries: Vec<&str> = linkage.libraries.iter().map(String::as_str).collect();
    assert_eq!(
        libraries,
        [
            "ld-linux-x86-64.so.2",
            "libc.so.6",
            "libssl.so.3",
            "linux-vdso.so.1"
        ]
    );
    assert_eq!(linkage.not_found, ["libssl.so.3"]);
    assert_eq!(
        linkage.glibc_versions.into_iter().collect::<Vec<_>>(),
        [(2, 2), (2, 34)]
    );
    assert!(parse_ldd("\tnot a dynamic executable\n", "x").is_err());
}

/// The binary alone, as the image runs it: an empty working directory, no environment
/// beyond `vars`.
fn clean(dir: &std::path::Path, args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    Command::new(confbot_bin())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .expect("confbot runs")
}

#[tokio::test]
async fn the_binary_starts_from_an_empty_directory_with_a_clean_environment() {
    let db = TestDb::new().await;
    let empty = tempfile::tempdir().expect("temp dir");
    // A healthy endpoint for `confbot healthcheck` to find (the image's CMD would be
    // `confbot run`; here the endpoint's parts are marked healthy by hand).
    let telemetry = Arc::new(Telemetry::default());
    telemetry.set_shard_connected(0, true);
    let outcomes = Arc::new(Outcomes::default());
    outcomes.beat();
    let listener = ops::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(Ops {
        pool: db.pool.clone(),
        invalid: Arc::default(),
        telemetry,
        outcomes,
        delivery_stale_after: Duration::from_secs(120),
        parts: confbot::ops::Parts::ALL,
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let endpoint = tokio::spawn(ops::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = empty.path().to_owned();
    let url = db.url.clone();
    let listen = format!("0.0.0.0:{port}");
    let dead = format!("127.0.0.1:{closed_port}");

    let (help, migrate, healthy, unhealthy, leftovers) = tokio::task::spawn_blocking(move || {
        let help = clean(&dir, &["--help"], &[]);
        let migrate = clean(&dir, &["migrate"], &[("DATABASE_URL", &url)]);
        // As in the image: the listen address from the environment, 0.0.0.0 reached on
        // the loopback.
        let healthy = clean(
            &dir,
            &["healthcheck"],
            &[("CONFBOT__HTTP__LISTEN", &listen)],
        );
        let unhealthy = clean(&dir, &["healthcheck", "--addr", &dead], &[]);
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        (help, migrate, healthy, unhealthy, leftovers)
    })
    .await
    .expect("runs");
    let _ = stop.send(());
    endpoint.await.expect("endpoint stops");

    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert_eq!(help.status.code(), Some(0), "{}", text(&help));
    assert!(text(&help).contains("healthcheck"), "{}", text(&help));
    assert_eq!(migrate.status.code(), Some(0), "{}", text(&migrate));
    assert!(text(&migrate).contains("Database schema is up to date."));
    assert_eq!(healthy.status.code(), Some(0), "{}", text(&healthy));
    assert_eq!(String::from_utf8_lossy(&healthy.stdout), "ok\n");
    assert_eq!(unhealthy.status.code(), Some(1), "{}", text(&unhealthy));
    assert!(
        text(&unhealthy).contains("no answer from"),
        "{}",
        text(&unhealthy)
    );
    assert_eq!(leftovers, 0, "nothing written to the working directory");
}

#[test]
fn the_dockerfile_runtime_stage_is_the_one_these_tests_check() {
    let dockerfile = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile"),
    )
    .expect("Dockerfile");
    let runtime = dockerfile.rsplit("\nFROM ").next().expect("a final stage");

    assert!(runtime.starts_with("debian:bookworm-slim"), "{runtime}");
    assert!(runtime.contains("ca-certificates"), "{runtime}");
    assert!(runtime.contains("USER confbot"), "{runtime}");
    assert!(runtime.contains("HEALTHCHECK"), "{runtime}");
    assert!(
        runtime.contains("CMD [\"confbot\", \"healthcheck\"]"),
        "{runtime}"
    );
    assert!(runtime.contains("CMD [\"run\"]"), "{runtime}");
    // Only the binary comes from the build stage.
    let copies: Vec<&str> = runtime.lines().filter(|l| l.starts_with("COPY")).collect();
    assert_eq!(
        copies,
        ["COPY --from=builder /usr/local/bin/confbot /usr/local/bin/confbot"]
    );
}

/// The shell commands of the build stage's dependency layer that make the placeholder
/// sources: the `RUN mkdir -p src migrations benches` instruction up to its `cargo build`.
fn placeholder_script(dockerfile: &str) -> String {
    let start = dockerfile
        .find("RUN mkdir -p src migrations benches")
        .expect("the dependency layer's RUN");
    let run = &dockerfile[start + "RUN ".len()..];
    let end = run.find("&& cargo build").expect("its cargo build");
    run[..end].replace("\\\n", " ")
}

/// The `[[bench]]` targets the manifest declares.
fn bench_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bench = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bench = line == "[[bench]]";
        } else if let Some(name) = line.strip_prefix("name = ").filter(|_| in_bench) {
            names.push(name.trim_matches('"').to_owned());
        }
    }
    names
}

#[test]
fn the_dockerfile_dependency_layer_gives_cargo_a_manifest_it_can_read() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).expect("Dockerfile");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["Cargo.toml", "Cargo.lock", "build.rs"] {
        std::fs::copy(root.join(file), dir.path().join(file)).expect(file);
    }

    let script = placeholder_script(&dockerfile);
    let made = Command::new("sh")
        .args(["-c", &script])
        .current_dir(dir.path())
        .output()
        .expect("sh runs");
    assert!(made.status.success(), "{script}: {made:?}");
    let benches = bench_names(&manifest);
    assert!(benches.len() >= 4, "{benches:?}");
    for bench in &benches {
        let placeholder = dir.path().join("benches").join(format!("{bench}.rs"));
        assert!(placeholder.exists(), "no placeholder for bench {bench}");
    }
    // `cargo fetch` parses the manifest with all its targets (a missing bench file fails it
    // here, as it would fail the image's `cargo build`) and needs no network: every crate is
    // already in the local registry cache.
    let host = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    let host = String::from_utf8_lossy(&host.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .expect("the host triple");
    let fetched = Command::new(env!("CARGO"))
        .args(["fetch", "--offline", "--locked", "--target", &host])
        .current_dir(dir.path())
        .output()
        .expect("cargo runs");
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
}
