#!/usr/bin/env bash
# External conformance check of the reference server with scim2-cli (python-scim's
# scim2-tester): builds idpsim, starts `idpsim serve` on a free port with a bearer token,
# runs `scim2 test`, and exits non-zero if any check fails.
# Usage: scripts/scim2-check.sh [VENV_DIR]   (default .venv-scim2)
set -euo pipefail

VENV="${1:-.venv-scim2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

if [ ! -x "$VENV/bin/scim2" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet scim2-cli
fi

cargo build --quiet

PORT="${SCIM2_CHECK_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
TOKEN="scim2-check-$RANDOM$RANDOM"
LOG="$(mktemp)"
target/debug/idpsim serve --port "$PORT" --token "$TOKEN" >"$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; rm -f "$LOG"' EXIT

for _ in $(seq 1 50); do
  grep -q 'serving SCIM 2.0 at' "$LOG" && break
  sleep 0.1
done
URL="$(sed -n 's/.*serving SCIM 2.0 at //p' "$LOG" | head -n1)"
echo "reference server: $URL"

# The token goes through SCIM_CLI_HEADERS rather than argv (scim2 --help: other users can
# read command lines).
export SCIM_CLI_HEADERS="Authorization: Bearer $TOKEN"
set +e
"$VENV/bin/scim2" --url "$URL" test
RC=$?
set -e
echo "scim2 test exit code: $RC"
exit "$RC"
