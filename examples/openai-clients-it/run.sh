#!/bin/sh
# Runs the OpenAI-compatible facade's Node suite (the openai package, the Vercel AI SDK) against the demo jar; `mvn verify` calls it once the jar is
# packaged (examples/pom.xml). Without Node.js 20+ and npm it skips, except under CI=true.
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
    echo "openai-clients-it: FAILED: $missing, and CI=true requires the client suite" >&2
    exit 1
  fi
  echo "openai-clients-it: SKIPPED: $missing (install Node.js 20 or newer to run examples/openai-clients-it)"
  exit 0
fi

echo "openai-clients-it: node $(node --version), npm $(npm --version), jar ${PARLEY_DEMO_JAR:-../target/parley-demo.jar}"
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 --test-timeout=180000 test/
