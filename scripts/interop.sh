#!/usr/bin/env bash
# Runs the interop tests locally: `scim2 test` against `idpsim serve`, and the whole shipped suite
# against scim2-server compared with ci/scim2-server.expected.json.
# Usage: scripts/interop.sh [VENV_DIR]   (default .venv; created with the pinned versions if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
if [ ! -x "$VENV/bin/scim2-server" ] || [ ! -x "$VENV/bin/scim2" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet scim2-server==0.8.3 scim2-cli==0.6.0
fi
IDPSIM_SCIM2_SERVER="$VENV/bin/scim2-server" IDPSIM_SCIM2_CLI="$VENV/bin/scim2" CI=1 \
  cargo test --test interop -- --nocapture
