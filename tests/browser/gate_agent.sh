#!/bin/sh
# A dev agent for the dashboard tests whose log grows while a page watches:
# it logs a line, waits until the file $1 exists (the test creates it once
# the page shows that line), then logs another and exits without a commit.
echo "step 1"
while [ ! -e "$1" ]; do sleep 0.05; done
echo "step 2 after the gate"
echo "cost_cents: 1"
