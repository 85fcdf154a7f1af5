#!/usr/bin/env bash
# Multi-message SMTP sessions through real Postfix with preflight attached: every reply in
# step and every delivered message with its own verdict header.
#
#   client (Python smtplib, several messages per connection)
#     -> Postfix smtpd 127.0.0.1:18025 (message_size_limit 200,000)
#       -> preflight milter inet:127.0.0.1:18027 (limits.max_message_bytes 50,000)
#       -> relayhost [127.0.0.1]:18026 -> smtp-sink (a file per message)
#
# Sessions (tests/e2e/sessions.py): the report's reproduction five times (a message over
# preflight's limit, clean, canary, clean); forged verdict headers, flagged, abort with
# RSET, canary, clean, oversize, flagged; a message over Postfix's own limit (declared
# with SIZE=, and not declared), clean, canary, clean. Each message's SMTP reply is checked,
# and each delivered one must be at the sink once with exactly one verdict header, ours.
# The same sessions run over a Unix socket.
#
#   bash tests/e2e/sessions.sh [path/to/preflight]
#
# Needs root, python3 and the packages postfix and swaks (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/e2e/postfix_lib.sh
source tests/e2e/postfix_lib.sh
e2e_setup "${1:-./target/release/preflight}"
PREFLIGHT_LIMIT=50000
export POSTFIX_SIZE_LIMIT=200000
printf 'limits:\n  max_message_bytes: %s\n' "$PREFLIGHT_LIMIT" >> "$DIR/preflight.yaml"
start_milter
start_postfix

echo "== sessions over inet:127.0.0.1:$MILTER"
python3 tests/e2e/sessions.py "$SMTPD" "$DIR/sink" "$PREFLIGHT_LIMIT" "$POSTFIX_SIZE_LIMIT" \
  || fail "sessions over TCP"
# The milter logged one line per message it judged, and never an out-of-step tempfail.
grep -q 'reason="internal-error"\|check-panicked' "$DIR/milter.log" && fail "internal errors in the milter log"

echo "== the same sessions over a Unix socket"
kill "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null || true
rm -f "$DIR"/sink/*
SOCK="$DIR/milter.sock"
printf 'milter:\n  socket_owner: "postfix:postfix"\n  socket_mode: "600"\n' >> "$DIR/preflight.yaml"
"$BIN" milter --listen "unix:$SOCK" --config "$DIR/preflight.yaml" 2>> "$DIR/milter.log" &
MILTER_PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
postconf -c "$DIR/etc" -e "smtpd_milters = unix:$SOCK"
postfix -c "$DIR/etc" reload >/dev/null 2>&1
sleep 1
python3 tests/e2e/sessions.py "$SMTPD" "$DIR/sink" "$PREFLIGHT_LIMIT" "$POSTFIX_SIZE_LIMIT" \
  || fail "sessions over the Unix socket"
echo "sessions end to end: ok"
