#!/usr/bin/env bash
# Installs the real agent CLIs (Claude Code and Codex) into tools/node_modules
# so tests and the offline demo can run them against `pipeline model-stub`.
# The versions are the ones verified against the stub; skipped when present.
# Exits non-zero with the reason when npm or the registry is unavailable.
set -euo pipefail
cd "$(dirname "$0")/.."

# One install into tools/ at a time: test processes started in parallel each
# ask for the tools, and two npm installs into one tree undo each other
# (ENOTEMPTY, half-written packages). The check below runs under the lock, so
# a second caller waits for the first and then finds the tools in place.
mkdir -p tools
exec 9>tools/.install.lock
flock 9

claude_version="2.1.332"
codex_version="0.169.0"
prefix="tools"

installed_version() {  # package name -> installed version, or nothing
  local pj="$prefix/node_modules/$1/package.json"
  [ -f "$pj" ] && sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pj" | head -n 1
}

if [ "$(installed_version @anthropic-ai/claude-code)" = "$claude_version" ] &&
   [ "$(installed_version @openai/codex)" = "$codex_version" ] &&
   [ -x "$prefix/node_modules/.bin/claude" ] && [ -x "$prefix/node_modules/.bin/codex" ]; then
  echo "install-agent-clis: claude-code $claude_version and codex $codex_version already in $prefix/node_modules" >&2
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-agent-clis: npm is not installed (apt-get install npm, or install Node.js 18+)" >&2
  exit 1
fi
registry="$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)"
if ! npm view "@openai/codex@$codex_version" version >/dev/null 2>"$prefix.npm-check.log"; then
  reason="$(grep -m1 -iE 'err|code' "$prefix.npm-check.log" || true)"
  rm -f "$prefix.npm-check.log"
  echo "install-agent-clis: cannot reach the npm registry $registry: ${reason:-no answer}" >&2
  exit 1
fi
rm -f "$prefix.npm-check.log"

mkdir -p "$prefix"
echo "install-agent-clis: installing @anthropic-ai/claude-code@$claude_version @openai/codex@$codex_version into $prefix" >&2
# --no-save: no package.json or lock file appears in the tree, only node_modules
# (which is git-ignored). Each package pulls its native binary for this
# platform as an optional dependency.
npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  "@anthropic-ai/claude-code@$claude_version" "@openai/codex@$codex_version" >&2

for bin in claude codex; do
  if ! "$prefix/node_modules/.bin/$bin" --version >/dev/null 2>&1; then
    echo "install-agent-clis: $prefix/node_modules/.bin/$bin does not run after install" >&2
    exit 1
  fi
done
echo "install-agent-clis: ok ($("$prefix/node_modules/.bin/claude" --version), $("$prefix/node_modules/.bin/codex" --version))" >&2
