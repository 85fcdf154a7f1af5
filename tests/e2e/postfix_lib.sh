# Shared by the end-to-end scripts: a Postfix instance of its own on loopback, with
# `preflight milter` attached and smtp-sink behind it.
#
#   source tests/e2e/postfix_lib.sh; e2e_setup BIN; start_milter; start_postfix
#
# Needs root and the packages postfix (smtp-sink, smtp-source) and swaks.

e2e_setup() {
  BIN=$1
  [ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release first)" >&2; exit 1; }
  command -v postfix >/dev/null && command -v swaks >/dev/null && command -v smtp-sink >/dev/null \
    || { echo "needs postfix, smtp-sink and swaks" >&2; exit 1; }
  SMTPD=${SMTPD:-18025} SINK=${SINK:-18026} MILTER=${MILTER:-18027}
  # E2E_ROOT=/dev/shm puts the instance (queue, sink, logs) in memory.
  DIR=$(mktemp -d "${E2E_ROOT:-/tmp}/preflight-e2e.XXXXXX")
  chmod 755 "$DIR"
  PIDS=()
  MILTER_PID=
  trap e2e_cleanup EXIT
  mkdir -p "$DIR/etc" "$DIR/spool" "$DIR/data" "$DIR/log" "$DIR/sink"
  chown nobody "$DIR/sink"
  # The sink: one file per message, greeting with its own name (not Postfix's).
  smtp-sink -u nobody -h sink.localdomain -d "$DIR/sink/m." 127.0.0.1:$SINK 256 &
  PIDS+=($!)
  printf 'now: 1795392000\n' > "$DIR/preflight.yaml"
}

e2e_cleanup() {
  postfix -c "$DIR/etc" stop >/dev/null 2>&1 || true
  [ -n "$MILTER_PID" ] && kill "$MILTER_PID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  if [ "${KEEP:-}" = "" ]; then rm -rf "$DIR"; else echo "kept $DIR"; fi
}

fail() { echo "FAIL: $*" >&2; echo "--- postfix log" >&2; tail -30 "$DIR/log/postfix.log" >&2 || true;
         echo "--- milter log" >&2; tail -30 "$DIR/milter.log" >&2 || true; exit 1; }

# The milter, with the shipped defaults and a fixed reference time; waits until it listens.
start_milter() {
  "$BIN" milter --listen inet:127.0.0.1:$MILTER --config "$DIR/preflight.yaml" 2>> "$DIR/milter.log" &
  MILTER_PID=$!
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$MILTER) 2>/dev/null && return 0
    sleep 0.1
  done
  fail "milter did not start"
}

# Postfix with its own configuration directory; MILTERS=no leaves the milter out,
# POSTFIX_SIZE_LIMIT sets its message_size_limit (default 50 MiB).
start_postfix() {
  local milters="inet:127.0.0.1:$MILTER"
  [ "${MILTERS:-yes}" = no ] && milters=""
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
smtpd_milters = $milters
non_smtpd_milters = $milters
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 60s
message_size_limit = ${POSTFIX_SIZE_LIMIT:-52428800}
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
}

send() { swaks --server 127.0.0.1:$SMTPD --from sender@example.com --to rcpt@example.org \
  --helo client.example --data "$1" 2>&1; }
