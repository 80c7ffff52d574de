#!/usr/bin/env bash
# Never finishes: a child that would outlive us, and a loop that ignores SIGTERM
# (so only the SIGKILL after the grace period stops it). Writes the pids it
# started to $1 so the test can check they are gone.
pidfile="$1"
sleep 1000 &
echo "$!" >> "$pidfile"
echo "$$" >> "$pidfile"
trap '' TERM
echo "cost_cents: 1"
while true; do sleep 0.05; done
