#!/usr/bin/env bash
# The load client against wrk, and membership changes against user creates, on the built-in
# server (`idpsim serve`, release build, its own process, a fresh one for every run).
#
# 1. Client: `idpsim load` and wrk in alternating pairs (idpsim first in odd pairs, wrk first in
#    even ones), each on a fresh server, on the same request mix: Entra's user provisioning,
#    per user a userName lookup that finds nothing (`GET /Users?filter=userName+eq+"…"`) and
#    the create (`POST /Users`, Entra's headers and a body of the same attributes). idpsim's
#    rate is that of its `initial: users` phase, which is exactly that mix (`--groups 0
#    --overlap 0`); wrk replays it from a Lua script. Client CPU per request is user + sys time
#    (/usr/bin/time) over all requests the client sent (idpsim's run also has its incremental
#    and audit phases; it is the whole run's CPU over the whole run's requests).
# 2. Server: an Entra cycle with 100 groups of 500 members; the `initial: members` phase (PATCHes of 10
#    member adds, Entra's batch) against the `initial: users` phase of the same run.
# 3. The server alone: wrk sending those PATCHes, against wrk on the mix of 1.
#
# Instruction counts, which do not depend on what else runs on the machine, come from
# valgrind (see the README's Performance section for the command).
#
# Usage: scripts/bench-load.sh [PAIRS] [USERS] [CONCURRENCY] [WRK_SECONDS]   (default 5 30000 8 4)
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS="${1:-5}"
USERS="${2:-30000}"
C="${3:-8}"
SECS="${4:-4}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# IDPSIM_BENCH_BIN=path measures another build (e.g. an older one, alternately with this one).
BIN=${IDPSIM_BENCH_BIN:-target/release/idpsim}
[ -n "${IDPSIM_BENCH_BIN:-}" ] || cargo build --release --quiet
TOKEN="bench-$RANDOM$RANDOM"
OUT=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$OUT"' EXIT

start_server() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$BIN" serve --port "$PORT" --token "$TOKEN" >/dev/null 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.05; done
  URL="http://127.0.0.1:$PORT/scim/v2"
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

