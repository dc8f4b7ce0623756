#!/usr/bin/env bash
# Raises the open-file limit to the hard limit (10,000 connections need 10,000 descriptors in
# the load generator and 5,000 in each server process), then runs the topic soak with the
# arguments given.
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "soak-topics: open-file limit $(ulimit -n)"
exec node "$(dirname "$0")/soak-topics.mjs" "$@"
