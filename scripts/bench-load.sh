#!/usr/bin/env bash
# Benchmarks `idpsim load` against the built-in server (`idpsim serve`, its own process, release
# build) and, in the same run, wrk on the same GET endpoint (the userName lookup every IdP sends
# before a create), and prints idpsim's throughput as a ratio of wrk's. Then the suite table of
# scripts/bench-suite.sh.
#
# wrk, not oha: `apt-get install wrk` takes seconds here, `cargo install oha` compiles for minutes.
#
# Usage: scripts/bench-load.sh [USERS] [CONCURRENCY]   (default 10000 16)
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-10000}"
C="${2:-16}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
BIN=target/release/idpsim
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN="bench-$RANDOM$RANDOM"
"$BIN" serve --port "$PORT" --token "$TOKEN" >/dev/null &
SERVER=$!
OUT=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$OUT"' EXIT
for _ in $(seq 1 50); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/scim/v2"

/usr/bin/time -v "$BIN" load --idp entra --users "$USERS" --groups 20 --members 500 -c "$C" --seed 1 \
  --target "$URL" --token "$TOKEN" --report-json "$OUT/load.json" >"$OUT/load.txt" 2>"$OUT/time.txt" || true
read -r WALL RPS AUDIT < <(python3 -c "import json;r=json.load(open('$OUT/load.json'));print(r['duration_ms']/1000, r['requests_per_second'], 'PASS' if r['audit']['passed'] else 'FAIL')")
RSS=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$OUT/time.txt")
# The same lookup idpsim sends, against the same server holding the same users.
# A lookup that matches nothing, as every IdP lookup before a create (an indexed lookup).
LOOKUP="/scim/v2/Users?filter=userName+eq+%22nobody%40contoso.test%22"
WRK=$(wrk -t2 -c"$C" -d10s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$LOOKUP" | awk '/Requests\/sec/ {print $2}')
RATIO=$(python3 -c "print(f'{$RPS/$WRK:.2f}')")
echo "| measure (2 cores, $USERS users, concurrency $C) | value |"
echo "|---|---|"
echo "| Entra initial + incremental cycle + audit, wall time | ${WALL} s, audit ${AUDIT} |"
echo "| idpsim load throughput (all requests) | ${RPS} req/s |"
echo "| wrk on the same userName lookup, same server state | ${WRK} req/s |"
echo "| idpsim / wrk | ${RATIO} |"
echo "| idpsim load peak RSS | ${RSS} KiB |"
echo
scripts/bench-suite.sh 3