# wrk's side of the mix: per user the lookup, then the create, with Entra's headers.
cat >"$OUT/entra-users.lua" <<'LUA'
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n, auth = 0, nil
function init(args) auth = "Bearer " .. args[1] end
local function enc(s)
  return (s:gsub("[^%w%.%-_~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],'
  .. '"userName":"%s","active":true,"displayName":"Wrk User %d","emails":[{"type":"work","value":"%s"}],'
  .. '"name":{"givenName":"Wrk","familyName":"User"},'
  .. '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Engineering"},'
  .. '"meta":{"resourceType":"User"}}'
request = function()
  n = n + 1
  local i = math.floor((n + 1) / 2)
  local name = string.format("wrk.user.%d.%d.a1b2@contoso.test", tid, i)
  if n % 2 == 1 then
    return wrk.format("GET", wrk.path .. "/Users?filter=" .. enc('userName eq "' .. name .. '"'):gsub("%%20", "+"),
      { ["Authorization"] = auth })
  end
  return wrk.format("POST", wrk.path .. "/Users",
    { ["Authorization"] = auth, ["Content-Type"] = "application/scim+json; charset=utf-8" },
    string.format(body, name, i, name))
end
LUA

cpu_of() { awk '{printf "%.3f", $1 + $2}' "$1"; }

run_idpsim() { # → "rps requests cpu_seconds"
  start_server
  /usr/bin/time -f '%U %S' -o "$OUT/t" "$BIN" load --idp entra --users "$USERS" --groups 0 --members 0 \
    --overlap 0 -c "$C" --seed "$1" --target "$URL" --token "$TOKEN" --report-json "$OUT/load.json" >/dev/null 2>&1 || true
  stop_server
  python3 - "$OUT/load.json" "$(cpu_of "$OUT/t")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = next(p for p in r["phases"] if p["name"] == "initial: users")
assert r["audit"]["passed"], "audit failed"
print(p["requests_per_second"], r["requests"], sys.argv[2])
PY
}

run_wrk() {
  start_server
  /usr/bin/time -f '%U %S' -o "$OUT/t" wrk -t2 -c"$C" -d"${SECS}s" -s "$OUT/entra-users.lua" "$URL" -- "$TOKEN" >"$OUT/wrk.txt"
  stop_server
  local rps reqs
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.txt")
  reqs=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
  grep -q "Non-2xx" "$OUT/wrk.txt" && { echo "wrk saw non-2xx answers:" >&2; cat "$OUT/wrk.txt" >&2; }
  echo "$rps $reqs $(cpu_of "$OUT/t")"
}

echo "machine: $(nproc) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| pair | idpsim load req/s | wrk req/s | ratio | idpsim CPU µs/req | wrk CPU µs/req |"
echo "|---|---|---|---|---|---|"
ratios=(); icpu=(); wcpu=()
for p in $(seq 1 "$PAIRS"); do
  if [ $((p % 2)) -eq 1 ]; then
    read -r irps ireq isec < <(run_idpsim "$p"); read -r wrps wreq wsec < <(run_wrk)
  else
    read -r wrps wreq wsec < <(run_wrk); read -r irps ireq isec < <(run_idpsim "$p")
  fi
  ratio=$(python3 -c "print(f'{$irps/$wrps:.2f}')")
  ic=$(python3 -c "print(f'{$isec*1e6/$ireq:.1f}')")
  wc=$(python3 -c "print(f'{$wsec*1e6/$wreq:.1f}')")
  ratios+=("$ratio"); icpu+=("$ic"); wcpu+=("$wc")
  echo "| $p | $irps | $wrps | $ratio | $ic | $wc |"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "median ratio idpsim/wrk: $(median "${ratios[@]}"); client CPU per request: idpsim $(median "${icpu[@]}") µs, wrk $(median "${wcpu[@]}") µs"

echo
# 100 groups make the member phase 5,000 PATCHes (half a second), long enough to time on a
# shared machine; 20 groups made it 1,000 (under 0.1 s), and its rate mostly noise.
# Rates on a shared machine move with whatever else runs; the CPU each request costs (the
# client's, from its report, plus the server's, polled from /proc over the same span) moves
# much less. On 2 cores shared by client and server, rate ≈ cores / CPU per request, so the
# CPU ratio is the rate ratio a quiet machine would show.
MEMBER_GROUPS=100
cat >"$OUT/poll.py" <<'PY'
import glob, sys, time
pid, out = sys.argv[1], open(sys.argv[2], "w")
while True:
    ns = 0
    try:
        for f in glob.glob(f"/proc/{pid}/task/*/schedstat"):
            try:
                ns += int(open(f).read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        break
    if not glob.glob(f"/proc/{pid}/task"):
        break
    out.write(f"{time.time() * 1000:.3f} {ns}\n")
    time.sleep(0.002)
PY
echo "| run (Entra, 10,000 users, $MEMBER_GROUPS groups × 500 members, -c $C) | user phase req/s | member phase req/s | members / users (rate) | CPU µs/req, user phase (client + server) | member phase | members / users (CPU) |"
echo "|---|---|---|---|---|---|---|"
mratios=(); cratios=()
for p in $(seq 1 "$PAIRS"); do
  start_server
  python3 "$OUT/poll.py" "$SERVER" "$OUT/cpu.log" &
  POLLER=$!
  "$BIN" load --idp entra --users 10000 --groups "$MEMBER_GROUPS" --members 500 -c "$C" --seed "$p" \
    --target "$URL" --token "$TOKEN" --report-json "$OUT/m.json" >/dev/null 2>&1 || true
  stop_server
  wait "$POLLER" 2>/dev/null || true
  read -r urps mrps mr ucpu mcpu cr < <(python3 - "$OUT/m.json" "$OUT/cpu.log" <<'PY'
import bisect, json, sys
r = json.load(open(sys.argv[1]))
assert r["audit"]["passed"], "audit failed"
ph = {p["name"]: p for p in r["phases"]}
log = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if len(l.split()) == 2]
times = [t for t, _ in log]
def server_ns(t):  # linear between the two polls around t
    i = bisect.bisect_left(times, t)
    if i <= 0: return log[0][1]
    if i >= len(log): return log[-1][1]
    (t0, c0), (t1, c1) = log[i - 1], log[i]
    return c0 + (c1 - c0) * (t - t0) / (t1 - t0 or 1)
def cpu_per_request(p):  # µs, client + server
    a = p["started_unix_ms"]; b = a + p["duration_ms"]
    server = (server_ns(b) - server_ns(a)) / 1e3
    return (p.get("client_cpu_ms", 0) * 1e3 + server) / p["requests"]
u, m = ph["initial: users"], ph["initial: members"]
cu, cm = cpu_per_request(u), cpu_per_request(m)
print(u["requests_per_second"], m["requests_per_second"],
      f"{m['requests_per_second'] / u['requests_per_second']:.2f}", f"{cu:.1f}", f"{cm:.1f}", f"{cu / cm:.2f}")
PY
)
  mratios+=("$mr"); cratios+=("$cr")
  echo "| $p | $urps | $mrps | $mr | $ucpu | $mcpu | $cr |"
done
echo
echo "median member-phase / user-phase rate: $(median "${mratios[@]}"); by CPU per request: $(median "${cratios[@]}")"

# 3. The server alone, wrk driving it: Entra's 10-member Add PATCHes spread over 100 groups
#    (which grow by thousands of members in the run) against the lookup + create mix above.
cat >"$OUT/members.lua" <<'LUA'
local n, auth, gids = 0, nil, {}
function init(args)
  auth = "Bearer " .. args[1]
  for i = 2, #args do gids[#gids + 1] = args[i] end
end
request = function()
  n = n + 1
  local vals = {}
  for k = 1, 10 do vals[k] = string.format('{"value":"%08x-%d-%d"}', math.random(0, 0x7fffffff), n, k) end
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":['
    .. table.concat(vals, ",") .. ']}]}'
  return wrk.format("PATCH", wrk.path .. "/Groups/" .. gids[(n % #gids) + 1],
    { ["Authorization"] = auth, ["Content-Type"] = "application/scim+json; charset=utf-8" }, body)
end
LUA
echo
echo "| pair (wrk, server alone) | 10-member PATCHes req/s | lookup + create req/s | ratio |"
echo "|---|---|---|---|"
sratios=()
for p in $(seq 1 "$PAIRS"); do
  start_server
  GIDS=$(python3 - "$URL" "$TOKEN" <<'PY'
import json, sys, urllib.request
url, token = sys.argv[1], sys.argv[2]
for i in range(100):
    body = json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": f"wrk-group-{i}"}).encode()
    req = urllib.request.Request(url + "/Groups", body, {"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"})
    print(json.load(urllib.request.urlopen(req))["id"], end=" ")
PY
)
  # shellcheck disable=SC2086
  prps=$(wrk -t2 -c"$C" -d"${SECS}s" -s "$OUT/members.lua" "$URL" -- "$TOKEN" $GIDS | awk '/Requests\/sec/ {print $2}')
  stop_server
  read -r urps _ _ < <(run_wrk)
  sr=$(python3 -c "print(f'{$prps/$urps:.2f}')")
  sratios+=("$sr")
  echo "| $p | $prps | $urps | $sr |"
done
echo
echo "median server-side PATCH / lookup + create rate: $(median "${sratios[@]}")"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
