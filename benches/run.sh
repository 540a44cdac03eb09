#!/usr/bin/env bash
# Reproduces the numbers in BENCHMARKS.md:
#   1. builds the release binary (the memory measurement runs it as a child process),
#   2. runs the import benchmark (benches/import.rs) against a private PostgreSQL,
#   3. parses the same .ics with Python's icalendar in a venv under target/bench-venv and
#      prints how many times slower (or faster) it is than confbot's parser.
# Environment: CONFBOT_BENCH_TALKS (default 10000), CONFBOT_BENCH_RUNS (default 5),
# CONFBOT_BENCH_DATABASE_URL (default: an embedded throwaway server).
# The other benchmarks run on their own (see BENCHMARKS.md): `cargo bench --bench commands`
# and `cargo bench --bench reminders` (reminder delivery through the rate-limiting Discord
# stand-in, about 13 minutes; CONFBOT_BENCH_FANOUT, CONFBOT_BENCH_FAULT_FANOUT,
# CONFBOT_BENCH_KILLS and CONFBOT_BENCH_SCENARIOS scale it down).
set -euo pipefail

cd "$(dirname "$0")/.."
talks="${CONFBOT_BENCH_TALKS:-10000}"
runs="${CONFBOT_BENCH_RUNS:-5}"
export CONFBOT_BENCH_TALKS="$talks" CONFBOT_BENCH_RUNS="$runs"
target="${CARGO_TARGET_DIR:-target}"
data="$target/bench-data"

cargo build --release --locked
cargo bench --locked --bench import

venv="$target/bench-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check icalendar
"$venv/bin/python" benches/python_ics.py "$data/schedule-$talks.ics" \
    --runs "$runs" --expect "$talks" --out "$data/python-ics-parse-seconds.txt"

rust_median="$(cat "$data/confbot-ics-parse-seconds.txt")"
python_median="$(cat "$data/python-ics-parse-seconds.txt")"
awk -v py="$python_median" -v rs="$rust_median" 'BEGIN {
    if (rs <= 0) { print "confbot median is zero: no ratio" > "/dev/stderr"; exit 1 }
    printf "\n.ics parse, medians: Python icalendar %.3f s, confbot %.3f s: Python takes %.1fx as long\n", py, rs, py / rs
}'
