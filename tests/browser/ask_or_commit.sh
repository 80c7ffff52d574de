#!/bin/sh
# A dev agent for the dashboard tests. Its prompt file is $1. Without a
# person's answer among the prompt's comments it asks a question and commits
# nothing (the task goes to needs-help); with one it commits a change.
set -e
prompt="$1"
echo "read the prompt for ${PIPELINE_TASK_ID:-?}"
if grep -q '^- \[human\] ' "$prompt"; then
  echo "work for ${PIPELINE_TASK_ID:-?} by ${PIPELINE_RUN_ID:-?}" >> "work-${PIPELINE_TASK_ID:-x}.txt"
  git add -A
  git commit -q -m "work on ${PIPELINE_TASK_ID:-?}"
  echo "committed"
else
  pipeline task comment "$PIPELINE_TASK_ID" "Which colour should the button be?"
  echo "asked a question"
fi
echo "cost_cents: 3"
echo "turns: 1"
