#!/bin/sh
# A dev agent that does nothing but report a cost of 3 cents.
echo "cost_cents: 3"
