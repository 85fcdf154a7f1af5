#!/usr/bin/env bash
# End to end with real Postfix (Debian's package), its own instance on loopback:
#
#   swaks / sendmail(1) -> Postfix smtpd 127.0.0.1:18025 (and pickup)
#                            -> preflight milter inet:127.0.0.1:18027
#                            -> relayhost [127.0.0.1]:18026 -> smtp-sink (a file per message)
#
# Checks: the canary gets 554 5.7.1 with our text; a clean sample arrives at the sink with
# the verdict header and otherwise unchanged; a flagged sample arrives with its flag
# header; mail submitted with Postfix's sendmail goes through non_smtpd_milters.
#
#   bash tests/e2e/postfix.sh [path/to/preflight]
#
# Needs root and the packages postfix and swaks (.ci/run installs them). Everything it
# starts listens on 127.0.0.1 and is stopped by pid at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-./target/release/preflight}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release first)" >&2; exit 1; }
command -v postfix >/dev/null && command -v swaks >/dev/null && command -v smtp-sink >/dev/null \
  || { echo "needs postfix, smtp-sink and swaks" >&2; exit 1; }

SMTPD=18025 SINK=18026 MILTER=18027
DIR=$(mktemp -d /tmp/preflight-e2e.XXXXXX)
chmod 755 "$DIR"
PIDS=()
cleanup() {
  postfix -c "$DIR/etc" stop >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  if [ "${KEEP:-}" = "" ]; then rm -rf "$DIR"; else echo "kept $DIR"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- postfix log" >&2; tail -30 "$DIR/log/postfix.log" >&2 || true;
         echo "--- milter log" >&2; tail -30 "$DIR/milter.log" >&2 || true; exit 1; }

mkdir -p "$DIR/etc" "$DIR/spool" "$DIR/data" "$DIR/log" "$DIR/sink"
chown nobody "$DIR/sink"

# The sink: one file per message, greeting with its own name (not Postfix's).
smtp-sink -u nobody -h sink.localdomain -d "$DIR/sink/m." 127.0.0.1:$SINK 64 &
PIDS+=($!)

# The milter, with the shipped defaults and a fixed reference time.
cat > "$DIR/preflight.yaml" <<EOF
now: 1795392000
EOF
"$BIN" milter --listen inet:127.0.0.1:$MILTER --config "$DIR/preflight.yaml" 2> "$DIR/milter.log" &
PIDS+=($!)

cat > "$DIR/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $DIR/spool
data_directory = $DIR/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = preflight-test.localdomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relayhost = [127.0.0.1]:$SINK
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
maillog_file = $DIR/log/postfix.log
maillog_file_prefixes = /var, /dev/stdout, $DIR/log
smtpd_milters = inet:127.0.0.1:$MILTER
non_smtpd_milters = inet:127.0.0.1:$MILTER
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 60s
message_size_limit = 52428800
EOF
cat > "$DIR/etc/master.cf" <<EOF
127.0.0.1:$SMTPD inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
postfix -c "$DIR/etc" set-permissions >/dev/null 2>&1 || true
postfix -c "$DIR/etc" check || fail "postfix check"
postfix -c "$DIR/etc" start >/dev/null 2>&1 || fail "postfix start"
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$SMTPD) 2>/dev/null && break
  sleep 0.2
done

send() { swaks --server 127.0.0.1:$SMTPD --from sender@example.com --to rcpt@example.org \
  --helo client.example --data "$1" 2>&1; }
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
echo "postfix end to end: ok"
