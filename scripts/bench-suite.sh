#!/usr/bin/env bash
# Measures the whole shipped suite: wall time, and the CPU idpsim itself spends as a client.
# The reference server runs as a separate process (`idpsim serve`), so its CPU is not counted;
# the embedded default (`idpsim run`, server in-process) is measured too, for wall time and peak
# memory (maximum resident set size, /usr/bin/time's %M).
# Usage: scripts/bench-suite.sh [RUNS]   (default 5). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
cargo build --release --quiet
BIN=target/release/idpsim
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN="bench-$RANDOM$RANDOM"
"$BIN" serve --port "$PORT" --token "$TOKEN" >/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

SCENARIOS=$("$BIN" list | grep -c '^[^ ]')
wall_ext=(); cpu_ext=(); wall_emb=(); rss_emb=()
for _ in $(seq 1 "$RUNS"); do
  out=$( { /usr/bin/time -f '%e %U %S' "$BIN" run --target "http://127.0.0.1:$PORT/scim/v2" --token "$TOKEN" --time-scale 0 -j 2 >/dev/null; } 2>&1 | tail -1 )
  read -r w u s <<<"$out"
  wall_ext+=("$w"); cpu_ext+=("$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')")
  out=$( { /usr/bin/time -f '%e %U %S %M' "$BIN" run --time-scale 0 -j 2 >/dev/null; } 2>&1 | tail -1 )
  read -r w u s m <<<"$out"
  wall_emb+=("$w"); rss_emb+=("$m")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| measure ($SCENARIOS scenarios, median of $RUNS runs, 2 cores) | value |"
echo "|---|---|"
echo "| wall time, suite against \`idpsim serve\` in another process | $(median "${wall_ext[@]}") s |"
echo "| idpsim client CPU (user + sys) for that run | $(median "${cpu_ext[@]}") s |"
echo "| wall time, \`idpsim run\` with the embedded server | $(median "${wall_emb[@]}") s |"
rss=$(median "${rss_emb[@]}")
echo "| peak memory (max RSS), \`idpsim run\` with the embedded server | $(awk -v k="$rss" 'BEGIN{printf "%.1f MiB (%d KiB)", k/1024, k}') |"
