#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks, then configures and builds.
# Usage: scripts/setup.sh [build-dir] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build git pkg-config ca-certificates
  libsqlite3-dev sqlite3 nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  libtomlplusplus-dev libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev
  chromium  # the dashboard's browser tests (tests/serve_browser_test.cc)
  bubblewrap  # agent runs are confined in it (docs/security.md)
)
# The Slurm executor's tests run a one-node cluster (scripts/slurm-cluster.sh).
packages+=(munge slurmctld slurmd slurm-client)
# The real agent CLIs (Claude Code, Codex) are npm packages; their tests need
# node and npm. Machines that already have them (from any source) keep theirs.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

build_dir="${1:-build}"
shift || true
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >&2
fi
cmake --build "$build_dir" -j "$(nproc)" >&2
