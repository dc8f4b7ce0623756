#!/usr/bin/env bash
# Entry point for `npm run bench`: raise the open-file limit first, because the
# idle-memory scenario holds 10,000 sockets open (both ends count, in two
# processes), far above the usual soft limit of 1024.
set -euo pipefail
hard=$(ulimit -Hn)
if [ "$hard" = "unlimited" ] || [ "$hard" -ge 65536 ]; then
  ulimit -n 65536 2>/dev/null || true
else
  ulimit -n "$hard" 2>/dev/null || true
fi
exec node "$(dirname "$0")/run.mjs" "$@"
