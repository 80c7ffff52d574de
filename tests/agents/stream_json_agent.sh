#!/usr/bin/env bash
# Replays a Claude Code stream-json transcript one line at a time with a pause
# between lines, then hangs: a budget limit has to stop it.
fixture="$1"
pause="${2:-0.3}"
while IFS= read -r line; do
  printf '%s\n' "$line"
  sleep "$pause"
done < "$fixture"
sleep 1000
