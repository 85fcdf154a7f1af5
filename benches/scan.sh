#!/usr/bin/env bash
# `preflight scan` over the dev corpus (../shared/corpus, 6,739 messages, 77 MB): wall
# time and peak memory from /usr/bin/time -v, three runs each with every core and with
# one worker, medians. Targets: under 3 s of wall time and under 200 MB on 2 cores.
#
#   bash benches/scan.sh [CORPUS_DIR] [path/to/preflight]
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/corpus}
BIN=${2:-./target/release/preflight}
[ -n "${2:-}" ] || cargo build --release -q
[ -x /usr/bin/time ] || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
files=$(find "$CORPUS" -type f | wc -l)
bytes=$(du -sb "$CORPUS" | cut -f1)
echo "corpus: $CORPUS, $files files, $((bytes / 1000000)) MB; $(nproc) cores"
# Warm the page cache so every run reads the same way.
"$BIN" scan -q --format jsonl "$CORPUS" > /dev/null 2>&1 || true
run() { # run JOBS: prints "seconds peak_kb drafts"
  local log
  log=$(mktemp)
  /usr/bin/time -v "$BIN" scan -q -j "$1" --format jsonl "$CORPUS" 2> "$log" > "$log.out" || true
  local wall kb drafts
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$log")
  kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
  drafts=$(tail -1 "$log.out" | sed 's/^{"type":"summary","drafts":\([0-9]*\).*/\1/')
  rm -f "$log" "$log.out"
  echo "$wall $kb $drafts"
}
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
for jobs in "$(nproc)" 1; do
  walls=() mems=()
  for i in 1 2 3; do
    read -r wall kb drafts < <(run "$jobs")
    walls+=("$wall") mems+=("$kb")
    echo "  -j $jobs run $i: $wall s, peak $((kb / 1024)) MB, $drafts drafts"
  done
  w=$(median "${walls[@]}") m=$(median "${mems[@]}")
  awk -v j="$jobs" -v w="$w" -v m="$m" -v d="$drafts" \
    'BEGIN { printf "-j %s: median %.2f s wall (%.0f drafts/s), peak memory %.0f MB\n", j, w, d / w, m / 1024 }'
done
