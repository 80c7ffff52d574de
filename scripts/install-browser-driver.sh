#!/usr/bin/env bash
# Installs puppeteer-core into tools/browser/node_modules for the dashboard's browser
# tests (tests/browser/*.js). It drives the system's Chromium (Debian's
# `chromium` package, see scripts/setup.sh); no browser is downloaded.
# Skipped when the pinned version is present. Exits non-zero with the reason
# when npm or the registry is unavailable.
set -euo pipefail
cd "$(dirname "$0")/.."

# One install into tools/ at a time: test processes started in parallel each
# ask for the tools, and two npm installs into one tree undo each other
# (ENOTEMPTY, half-written packages). The check below runs under the lock, so
# a second caller waits for the first and then finds the tools in place.
mkdir -p tools
exec 9>tools/.install.lock
flock 9

version="25.16.0"
# Its own prefix: an npm install into tools/ (the agent CLIs) would prune
# packages it did not name, and the two installs would undo each other.
prefix="tools/browser"
pj="$prefix/node_modules/puppeteer-core/package.json"

if [ -f "$pj" ] && grep -q "\"version\": \"$version\"" "$pj" &&
   node -e "require('./$prefix/node_modules/puppeteer-core')" 2>/dev/null; then
  echo "install-browser-driver: puppeteer-core $version already in $prefix/node_modules" >&2
  exit 0
fi
# What an interrupted install left (a package.json without its files) is
# not repaired by npm: this prefix is ours alone, so start it again.
rm -rf "$prefix/node_modules"
if ! command -v npm >/dev/null 2>&1; then
  echo "install-browser-driver: npm is not installed (apt-get install npm, or install Node.js 18+)" >&2
  exit 1
fi
mkdir -p "$prefix"
registry="$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)"
if ! npm view "puppeteer-core@$version" version >/dev/null 2>"$prefix.npm-check.log"; then
  reason="$(grep -m1 -iE 'err|code' "$prefix.npm-check.log" || true)"
  rm -f "$prefix.npm-check.log"
  echo "install-browser-driver: cannot reach the npm registry $registry: ${reason:-no answer}" >&2
  exit 1
fi
rm -f "$prefix.npm-check.log"
mkdir -p "$prefix"
echo "install-browser-driver: installing puppeteer-core@$version into $prefix" >&2
npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  "puppeteer-core@$version" >&2
node -e "require('./$prefix/node_modules/puppeteer-core')" || {
  echo "install-browser-driver: puppeteer-core does not load after install" >&2
  exit 1
}
echo "install-browser-driver: ok (puppeteer-core $version)" >&2
