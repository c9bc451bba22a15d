#!/usr/bin/env bash
# Client instructions per request, counted by valgrind (callgrind): unlike seconds, the count is
# the same whatever else runs on the machine. The server (`idpsim serve`, release) runs natively;
# only the client is counted.
#
# idpsim load: the Entra user-provisioning cycle (`--groups 0 --overlap 0`: per user a lookup
# and a create, then the incremental cycle and the audit) at two sizes; the difference of the
# counts over the difference of the requests is the cost per request without start-up (reading
# the scenario tables, building the directory, the runtime). wrk: the same lookup + create mix
# (scripts/bench-load.sh's Lua script) for a few seconds, total over requests.
#
# Usage: scripts/bench-instructions.sh   (IDPSIM_BENCH_BIN=path counts another build)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
BIN=${IDPSIM_BENCH_BIN:-target/release/idpsim}
[ -n "${IDPSIM_BENCH_BIN:-}" ] || cargo build --release --quiet
OUT=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$OUT"' EXIT
start_server() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$BIN" serve --port "$PORT" --token t >/dev/null 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.05; done
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
instructions() { awk '/^summary:/ {print $2}' "$1"; }

count_idpsim() { # USERS → "instructions requests"
  start_server
  valgrind --tool=callgrind --callgrind-out-file="$OUT/cg" "$BIN" load --idp entra --users "$1" \
    --groups 0 --members 0 --overlap 0 -c 8 --seed 1 --target "http://127.0.0.1:$PORT/scim/v2" \
    --token t --report-json "$OUT/r.json" >/dev/null 2>&1
  stop_server
  echo "$(instructions "$OUT/cg") $(python3 -c "import json;print(json.load(open('$OUT/r.json'))['requests'])")"
}
read -r i1 r1 < <(count_idpsim 500)
read -r i2 r2 < <(count_idpsim 2000)
per=$(python3 -c "print(round(($i2-$i1)/($r2-$r1)))")
echo "idpsim load: $i1 instructions / $r1 requests, $i2 / $r2; per request (marginal): $per"

# wrk, on the Lua mix of bench-load.sh (extracted from it, so both scripts send one mix).
sed -n "/^cat >\"\$OUT\/entra-users.lua\" <<'LUA'/,/^LUA$/p" scripts/bench-load.sh | sed '1d;$d' >"$OUT/mix.lua"
start_server
valgrind --tool=callgrind --callgrind-out-file="$OUT/cgw" wrk -t2 -c8 -d5s -s "$OUT/mix.lua" \
  "http://127.0.0.1:$PORT/scim/v2" -- t >"$OUT/wrk.txt" 2>&1
stop_server
wi=$(instructions "$OUT/cgw")
wr=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
echo "wrk: $wi instructions / $wr requests; per request: $(python3 -c "print(round($wi/$wr))")"
