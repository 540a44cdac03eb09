#!/usr/bin/env bash
# The CPU time of `confbot import --force` processes themselves (user + sys, GNU time), two
# builds alternating, medians (BENCHMARKS.md). On a shared, noisy machine the process's own
# CPU time moves less than its wall time, and PostgreSQL's share is left out.
#
#   benches/import_cpu.sh ROUNDS BIN_A URL_A BIN_B URL_B FILE
#
# Each build gets its own database (each migrates its own schema); create them first. The
# file is imported once into conference `cpu` first, which is deleted at the end.
set -euo pipefail
if [ "$#" -ne 6 ] || [ "$1" -lt 1 ]; then
    echo "usage: $0 ROUNDS BIN_A URL_A BIN_B URL_B FILE" >&2
    exit 2
fi
rounds="$1" bin_a="$2" url_a="$3" bin_b="$4" url_b="$5" file="$6"
out="$(mktemp)"
cleanup() {
    rm -f "$out"
    for url in "$url_a" "$url_b"; do
        psql "$url" -qAt -c "DELETE FROM conferences WHERE slug = 'cpu'" \
            -c "VACUUM ANALYZE talks, talk_speakers, speakers, imports" >/dev/null || true
    done
}
trap cleanup EXIT
side() {
    if [ "$1" = A ]; then bin="$bin_a" url="$url_a"; else bin="$bin_b" url="$url_b"; fi
}
for s in A B; do
    side "$s"
    DATABASE_URL="$url" "$bin" migrate >/dev/null
    DATABASE_URL="$url" "$bin" import "$file" --conference cpu >/dev/null 2>&1 ||
        { echo "the first import failed: $bin $file" >&2; exit 1; }
done
for _ in $(seq "$rounds"); do
    for s in A B; do
        side "$s"
        DATABASE_URL="$url" /usr/bin/time -f "$s %U %S %e" -a -o "$out" \
            "$bin" import "$file" --conference cpu --force >/dev/null 2>&1 ||
            { echo "import --force failed: $bin $file" >&2; exit 1; }
    done
done
python3 - "$out" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for side in "AB":
    cpu = [float(r[1]) + float(r[2]) for r in rows if r[0] == side]
    wall = [float(r[3]) for r in rows if r[0] == side]
    print(f"{side}: CPU median {statistics.median(cpu):.3f} s (min {min(cpu):.2f}, max "
          f"{max(cpu):.2f}), wall median {statistics.median(wall):.3f} s, {len(cpu)} runs")
PY
