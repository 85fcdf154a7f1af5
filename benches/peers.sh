#!/usr/bin/env bash
# preflight against SpamAssassin (spamd, 1 child) and rspamd (1 normal worker), offline,
# on the same distinct messages, in one run, interleaved.
#
#   bash benches/peers.sh [N]     # N messages (default 400), every k-th of MANIFEST.tsv
#   ROUNDS=5 bash benches/peers.sh
#
# Each round checks the slice once with each system, in a rotating order, one message at
# a time on one core: `preflight check FILE...` (one process), `spamc` per message
# against spamd, `rspamc -n 1` against rspamd. The servers are started and warmed before
# the first round, so their start-up is outside every timed pass; preflight's start-up
# (reading the rules, building the engine) is measured the same way, as a pass over one
# message, and taken off its passes, so all three count only the checks. Whole-process
# figures: wall time of the pass; CPU of the client and of the server processes (from
# /proc), per message. Prints per round and the medians, and the ratios (the ratio of the
# medians and the median of the per-round ratios), and the ratios again with preflight's
# start-up counted in each of its passes (a one-shot CLI run over the slice).
#
# Installs the peers from Debian's packages when missing. Servers bind to 127.0.0.1 only
# and are stopped by pid at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-400}
ROUNDS=${ROUNDS:-5}
CORPUS=${PREFLIGHT_CORPUS:-../shared/corpus}
[ -f "$CORPUS/MANIFEST.tsv" ] || { echo "no corpus at $CORPUS" >&2; exit 1; }
TMP=$(mktemp -d /tmp/preflight-peers.XXXXXX)
chmod 755 "$TMP"   # spamd and rspamd drop privileges and must read their config here
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$TMP"; }
trap cleanup EXIT

if ! command -v spamd >/dev/null || ! command -v rspamd >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends spamassassin spamc spamd rspamd >/dev/null
fi

total=$(($(wc -l < "$CORPUS/MANIFEST.tsv") - 1))
step=$(( total / N )); [ "$step" -ge 1 ] || step=1
awk -F'\t' -v s="$step" -v n="$N" 'NR>1 && (NR-2)%s==0 && c<n {print $1; c++}' "$CORPUS/MANIFEST.tsv" \
  | sed "s|^|$CORPUS/|" > "$TMP/files"
cargo build --release -q
BIN=./target/release/preflight
# Input that is not mail at all (preflight refuses it without checking) leaves the slice
# for every system, so all three check the same messages.
"$BIN" check --format json --now 1795392000 $(cat "$TMP/files") 2>&1 >/dev/null \
  | sed -n 's/^preflight: \(.*\): not a mail message:.*/\1/p' > "$TMP/not-mail" || true
grep -vxF -f "$TMP/not-mail" "$TMP/files" > "$TMP/mail" || true
echo "left out as not mail: $(wc -l < "$TMP/not-mail")"
mv "$TMP/mail" "$TMP/files"
count=$(wc -l < "$TMP/files")
head -1 "$TMP/files" > "$TMP/one"
echo "slice: $count distinct messages ($(xargs cat < "$TMP/files" | wc -c) bytes), $ROUNDS rounds"
TICK=$(getconf CLK_TCK)

