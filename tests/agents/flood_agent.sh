#!/usr/bin/env bash
# Floods both streams far past any log cap, then reports a cost and exits.
bytes="${1:-200000000}"
head -c "$bytes" /dev/zero | tr '\0' 'x'
echo
head -c 1000000 /dev/zero | tr '\0' 'e' >&2
echo "cost_cents: 3"
echo "the end"
