#!/usr/bin/env bash
# Postfix throughput with and without `preflight milter`, in the same run: smtp-source,
# 20 sessions, 2,000 messages (2 KB each), through a Postfix instance of its own on
# loopback to smtp-sink; three runs of each, interleaved; medians and the ratio.
#
#   [RUNS=3] [PASS_HEADER=no] [NO_RULES=yes] [SOCKET=unix] bash benches/milter.sh [N_MESSAGES] [path/to/preflight]
#
# Needs root and Debian's postfix and swaks (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
if ! command -v postfix >/dev/null || ! command -v swaks >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix swaks >/dev/null
fi
[ -n "${2:-}" ] || cargo build --release -q
# shellcheck source=tests/e2e/postfix_lib.sh
source tests/e2e/postfix_lib.sh
e2e_setup "${2:-./target/release/preflight}"
# PASS_HEADER=no: no verdict header on passing mail (Postfix then rewrites nothing).
# SOCKET=unix: the milter on a Unix socket (owned by postfix, mode 600) instead of TCP.
milter_conf=""
[ "${PASS_HEADER:-yes}" = no ] && milter_conf+="  pass_header: false"$'\n'
[ "${SOCKET:-inet}" = unix ] && milter_conf+="  socket_owner: \"postfix:postfix\""$'\n'"  socket_mode: \"600\""$'\n'
[ -n "$milter_conf" ] && printf 'milter:\n%s' "$milter_conf" >> "$DIR/preflight.yaml"
# NO_RULES=yes: every family off, to see the cost of the protocol alone.
[ "${NO_RULES:-}" = yes ] && printf "ignore: [headers, content, encoding, mime, size, bulk, html, links, attachments]\n" >> "$DIR/preflight.yaml"
start_milter
MILTER_ADDR="inet:127.0.0.1:$MILTER"
if [ "${SOCKET:-inet}" = unix ]; then
  kill "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null || true
  MILTER_ADDR="unix:$DIR/milter.sock"
  "$BIN" milter --listen "$MILTER_ADDR" --config "$DIR/preflight.yaml" 2>> "$DIR/milter.log" &
  MILTER_PID=$!
  for _ in $(seq 50); do [ -S "$DIR/milter.sock" ] && break; sleep 0.1; done
  [ -S "$DIR/milter.sock" ] || { echo "milter did not listen on $MILTER_ADDR" >&2; exit 1; }
fi
start_postfix

now() { date +%s.%N; }
# utime + stime of the milter process, in clock ticks.
milter_cpu() { awk '{ print $14 + $15 }' "/proc/$MILTER_PID/stat"; }
run() { # run with|without: prints messages per second, sink to sink
  local milters=""
  [ "$1" = with ] && milters="$MILTER_ADDR"
  postconf -c "$DIR/etc" -e "smtpd_milters = $milters" "non_smtpd_milters = $milters"
  postfix -c "$DIR/etc" reload >/dev/null 2>&1
  sleep 1
  rm -f "$DIR/sink"/* 2>/dev/null || true
  local start end cpu0
  cpu0=$(milter_cpu)
  start=$(now)
  smtp-source -A -s 20 -m "$N" -l 2048 -f sender@example.com -t rcpt@example.org \
    127.0.0.1:$SMTPD >/dev/null 2>&1
  for _ in $(seq 600); do
    [ "$(ls "$DIR/sink" | wc -l)" -ge "$N" ] && break
    sleep 0.05
  done
  end=$(now)
  local got
  got=$(ls "$DIR/sink" | wc -l)
  [ "$got" -ge "$N" ] || { echo "only $got of $N arrived ($1 milter)" >&2; exit 1; }
  if [ "$1" = with ] && [ "${PASS_HEADER:-yes}" != no ]; then
    [ "$(grep -l '^X-Preflight-Verdict: ' "$DIR/sink"/* | wc -l)" -eq "$N" ] \
      || { echo "not every message was checked" >&2; exit 1; }
  fi
  [ "$1" = with ] && echo "milter CPU: $(( $(milter_cpu) - cpu0 )) ticks of 1/$(getconf CLK_TCK) s" >&2
  awk -v n="$N" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f\n", n / (b - a) }'
}

without=() with=()
RUNS=${RUNS:-3}
for i in $(seq "$RUNS"); do
  without+=("$(run without)")
  with+=("$(run with)")
  echo "run $i: without milter ${without[-1]} msg/s, with preflight ${with[-1]} msg/s"
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
mw=$(median "${without[@]}") mm=$(median "${with[@]}")
echo "medians: Postfix alone $mw msg/s, with preflight milter $mm msg/s"
awk -v a="$mw" -v b="$mm" 'BEGIN { printf "with the milter Postfix keeps %.0f%% of its throughput\n", 100 * b / a }'
