#!/usr/bin/env bash
# Switchboard benchmark of issue #11, in one run on this machine: (1) noisy neighbour — tenant B's
# publish→receive latency with tenant A idle, then flooding at 10x its quota, then idle again;
# (2) consumer-group throughput — events/s acked by 4 consumers in batches of 100, beside NATS
# JetStream (Debian's nats-server, file-backed) and a bare PostgreSQL FOR UPDATE SKIP LOCKED queue.
# Prints a Markdown report and keeps it as docs/benchmarks/<YYYY-MM-DD>-backpressure-<HHMM>.md
# (SWITCHBOARD_BPBENCH_DOCS=- only prints). Takes about 10 minutes plus a build if one is needed.
#
#   bench/backpressure.sh          # everything, defaults
#   bench/backpressure.sh --help   # the environment variables it reads
#
# It creates a database sbbpbench_<random> on SWITCHBOARD_BENCH_DATABASE_URL's server (default
# postgresql://postgres@127.0.0.1:5432/postgres) and drops it at the end, starts the standalone
# platform and its own nats-server as child processes on free loopback ports, and stops them again.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PLATFORM_JAR=${SWITCHBOARD_BENCH_PLATFORM_JAR:-$ROOT/standalone/target/switchboard-standalone.jar}
BENCH_JAR=$ROOT/bench/target/switchboard-bench.jar

if [[ ${1:-} == "-h" || ${1:-} == "--help" ]]; then
  [[ -f $BENCH_JAR ]] && exec java -jar "$BENCH_JAR" backpressure --help
  sed -n '2,13p' "$0"; exit 0
fi

if [[ ! -x ${SWITCHBOARD_BPBENCH_NATS_SERVER:-/usr/sbin/nats-server} ]]; then
  echo "[backpressure] needs nats-server (apt-get install nats-server)" >&2
  exit 1
fi

source bench/common.sh
COMMAND=$(bench_command bench/backpressure.sh SWITCHBOARD_BENCH_ SWITCHBOARD_BPBENCH_)
bench_build backpressure
COMMIT=$(bench_commit)

SWITCHBOARD_BENCH_COMMAND="$COMMAND" \
SWITCHBOARD_BENCH_COMMIT="$COMMIT" \
SWITCHBOARD_BENCH_PLATFORM_JAR="$PLATFORM_JAR" \
SWITCHBOARD_BPBENCH_DOCS="${SWITCHBOARD_BPBENCH_DOCS:-$ROOT/docs/benchmarks}" \
  java -jar "$BENCH_JAR" backpressure
