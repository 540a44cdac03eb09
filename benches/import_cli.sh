#!/usr/bin/env bash
# Whole `confbot import` processes against a real PostgreSQL, two builds side by side in one
# run (BENCHMARKS.md, "Import at the database's speed"): for each file, each round runs
# build A then build B: a first import into a new conference, then `--force` (a full
# re-diff of the unchanged file), then, where a file FILE.changed exists beside it (the same
# programme with some talks changed), the import of that as an organiser's next export, then
# deletes the conference. Prints wall time and peak RSS (GNU time's %e and %M) per run, then
# the medians.
#
#   benches/import_cli.sh ROUNDS BIN_A URL_A BIN_B URL_B FILE...
#
# Each build gets its own database (each migrates its own schema); create them first.
set -euo pipefail
rounds="$1" bin_a="$2" url_a="$3" bin_b="$4" url_b="$5"
shift 5
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for bin_url in "$bin_a $url_a" "$bin_b $url_b"; do
    read -r bin url <<<"$bin_url"
    DATABASE_URL="$url" "$bin" migrate >/dev/null
done
for file in "$@"; do
    for round in $(seq "$rounds"); do
        for side in A B; do
            if [ "$side" = A ]; then bin="$bin_a" url="$url_a"; else bin="$bin_b" url="$url_b"; fi
            slug="bench-cli-$round"
            steps="first force"
            [ -f "$file.changed" ] && steps="$steps changed"
            for step in $steps; do
                flag="" source="$file"
                [ "$step" = force ] && flag="--force"
                [ "$step" = changed ] && source="$file.changed"
                # shellcheck disable=SC2086
                DATABASE_URL="$url" /usr/bin/time -f "%e %M" -o "$out" \
                    "$bin" import "$source" --conference "$slug" $flag >/dev/null 2>&1
                read -r wall kb <"$out"
                echo "$(basename "$file") $side $step $round $wall $((kb / 1024))"
            done
            psql "$url" -qAt -c "DELETE FROM conferences WHERE slug = '$slug'" \
                -c "VACUUM ANALYZE talks, talk_speakers, speakers, imports" >/dev/null
        done
    done
done | tee /dev/stderr | awk '
    { key = $1 " " $2 " " $3; n[key]++; wall[key, n[key]] = $5; rss[key, n[key]] = $6 }
    END {
        print "\nfile side step: median wall s, median peak RSS MB (runs)"
        for (key in n) {
            m = n[key]
            for (i = 1; i <= m; i++) { w[i] = wall[key, i]; r[i] = rss[key, i] }
            asort(w); asort(r)
            mid = int((m + 1) / 2)
            printf "%s: %.3f s, %d MB (%d)\n", key, w[mid], r[mid], m
        }
    }' | sort
