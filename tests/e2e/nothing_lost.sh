#!/usr/bin/env bash
# Nothing lost when the milter dies: 1,000 messages over 10 SMTP sessions through real
# Postfix (milter_default_action = tempfail), `preflight milter` killed with SIGKILL part
# way. Every message must either be at the sink with our verdict header (checked) or have
# been refused to the client with a 4xx; none delivered unchecked, none vanished. Then a
# restarted milter serves new sessions without a Postfix reload.
#
#   bash tests/e2e/nothing_lost.sh [path/to/preflight]
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/e2e/postfix_lib.sh
source tests/e2e/postfix_lib.sh
e2e_setup "${1:-./target/release/preflight}"
command -v smtp-source >/dev/null || fail "needs smtp-source"
start_milter
start_postfix

TOTAL=1000
# -A: go on after refusals; every refusal is one line on stderr.
smtp-source -A -s 10 -m $TOTAL -l 2048 -f sender@example.com -t rcpt@example.org \
  127.0.0.1:$SMTPD > "$DIR/source.out" 2> "$DIR/source.err" &
SOURCE=$!
# Kill the milter once some mail has gone through.
for _ in $(seq 200); do
  [ "$(ls "$DIR/sink" | wc -l)" -ge 150 ] && break
  sleep 0.05
done
kill -9 "$MILTER_PID"
MILTER_PID=
echo "milter killed with $(ls "$DIR/sink" | wc -l) message(s) at the sink"
wait "$SOURCE" || true
# Let the queue drain to the sink.
for _ in $(seq 100); do
  postqueue -c "$DIR/etc" -p 2>/dev/null | grep -q 'Mail queue is empty' && break
  sleep 0.2
done
sleep 1
delivered=$(ls "$DIR/sink" | wc -l)
checked=$( (grep -l '^X-Preflight-Verdict: ' "$DIR/sink"/* 2>/dev/null || true) | wc -l)
refused=$(grep -c ' 4[0-9][0-9] ' "$DIR/source.err" || true)
queued=$(postqueue -c "$DIR/etc" -p 2>/dev/null | grep -c '^[0-9A-F]' || true)
echo "sent $TOTAL: delivered $delivered (checked $checked), refused with 4xx $refused, still queued $queued"
[ "$checked" -eq "$delivered" ] || fail "$((delivered - checked)) message(s) delivered unchecked"
[ $((delivered + refused)) -eq $TOTAL ] \
  || fail "delivered + refused = $((delivered + refused)), expected $TOTAL ($queued queued)"
[ "$refused" -gt 0 ] || fail "the kill came too late: nothing was refused"

# A new milter restores service for new sessions, without reloading Postfix.
start_milter
before=$delivered
out=$(send samples/good-newsletter.eml) || fail "after restart: $(echo "$out" | grep '<\*\*')"
for _ in $(seq 50); do
  [ "$(ls "$DIR/sink" | wc -l)" -gt "$before" ] && break
  sleep 0.2
done
[ "$(ls "$DIR/sink" | wc -l)" -gt "$before" ] || fail "nothing delivered after the restart"
echo "nothing lost: ok"
