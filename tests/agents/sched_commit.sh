#!/bin/sh
# A dev agent that makes one commit in its workspace (its cwd) and exits 0.
set -e
echo "work for ${PIPELINE_TASK_ID:-?} by ${PIPELINE_RUN_ID:-?}" >> "work-${PIPELINE_TASK_ID:-x}.txt"
git add -A
git commit -q -m "work on ${PIPELINE_TASK_ID:-?}"
