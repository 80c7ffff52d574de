#!/usr/bin/env bash
# Leaves a daemon child behind and exits 0 at once; the daemon holds no pipe
# of ours (its output goes to /dev/null), so only the group kill stops it.
pidfile="$1"
sleep 1000 > /dev/null 2>&1 &
echo "$!" > "$pidfile"
echo "cost_cents: 4"
exit 0
