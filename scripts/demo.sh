#!/usr/bin/env bash
# `make demo`: the offline end-to-end demo with the real Claude Code CLI.
# Installs Claude Code (and Codex) into tools/node_modules when missing, then
# runs `pipeline demo`, whose model is a local scripted server: no network
# after the install and no account. When the CLI cannot be installed (no
# registry), it says why and runs the scripted agent instead. The project is
# kept, and the demo ends with the command that opens the dashboard on it.
set -uo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift || true

if scripts/install-agent-clis.sh; then
  exec "$build/bin/pipeline" demo --keep --claude tools/node_modules/.bin/claude "$@"
fi
echo "demo: Claude Code could not be installed (see above); running the scripted agent instead: pipeline demo --agent command" >&2
exec "$build/bin/pipeline" demo --keep --agent command "$@"
