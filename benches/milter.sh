#!/usr/bin/env bash
# Postfix throughput with and without `preflight milter`, in the same run: smtp-source,
# 20 sessions, 2,000 messages (2 KB each), through a Postfix instance of its own on
# loopback to smtp-sink; RUNS runs of each (3 by default), interleaved and in turns
# (without-with, then with-without, ...); medians, the ratio of the medians, and the
# median of the ratios of neighbouring runs (which share the machine's mood). Also the
# CPU time the whole machine spent per message either way, and the milter's own.
#
# FLOOR=yes adds a third arm in each run: Postfix with `benches/null_milter.rs`, a milter
# that speaks the protocol as preflight does but checks nothing (what any milter costs).
#
# QUEUE=memory puts the whole Postfix instance (queue, sink, logs) on /dev/shm. This disk
# is the largest source of noise between runs (ext4 without a journal rescans the inodes
# deleted in the last minute for every file it creates). In memory that share of the noise
# is gone, and Postfix runs about twice as fast, so any milter's share of the work is larger.
#
# QUEUE=journal puts it on a fresh ext4 file system with a journal (the usual setup of a
# mail server's queue), in an image file on this disk mounted through a loop device. The
# disk's cost stays in the measurement; the inode rescans of the journal-less root file
# system do not, and Postfix alone runs faster and steadier (600-700 msg/s here, against
# about 450 on the root file system).
#
# REUSE=yes sends the messages of each session over one SMTP connection (smtp-source -d),
# as bulk senders do. By default each message has a connection of its own, and with it
# Postfix's milter connection, negotiation and hand-over from smtpd to cleanup.
#
# WARMUP=no leaves out the first, uncounted run.
#
#   [RUNS=3] [PASS_HEADER=no] [NO_RULES=yes] [SOCKET=unix] [FLOOR=yes] [QUEUE=memory|journal]
#   [REUSE=yes] [WARMUP=no]
#     bash benches/milter.sh [N_MESSAGES] [path/to/preflight]
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
[ "${QUEUE:-disk}" = memory ] && export E2E_ROOT=/dev/shm
queue_image="" queue_mount=""
if [ "${QUEUE:-disk}" = journal ]; then
  queue_image=$(mktemp /var/tmp/preflight-queue.XXXXXX)
  queue_mount=$(mktemp -d /tmp/preflight-queue.XXXXXX)
  truncate -s 4G "$queue_image"
  { mkfs.ext4 -q -F "$queue_image" && mount -o loop "$queue_image" "$queue_mount"; } || {
    echo "QUEUE=journal needs root, mkfs.ext4 and a loop device" >&2
    rm -rf "$queue_image" "$queue_mount"
    exit 1
  }
  chmod 755 "$queue_mount"
  export E2E_ROOT=$queue_mount
fi
e2e_setup "${2:-./target/release/preflight}"
if [ -n "$queue_mount" ]; then
  unmount_queue() {
    e2e_cleanup
    umount "$queue_mount" 2>/dev/null || umount -l "$queue_mount"
    rm -rf "$queue_image" "$queue_mount"
  }
  trap unmount_queue EXIT