# CPU seconds used so far by a server: the process, its reaped children and its live
# children (spamd's child, rspamd's workers).
server_cpu() {
  local main=$1 t=0 p
  for p in "$main" $(ps -o pid= --ppid "$main" 2>/dev/null); do
    [ -r "/proc/$p/stat" ] || continue
    # Fields after the command name: utime stime cutime cstime are 14-17 of the line.
    t=$(( t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13 + $14 + $15}') ))
  done
  awk -v t="$t" -v k="$TICK" 'BEGIN { printf "%.3f", t / k }'
}

# timed VAR_PREFIX COMMAND...: wall and client CPU seconds of the command (bash's own
# clock, microsecond resolution), into ${PREFIX}_wall and ${PREFIX}_cpu.
timed() {
  local prefix=$1 out
  shift
  out=$( { TIMEFORMAT='%3R %3U %3S'; time "$@" >/dev/null 2>&1; } 2>&1 ) || true
  read -r w u s <<< "$(tail -1 <<< "$out")"
  printf -v "${prefix}_wall" '%s' "$w"
  printf -v "${prefix}_cpu" '%s' "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
}

# --- SpamAssassin 4, offline (no network tests, no Bayes), one child.
rm -rf /var/lib/spamassassin/[0-9]* 2>/dev/null || true   # an empty sa-update dir hides the shipped rules
mkdir -p "$TMP/sa"
cp /etc/spamassassin/*.pre "$TMP/sa/"      # the plugin loaders; without them spamd cannot scan
cat > "$TMP/sa/local.cf" <<'CF'
use_bayes 0
skip_rbl_checks 1
dns_available no
use_razor2 0
use_pyzor 0
CF
chmod -R a+rX "$TMP/sa"
spamd -x -u debian-spamd -i 127.0.0.1 -p 7830 --max-children=1 --min-children=1 --siteconfigpath "$TMP/sa" > "$TMP/sa/spamd.log" 2>&1 &
SPAMD=$!
PIDS+=("$SPAMD")
for _ in $(seq 60); do spamc -d 127.0.0.1 -p 7830 -c < /dev/null >/dev/null 2>&1 && break || sleep 1; done
for _ in 1 2 3; do spamc -d 127.0.0.1 -p 7830 -c < "$(cat "$TMP/one")" >/dev/null || true; done   # warm up
if grep -q "cannot scan" "$TMP/sa/spamd.log"; then echo "spamd cannot scan:" >&2; tail -5 "$TMP/sa/spamd.log" >&2; exit 1; fi
sa_pass() { while read -r f; do spamc -d 127.0.0.1 -p 7830 -c < "$f" || true; done < "$TMP/files"; }

# --- rspamd 3.4, offline (network modules off), one normal worker.
mkdir -p "$TMP/rspamd/db" "$TMP/rspamd/run"
cp -r /etc/rspamd/. "$TMP/rspamd/conf"
cat > "$TMP/rspamd/conf/local.d/worker-normal.inc" <<CF
bind_socket = "127.0.0.1:11333";
count = 1;
CF
cat > "$TMP/rspamd/conf/local.d/worker-controller.inc" <<CF
bind_socket = "127.0.0.1:11334";
CF
echo 'enabled = false;' > "$TMP/rspamd/conf/local.d/worker-proxy.inc"
echo 'enabled = false;' > "$TMP/rspamd/conf/local.d/worker-fuzzy.inc"
# Network modules off; a dead nameserver so any lookup left fails at once, not after a
# timeout (that would measure DNS, not rspamd).
for m in rbl surbl fuzzy_check dcc spf dkim dmarc arc asn greylist ratelimit replies neural \
         url_redirector history_redis dkim_signing maillist phishing emails once_received \
         hfilter mx_check url_reputation rspamd_update; do
  echo 'enabled = false;' > "$TMP/rspamd/conf/local.d/$m.conf"
done
printf 'dns {\n  nameserver = ["127.0.0.1:5399"];\n  timeout = 0.2s;\n  retransmits = 1;\n}\n' > "$TMP/rspamd/conf/local.d/options.inc"
chown -R _rspamd:_rspamd "$TMP/rspamd"
rspamd -f -u _rspamd -g _rspamd -c "$TMP/rspamd/conf/rspamd.conf" \
  --var=CONFDIR="$TMP/rspamd/conf" --var=LOCAL_CONFDIR="$TMP/rspamd/conf" \
  --var=DBDIR="$TMP/rspamd/db" --var=RUNDIR="$TMP/rspamd/run" --var=LOGDIR="$TMP/rspamd" > "$TMP/rspamd/out.log" 2>&1 &
RSPAMD=$!
PIDS+=("$RSPAMD")
for _ in $(seq 180); do   # time only once the regex database is compiled and loaded
  grep -q "hyperscan database of .* has been loaded" "$TMP/rspamd/rspamd.log" 2>/dev/null && break
  sleep 1
done
sleep 2
for _ in 1 2 3; do
  rspamc -h 127.0.0.1:11333 < "$(cat "$TMP/one")" >/dev/null 2>&1 \
    || { echo "rspamd did not answer" >&2; tail -20 "$TMP/rspamd/out.log" >&2; exit 1; }
done
# One message at a time, as spamc and preflight check them.
rs_pass() { rspamc -h 127.0.0.1:11333 -n 1 $(cat "$TMP/files"); }

# --- preflight: one process per pass; its start-up is a pass over one message.
pf_pass() { "$BIN" check --format json --now 1795392000 $(cat "$TMP/files"); }
pf_start() { "$BIN" check --format json --now 1795392000 $(cat "$TMP/one"); }
pf_pass >/dev/null 2>&1 || true   # warm the page cache
[ "$(pf_pass 2>/dev/null | grep -c '"verdict"')" -eq "$count" ] \
  || { echo "preflight did not check every message of the slice" >&2; exit 1; }

row() { # system round wall_s cpu_s  -> per-round line and the results file
  awk -v sys="$1" -v r="$2" -v w="$3" -v c="$4" -v n="$count" \
    'BEGIN { printf "  round %d %-12s %8.1f msg/s  %8.3f ms CPU/msg  (%.3f s, %.3f s CPU)\n", r, sys, n / w, 1000 * c / n, w, c }'
  echo "$1 $2 $3 $4" >> "$TMP/results"
}

systems=(preflight spamassassin rspamd)
for r in $(seq "$ROUNDS"); do
  for k in 0 1 2; do
    sys=${systems[$(( (r + k) % 3 ))]}
    case $sys in
      preflight)
        timed s pf_start
        timed p pf_pass
        wall=$(awk -v a="$p_wall" -v b="$s_wall" 'BEGIN { print a - b }')
        cpu=$(awk -v a="$p_cpu" -v b="$s_cpu" 'BEGIN { print a - b }')
        echo "  round $r preflight    start-up ${s_wall} s (${s_cpu} s CPU), taken off the pass"
        row preflight "$r" "$wall" "$cpu"
        echo "preflight+start-up $r $p_wall $p_cpu" >> "$TMP/results" ;;
      spamassassin)
        before=$(server_cpu "$SPAMD")
        timed c sa_pass
        after=$(server_cpu "$SPAMD")
        row spamassassin "$r" "$c_wall" "$(awk -v c="$c_cpu" -v a="$before" -v b="$after" 'BEGIN { print c + b - a }')" ;;
      rspamd)
        before=$(server_cpu "$RSPAMD")
        timed c rs_pass
        after=$(server_cpu "$RSPAMD")
        row rspamd "$r" "$c_wall" "$(awk -v c="$c_cpu" -v a="$before" -v b="$after" 'BEGIN { print c + b - a }')" ;;
    esac
  done
done

echo "medians over $ROUNDS rounds ($count messages each; CPU = client + server processes):"
awk -v n="$count" '
  function median(a, m,   i, j, t) {
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  { w[$1, $2] = $3; c[$1, $2] = $4; rounds[$2] = 1 }
  END {
    split("preflight spamassassin rspamd preflight+start-up", sys, " ")
    for (s = 1; s <= 4; s++) {
      m = 0
      for (r in rounds) { m++; rate[m] = n / w[sys[s], r]; cpu[m] = 1000 * c[sys[s], r] / n }
      mr[s] = median(rate, m); mc[s] = median(cpu, m)
      printf "  %-12s %8.1f msg/s  %8.3f ms CPU/msg\n", sys[s], mr[s], mc[s]
    }
    for (s = 2; s <= 3; s++) {
      m = 0
      for (r in rounds) { m++; rr[m] = w[sys[s], r] / w["preflight", r]; cr[m] = c[sys[s], r] / c["preflight", r] }
      printf "  preflight/%-12s throughput %.0fx (median of rounds %.0fx), CPU per message %.0fx (median of rounds %.0fx)\n",
        sys[s], mr[1] / mr[s], median(rr, m), mc[s] / mc[1], median(cr, m)
      printf "    with preflight'"'"'s start-up counted in its pass: throughput %.0fx, CPU per message %.0fx\n",
        mr[4] / mr[s], mc[s] / mc[4]
    }
  }' "$TMP/results"
