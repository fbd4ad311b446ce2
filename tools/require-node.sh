# Sourced by the scripts that need Node.js (the client suites, the MCP servers of the tests):
#   require_node <name> <what CI needs> <how to get it running>
# returns when Node.js 20+ and npm are on the PATH; otherwise exits the script: 0 (skipped, with a
# message) or, under CI=true, 1.
require_node() {
  missing=""
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing="node and npm were not found on the PATH"
  elif [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    missing="Node.js $(node --version) is older than 20"
  fi
  if [ -n "$missing" ]; then
    if [ "${CI:-}" = "true" ]; then
      echo "$1: FAILED: $missing, and CI=true requires $2" >&2
      exit 1
    fi
    echo "$1: SKIPPED: $missing (install Node.js 20 or newer to $3)"
    exit 0
  fi
}
