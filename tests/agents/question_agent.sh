#!/usr/bin/env bash
# Asks a question on its task instead of doing the work, and commits nothing.
set -euo pipefail
pipeline task comment "$PIPELINE_TASK_ID" "Which database should I use?"
echo "cost_cents: 1"
