#!/usr/bin/env bash
# Switchboard workflow token benchmark of issue #12: tokens from a model to browser WebSockets
# through workflow runs on the standalone platform — 50 concurrent runs of an OpenAI-compatible
# model (in the bench process, real SSE) at 1,000 tokens/s in all, the added latency per token
# (model emit → WebSocket receive) cold and warm, beside a bare Reactor Netty SSE endpoint as the
# floor; then the built-in echo model as fast as it can, token events/s. Prints a Markdown report
# and keeps it as docs/benchmarks/<YYYY-MM-DD>-workflow-<HHMM>.md (SWITCHBOARD_WFBENCH_DOCS=- only
# prints). Takes about 3 minutes plus a build if one is needed.
#
#   bench/workflow.sh          # everything, defaults
#   bench/workflow.sh --help   # the environment variables it reads
#
# It creates a database sbwfbench_<random> on SWITCHBOARD_BENCH_DATABASE_URL's server (default
# postgresql://postgres@127.0.0.1:5432/postgres) and drops it at the end; every server binds 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PLATFORM_JAR=${SWITCHBOARD_BENCH_PLATFORM_JAR:-$ROOT/standalone/target/switchboard-standalone.jar}
BENCH_JAR=$ROOT/bench/target/switchboard-bench.jar

if [[ ${1:-} == "-h" || ${1:-} == "--help" ]]; then
  [[ -f $BENCH_JAR ]] && exec java -jar "$BENCH_JAR" workflow --help
  sed -n '2,14p' "$0"; exit 0
fi

source bench/common.sh
COMMAND=$(bench_command bench/workflow.sh SWITCHBOARD_BENCH_ SWITCHBOARD_WFBENCH_)
bench_build workflow
COMMIT=$(bench_commit)

SWITCHBOARD_BENCH_COMMAND="$COMMAND" \
SWITCHBOARD_BENCH_COMMIT="$COMMIT" \
SWITCHBOARD_BENCH_PLATFORM_JAR="$PLATFORM_JAR" \
SWITCHBOARD_WFBENCH_DOCS="${SWITCHBOARD_WFBENCH_DOCS:-$ROOT/docs/benchmarks}" \
  java -jar "$BENCH_JAR" workflow
