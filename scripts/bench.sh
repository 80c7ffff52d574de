#!/usr/bin/env bash
# Runs every benchmark in bench/ (figures and their meaning: docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
b="${1:-build}/bin"
"$b/bench_task_ready"
"$b/bench_claim_reserve"
"$b/bench_ledger"
"$b/bench_agent_spawn" 30
"$b/bench_claude_overhead" 5
"$b/bench_sched" 1000 8 8
