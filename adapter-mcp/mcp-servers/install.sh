#!/bin/sh
# Installs the MCP servers of the tests from the lockfile (npm ci); `mvn verify` calls it before the
# tests of adapter-mcp and examples. Without Node.js 20+ and npm it skips (those tests then skip too),
# except under CI=true.
set -eu
cd "$(dirname "$0")"

missing=""
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing="node and npm were not found on the PATH"
elif [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  missing="Node.js $(node --version) is older than 20"
fi
if [ -n "$missing" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "mcp-servers: FAILED: $missing, and CI=true requires the MCP servers of the tests" >&2
    exit 1
  fi
  echo "mcp-servers: SKIPPED: $missing (install Node.js 20 or newer to run the tests against real MCP servers)"
  exit 0
fi
# the lockfile pins every package; a tree installed from this very lockfile is kept
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.parley-lock; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.parley-lock
