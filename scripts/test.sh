#!/usr/bin/env bash
# Runs every test: the unit and end-to-end suites, then the tricky parts
# (store, ledger, processes, supervisor) again under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
jobs="$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"

asan_dir="${build_dir}-asan"
scripts/setup.sh "$asan_dir" -DPIPELINE_SANITIZE=ON -DPIPELINE_BENCH=OFF
# Sanitized runs of the subsystems where memory and concurrency bugs hide.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir "$asan_dir" --output-on-failure -j "$jobs" -R '^(StoreTest|DbTest|LedgerTest|ProcessTest|TextTest)\.'
