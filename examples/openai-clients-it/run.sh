#!/bin/sh
# Runs the OpenAI-compatible facade's Node suite (the openai package, the Vercel AI SDK) against the demo jar; `mvn verify` calls it once the jar is
# packaged (examples/pom.xml). Without Node.js 20+ and npm it skips, except under CI=true.
set -eu
cd "$(dirname "$0")"

. ../../tools/require-node.sh
require_node openai-clients-it "the client suite" "run examples/openai-clients-it"

echo "openai-clients-it: node $(node --version), npm $(npm --version), jar ${PARLEY_DEMO_JAR:-../target/parley-demo.jar}"
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 --test-timeout=180000 test/
