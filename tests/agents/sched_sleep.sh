#!/bin/sh
# A dev agent that works for a while ($1 seconds, default 1) without committing.
sleep "${1:-1}"
