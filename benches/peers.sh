#!/usr/bin/env bash
# Side-by-side throughput on one core: preflight vs SpamAssassin (spamd, 1 child) and
# rspamd (1 normal worker), offline, on the same slice of the dev corpus, in one run.
#
#   bash benches/peers.sh [N]     # N messages (default 400), every k-th of MANIFEST.tsv
#
# Installs the peers from Debian's packages when missing. Servers bind to 127.0.0.1 only
# and are stopped by pid at the end. Prints messages per second and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-400}
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
count=$(wc -l < "$TMP/files")
echo "slice: $count messages ($(cat "$TMP/files" | xargs cat | wc -c) bytes)"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }

# preflight, one process, one core; the slice 20 times over so start-up does not count.
cargo build --release -q
for _ in $(seq 20); do cat "$TMP/files"; done > "$TMP/files20"
start=$(now)
xargs ./target/release/preflight check --format json --now 1795392000 < "$TMP/files20" > /dev/null || true
end=$(now)
pf=$(rate "$((count * 20))" "$start" "$end")
echo "preflight:    $pf messages/s"

# SpamAssassin 4, offline (no network tests, no Bayes), one child.
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
PIDS+=($!)
for _ in $(seq 60); do spamc -d 127.0.0.1 -p 7830 -c < /dev/null >/dev/null 2>&1 && break || sleep 1; done
spamc -d 127.0.0.1 -p 7830 -c < "$(head -1 "$TMP/files")" >/dev/null || true   # warm up
if grep -q "cannot scan" "$TMP/sa/spamd.log"; then echo "spamd cannot scan:" >&2; tail -5 "$TMP/sa/spamd.log" >&2; exit 1; fi
start=$(now)
while read -r f; do spamc -d 127.0.0.1 -p 7830 -c < "$f" >/dev/null || true; done < "$TMP/files"
end=$(now)
sa=$(rate "$count" "$start" "$end")
echo "spamassassin: $sa messages/s"

# rspamd 3.4, offline (network modules off), one normal worker.
mkdir -p "$TMP/rspamd/local.d" "$TMP/rspamd/override.d" "$TMP/rspamd/db" "$TMP/rspamd/run"
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
PIDS+=($!)
for _ in $(seq 180); do   # time only once the regex database is compiled and loaded
  grep -q "hyperscan database of .* has been loaded" "$TMP/rspamd/rspamd.log" 2>/dev/null && break
  sleep 1
done
sleep 2
rspamc -h 127.0.0.1:11333 < "$(head -1 "$TMP/files")" >/dev/null 2>&1 || { echo "rspamd did not answer" >&2; tail -20 "$TMP/rspamd/out.log" >&2; exit 1; }
start=$(now)
rspamc -h 127.0.0.1:11333 -n 8 $(cat "$TMP/files") >/dev/null 2>&1 || true   # 8 in flight, 1 worker
end=$(now)
rs=$(rate "$count" "$start" "$end")
echo "rspamd:       $rs messages/s"

awk -v p="$pf" -v s="$sa" -v r="$rs" 'BEGIN { printf "ratios (one core): preflight/spamassassin = %.0fx, preflight/rspamd = %.0fx\n", p / s, p / r }'
