#!/usr/bin/env bash
# A scripted agent that does real work: edits a file in its workspace, commits
# it, and reports its spend the way the `command` reader understands.
set -euo pipefail
prompt_file="$1"
test -f "$prompt_file"
echo "cost_cents: 2"
echo "turns: 1"
echo "run ${PIPELINE_RUN_ID} for task ${PIPELINE_TASK_ID:-none}" >> work.txt
git add work.txt
git commit -q -m "agent work for ${PIPELINE_RUN_ID}"
echo "progress on stderr" >&2
echo "cost_cents: 12.5"
echo "turns: 2"
