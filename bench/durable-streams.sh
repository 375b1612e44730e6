#!/usr/bin/env bash
# Switchboard Durable Streams benchmark of issue #14: appends/s and append→read p50/p99 with one live
# SSE reader, 1 and 16 writers, 100-byte JSON appends — Switchboard (standalone platform on the
# machine's PostgreSQL, every append committed before it is answered) beside the Durable Streams
# reference server @durable-streams/server 0.3.7 in file mode (each append fsynced) and in memory
# mode (the floor), same client, same run. Prints a Markdown report and keeps it as
# docs/benchmarks/<YYYY-MM-DD>-durable-streams-<HHMM>.md (SWITCHBOARD_DSBENCH_DOCS=- only prints).
# Takes about 5 minutes plus a build if one is needed.
#
#   bench/durable-streams.sh          # everything, defaults
#   bench/durable-streams.sh --help   # the environment variables it reads
#
# Needs: java 17, node + npm (installs the reference server from bench/peers/durable-streams/package-lock.json).
# It creates a database sbdsbench_<random> on SWITCHBOARD_BENCH_DATABASE_URL's server (default
# postgresql://postgres@127.0.0.1:5432/postgres) and drops it at the end; every server binds 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PLATFORM_JAR=${SWITCHBOARD_BENCH_PLATFORM_JAR:-$ROOT/standalone/target/switchboard-standalone.jar}
BENCH_JAR=$ROOT/bench/target/switchboard-bench.jar

if [[ ${1:-} == "-h" || ${1:-} == "--help" ]]; then
  [[ -f $BENCH_JAR ]] && exec java -jar "$BENCH_JAR" durable-streams --help
  sed -n '2,16p' "$0"; exit 0
fi

source bench/common.sh
COMMAND=$(bench_command bench/durable-streams.sh SWITCHBOARD_BENCH_ SWITCHBOARD_DSBENCH_)
bench_build durable-streams
COMMIT=$(bench_commit)
if [[ ! -d bench/peers/durable-streams/node_modules ]]; then
  echo "[dsbench] npm ci in bench/peers/durable-streams"
  (cd bench/peers/durable-streams && npm ci --no-audit --no-fund --silent)
fi

SWITCHBOARD_BENCH_COMMAND="$COMMAND" \
SWITCHBOARD_BENCH_COMMIT="$COMMIT" \
SWITCHBOARD_BENCH_PLATFORM_JAR="$PLATFORM_JAR" \
SWITCHBOARD_DSBENCH_DOCS="${SWITCHBOARD_DSBENCH_DOCS:-$ROOT/docs/benchmarks}" \
  java -jar "$BENCH_JAR" durable-streams
