#!/usr/bin/env bash
# End to end with real Postfix (Debian's package), its own instance on loopback:
#
#   swaks / sendmail(1) -> Postfix smtpd 127.0.0.1:18025 (and pickup)
#                            -> preflight milter inet:127.0.0.1:18027
#                            -> relayhost [127.0.0.1]:18026 -> smtp-sink (a file per message)
#
# Checks: the canary gets 554 5.7.1 with our text; a clean sample arrives at the sink with
# the verdict header and otherwise unchanged; a flagged sample arrives with its flag
# header; mail submitted with Postfix's sendmail goes through non_smtpd_milters; on a
# Unix socket with socket_owner and socket_mode set, Postfix still gets through.
#
#   bash tests/e2e/postfix.sh [path/to/preflight]
#
# Needs root and the packages postfix and swaks (.ci/run installs them). Everything it
# starts listens on 127.0.0.1 and is stopped by pid at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/e2e/postfix_lib.sh
source tests/e2e/postfix_lib.sh
e2e_setup "${1:-./target/release/preflight}"
start_milter
start_postfix

wait_sink() { # wait_sink N: until N messages are in the sink
  for _ in $(seq 100); do
    [ "$(ls "$DIR/sink" | wc -l)" -ge "$1" ] && return 0
    sleep 0.2
  done
  fail "expected $1 message(s) at the sink, found $(ls "$DIR/sink" | wc -l)"
}

echo "== canary: refused with 554 5.7.1 and our text"
out=$(send samples/canary.eml || true)
echo "$out" | grep -q '<\*\* 554 5.7.1 preflight: rejected by CNT001' \
  || fail "canary not refused as expected: $(echo "$out" | grep '<\*\*' | head -3)"

echo "== clean sample: delivered with the pass header, body unchanged"
out=$(send samples/good-newsletter.eml) || fail "clean sample refused: $(echo "$out" | grep '<\*\*')"
wait_sink 1
got=$(ls "$DIR/sink" | head -1)
grep -q '^X-Preflight-Verdict: pass; score=' "$DIR/sink/$got" || fail "no pass header in $got"
# The body after the blank line is what we sent (line ends aside; the sink's dump adds
# blank lines at the end).
diff -B <(sed '1,/^\r\?$/d' samples/good-newsletter.eml | tr -d '\r') \
     <(sed '1,/^\r\?$/d' "$DIR/sink/$got" | tr -d '\r') >/dev/null || fail "body changed in transit"

echo "== flagged sample: delivered with its flag header"
out=$(send samples/bad-size-too-many-attachments.eml) || fail "flagged sample refused"
wait_sink 2
grep -l '^X-Preflight-Verdict: flag; score=.*; rules=SIZE003' "$DIR/sink"/* >/dev/null \
  || fail "no flag header naming SIZE003 at the sink"

echo "== sendmail(1) submission goes through non_smtpd_milters"
sendmail -C "$DIR/etc" -f sender@example.com rcpt@example.org < samples/good-personal-reply.eml \
  || fail "sendmail submission failed"
wait_sink 3
n=$(grep -l '^X-Preflight-Verdict: ' "$DIR/sink"/* | wc -l)
[ "$n" -eq 3 ] || fail "expected 3 delivered messages with a verdict header, found $n"

echo "== milter log has one line per message"
grep -c 'verdict=' "$DIR/milter.log" | grep -q '^4$' || fail "expected 4 verdict lines in the milter log"
echo "== Unix socket: owned by postfix, mode 600, and Postfix gets through it"
kill "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null || true
SOCK="$DIR/milter.sock"
touch "$SOCK" # a stale socket is removed; a plain file here must not be
out=$("$BIN" milter --listen "unix:$SOCK" 2>&1 || true)
echo "$out" | grep -q 'cannot listen' || fail "a regular file at the socket path was not refused: $out"
rm -f "$SOCK"
printf 'milter:\n  socket_owner: "postfix:postfix"\n  socket_mode: "600"\n' >> "$DIR/preflight.yaml"
"$BIN" milter --listen "unix:$SOCK" --config "$DIR/preflight.yaml" 2>> "$DIR/milter.log" &
MILTER_PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ "$(stat -c '%U:%G %a' "$SOCK")" = "postfix:postfix 600" ] \
  || fail "socket is $(stat -c '%U:%G %a' "$SOCK"), expected postfix:postfix 600"
postconf -c "$DIR/etc" -e "smtpd_milters = unix:$SOCK"
postfix -c "$DIR/etc" reload >/dev/null 2>&1
sleep 1
out=$(send samples/canary.eml || true)
echo "$out" | grep -q '<\*\* 554 5.7.1 preflight: rejected by CNT001' \
  || fail "canary not refused through the Unix socket: $(echo "$out" | grep '<\*\*' | head -3)"
echo "postfix end to end: ok"