fi
# PASS_HEADER=no: no verdict header on passing mail (Postfix then rewrites nothing).
# SOCKET=unix: the milter on a Unix socket (owned by postfix, mode 600) instead of TCP.
milter_conf=""
[ "${PASS_HEADER:-yes}" = no ] && milter_conf+="  pass_header: false"$'\n'
[ "${SOCKET:-inet}" = unix ] && milter_conf+="  socket_owner: \"postfix:postfix\""$'\n'"  socket_mode: \"600\""$'\n'
[ -n "$milter_conf" ] && printf 'milter:\n%s' "$milter_conf" >> "$DIR/preflight.yaml"
# NO_RULES=yes: every family off (messages are still parsed); FLOOR=yes measures the
# protocol alone.
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
NULL_ADDR=""
if [ "${FLOOR:-}" = yes ]; then
  null_bin=$(cargo bench --bench null_milter --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
  [ -x "$null_bin" ] || { echo "cannot build benches/null_milter.rs" >&2; exit 1; }
  if [ "${SOCKET:-inet}" = unix ]; then NULL_ADDR="unix:$DIR/null.sock"; else NULL_ADDR="inet:127.0.0.1:$((MILTER + 1))"; fi
  "$null_bin" "$NULL_ADDR" 2>> "$DIR/null.log" &
  NULL_PID=$!
  PIDS+=("$NULL_PID")
  sleep 0.5
  [ "${SOCKET:-inet}" = unix ] && chown postfix:postfix "$DIR/null.sock"
fi
start_postfix

now() { date +%s.%N; }
# utime + stime of the milter process (or of the null milter), in clock ticks.
milter_cpu() { awk '{ print $14 + $15 }' "/proc/${1:-$MILTER_PID}/stat"; }
# Busy time of the whole machine (user, nice, system, irq, softirq), in clock ticks.
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
tick_us=$(( 1000000 / $(getconf CLK_TCK) ))
reuse=""
[ "${REUSE:-}" = yes ] && reuse=-d
run() { # run with|without|floor: prints "msgs/s machine-us/msg milter-us/msg", sink to sink
  local milters=""
  [ "$1" = with ] && milters="$MILTER_ADDR"
  [ "$1" = floor ] && milters="$NULL_ADDR"
  postconf -c "$DIR/etc" -e "smtpd_milters = $milters" "non_smtpd_milters = $milters"
  postfix -c "$DIR/etc" reload >/dev/null 2>&1
  sleep 1
  rm -f "$DIR/sink"/* 2>/dev/null || true
  local start end cpu0 cpu1 busy0 busy1
  local pid=$MILTER_PID
  [ "$1" = floor ] && pid=$NULL_PID
  cpu0=$(milter_cpu "$pid") busy0=$(busy)
  start=$(now)
  smtp-source -A $reuse -s 20 -m "$N" -l 2048 -f sender@example.com -t rcpt@example.org \
    127.0.0.1:$SMTPD >/dev/null 2>&1
  # Polled slowly (listing 2,000 files costs CPU): the run ends when the last message
  # was written, which the files' times tell to the microsecond.
  for _ in $(seq 300); do
    [ "$(ls "$DIR/sink" | wc -l)" -ge "$N" ] && break
    sleep 0.5
  done
  cpu1=$(milter_cpu "$pid") busy1=$(busy)
  end=$(find "$DIR/sink" -type f -printf '%T@\n' | sort -n | tail -1)
  local got
  got=$(ls "$DIR/sink" | wc -l)
  [ "$got" -ge "$N" ] || { echo "only $got of $N arrived ($1 milter)" >&2; exit 1; }
  if [ "$1" = with ] && [ "${PASS_HEADER:-yes}" != no ]; then
    [ "$(grep -l '^X-Preflight-Verdict: ' "$DIR/sink"/* | wc -l)" -eq "$N" ] \
      || { echo "not every message was checked" >&2; exit 1; }
  fi
  awk -v n="$N" -v a="$start" -v b="$end" -v m=$(( (busy1 - busy0) * tick_us )) \
    -v p=$(( (cpu1 - cpu0) * tick_us )) 'BEGIN { printf "%.1f %.0f %.0f\n", n / (b - a), m / n, p / n }'
}

without=() with=() ratios=() mach_without=() mach_with=() milter=() floor=() floor_ratios=()
RUNS=${RUNS:-3}
# A first run that is not counted: on this disk the first run of a series finds no files
# deleted in the last minute and creates its files faster than any run after it (see
# QUEUE above), and the first measured run is always Postfix alone.
if [ "${WARMUP:-yes}" != no ]; then
  read -r rw _ <<< "$(run without)"
  echo "warm-up (not counted): Postfix alone $rw msg/s"
fi
for i in $(seq "$RUNS"); do
  c=""
  if [ $((i % 2)) = 1 ]; then
    a=$(run without) b=$(run with)
    [ -n "$NULL_ADDR" ] && c=$(run floor)
  else
    [ -n "$NULL_ADDR" ] && c=$(run floor)
    b=$(run with) a=$(run without)
  fi
  read -r ra ma _ <<< "$a"
  read -r rb mb pb <<< "$b"
  without+=("$ra") with+=("$rb") mach_without+=("$ma") mach_with+=("$mb") milter+=("$pb")
  ratios+=("$(awk -v a="$ra" -v b="$rb" 'BEGIN { printf "%.3f", b / a }')")
  echo "run $i: without milter $ra msg/s (machine CPU ${ma} us/msg), with preflight $rb msg/s (machine ${mb} us/msg, milter ${pb} us/msg)"
  if [ -n "$c" ]; then
    read -r rc mc pc <<< "$c"
    floor+=("$rc")
    floor_ratios+=("$(awk -v a="$ra" -v b="$rc" 'BEGIN { printf "%.3f", b / a }')")
    echo "       with the null milter $rc msg/s (machine ${mc} us/msg, null milter ${pc} us/msg)"
  fi
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
mw=$(median "${without[@]}") mm=$(median "${with[@]}") mr=$(median "${ratios[@]}")
echo "medians: Postfix alone $mw msg/s, with preflight milter $mm msg/s"
echo "CPU per message, medians: machine $(median "${mach_without[@]}") us without, $(median "${mach_with[@]}") us with; the milter itself $(median "${milter[@]}") us"
awk -v a="$mw" -v b="$mm" -v r="$mr" 'BEGIN { printf "with the milter Postfix keeps %.0f%% of its throughput (ratio of medians); median of the run-by-run ratios %.0f%%\n", 100 * b / a, 100 * r }'
if [ -n "$NULL_ADDR" ]; then
  mf=$(median "${floor[@]}") mfr=$(median "${floor_ratios[@]}")
  awk -v a="$mw" -v b="$mf" -v r="$mfr" 'BEGIN { printf "the floor: with a milter that checks nothing, Postfix keeps %.0f%% (ratio of medians, %.1f msg/s); median of the run-by-run ratios %.0f%%\n", 100 * b / a, b, 100 * r }'
fi
