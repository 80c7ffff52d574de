#!/usr/bin/env bash
# Fails with a reason on stderr.
echo "cost_cents: 5"
echo "compiler exploded: no space left" >&2
exit 3
