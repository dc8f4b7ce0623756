#!/usr/bin/env bash
# Raises the open-file limit to the hard limit (10,000 connections need 10,000 descriptors in
# each of the two processes), then runs the soak test with the arguments given.
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "soak: open-file limit $(ulimit -n)"
exec node "$(dirname "$0")/soak.mjs" "$@"
