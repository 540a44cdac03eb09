#!/usr/bin/env bash
# The CPU time of `confbot import --force` processes themselves (user + sys, GNU time), two
# builds alternating, medians (BENCHMARKS.md). On a shared, noisy machine the process's own
# CPU time moves less than its wall time, and PostgreSQL's share is left out.
#
#   benches/import_cpu.sh ROUNDS BIN_A URL_A BIN_B URL_B FILE
#
# Each build gets its own database; the file is imported once first into conference `cpu`,
# which is deleted at the end.
set -euo pipefail
rounds="$1" bin_a="$2" url_a="$3" bin_b="$4" url_b="$5" file="$6"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for bin_url in "$bin_a $url_a" "$bin_b $url_b"; do
    read -r bin url <<<"$bin_url"
    DATABASE_URL="$url" "$bin" migrate >/dev/null
    DATABASE_URL="$url" "$bin" import "$file" --conference cpu >/dev/null 2>&1
done
for _ in $(seq "$rounds"); do
    for side in A B; do
        if [ "$side" = A ]; then bin="$bin_a" url="$url_a"; else bin="$bin_b" url="$url_b"; fi
        DATABASE_URL="$url" /usr/bin/time -f "$side %U %S %e" -a -o "$out" \
            "$bin" import "$file" --conference cpu --force >/dev/null 2>&1
    done
done
for url in "$url_a" "$url_b"; do
    psql "$url" -qAt -c "DELETE FROM conferences WHERE slug = 'cpu'" >/dev/null
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
