#!/usr/bin/env bash
# Runs tests/e2e/miltertest.lua with miltertest (Debian package miltertest) against
# `preflight milter` on 127.0.0.1.   bash tests/e2e/miltertest.sh [path/to/preflight]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-./target/release/preflight}
PORT=18037
command -v miltertest >/dev/null || { echo "needs miltertest" >&2; exit 1; }
LOG=$(mktemp /tmp/preflight-miltertest.XXXXXX)
"$BIN" milter --listen inet:127.0.0.1:$PORT 2> "$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
set +e
miltertest -D port=$PORT -D samples="$PWD/samples" -s tests/e2e/miltertest.lua
rc=$?
set -e
if [ $rc -ne 0 ]; then echo "--- milter log"; cat "$LOG"; exit $rc; fi
grep -c 'verdict=' "$LOG" | grep -q '^5$' || { echo "expected 5 verdict lines"; cat "$LOG"; exit 1; }
