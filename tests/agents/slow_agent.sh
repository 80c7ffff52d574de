#!/usr/bin/env bash
# Works for a while ($1 seconds), then reports its cost and succeeds.
sleep "${1:-1}"
echo "cost_cents: 7"
echo "turns: 2"
