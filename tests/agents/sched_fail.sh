#!/bin/sh
# A dev agent that always fails.
echo "agent could not do it" >&2
exit 3
