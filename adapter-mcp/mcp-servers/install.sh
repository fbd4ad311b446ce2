#!/bin/sh
# Installs the MCP servers of the tests from the lockfile (npm ci); `mvn verify` calls it before the
# tests of adapter-mcp and examples. Without Node.js 20+ and npm it skips (those tests then skip too),
# except under CI=true.
set -eu
cd "$(dirname "$0")"

. ../../tools/require-node.sh
require_node mcp-servers "the MCP servers of the tests" "run the tests against real MCP servers"
# the lockfile pins every package; a tree installed from this very lockfile is kept
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.parley-lock; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.parley-lock
