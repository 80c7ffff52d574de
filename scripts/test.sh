#!/usr/bin/env bash
# Runs every test: the unit and end-to-end suites, then the tricky parts
# (store, ledger, processes, supervisor internals) again under
# AddressSanitizer + UBSan, in a second build tree that builds only those.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
jobs="$(nproc)"
status=0
log="$(mktemp)"
# What the tests drive besides our binaries: the real agent CLIs and the
# browser driver (npm), installed once before the suite starts. A failure
# here is not fatal: the tests that need them fail with the reason.
scripts/install-agent-clis.sh || true
scripts/install-browser-driver.sh || true
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" 2>&1 | tee "$log" || status=1
# "100% tests passed, 0 tests failed out of 299"
total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
failed=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)
rm -f "$log"
total=${total:-0}
failed=${failed:-0}

asan_dir="${build_dir}-asan"
asan_targets=(util_test store_test proc_test ledger_test tasks_test)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$asan_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$asan_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug -DPIPELINE_SANITIZE=ON -DPIPELINE_BENCH=OFF >&2
fi
cmake --build "$asan_dir" -j "$jobs" --target "${asan_targets[@]}" >&2
echo "== sanitized run (AddressSanitizer + UBSan): ${asan_targets[*]}"
asan_failed=0
for t in "${asan_targets[@]}"; do
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$asan_dir/bin/$t" --gtest_brief=1 || { status=1; asan_failed=$((asan_failed + 1)); }
done
echo "sanitized suites: ${#asan_targets[@]} run, $asan_failed failed"
echo "tests: $((total - failed)) passed, $failed failed"
exit $status
