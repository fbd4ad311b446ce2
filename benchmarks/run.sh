#!/usr/bin/env bash
# Runs every Parley benchmark and prints the summary table.
#
#   benchmarks/run.sh [--quick] [--only=1,2,3,4,5,6,7,8,9,10,11,12,13] [--profile]
#
# --quick     the smoke-check sizes (under 2 minutes once the jar is built)
# --only=...  a subset of the scenarios (numbers as in BENCHMARKS.md)
# --profile   also record and summarize a JFR profile of the hot path
#
# Builds benchmarks/target/benchmarks.jar when any source is newer than it. Runs on the newest JDK it
# finds (JAVA_HOME, then Temurin 25 under /usr/lib/jvm, then `java`): virtual threads need 21+.
# PostgreSQL: PARLEY_BENCH_PG_URL (default jdbc:postgresql://127.0.0.1:5432/test), PARLEY_BENCH_PG_USER
# (default postgres); its figures are skipped when it does not answer.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jar=benchmarks/target/benchmarks.jar

args=()
profile=false
for arg in "$@"; do
  case "$arg" in
    --profile) profile=true ;;
    *) args+=("$arg") ;;
  esac
done

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  java="$JAVA_HOME/bin/java"
elif [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
  java=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
else
  java=java
fi

if [[ ! -f "$jar" ]] || [[ -n "$(find pom.xml */pom.xml */src/main -newer "$jar" -type f -print -quit)" ]]; then
  echo "building $jar ..."
  mvn -q -pl benchmarks -am package -DskipTests
fi

# scenario 13 starts @modelcontextprotocol/server-everything from npm (pinned in adapter-mcp/mcp-servers)
only_arg="$(printf '%s\n' ${args[@]+"${args[@]}"} | grep -- '^--only=' || true)"
if [[ -z "$only_arg" || ",${only_arg#--only=}," == *",13,"* ]]; then
  sh adapter-mcp/mcp-servers/install.sh
fi

# one process per side may hold thousands of sockets
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "java: $("$java" -version 2>&1 | head -1)"
"$java" -Xmx4g -jar "$jar" all ${args[@]+"${args[@]}"}
if $profile; then
  "$java" -Xmx1g -jar "$jar" profile
fi
