#!/usr/bin/env bash
# Switchboard benchmark: raw PostgreSQL vs. batched and single-event publish through the gateway,
# in one run on this machine. Prints a Markdown report and keeps it as a new file
# docs/benchmarks/<YYYY-MM-DD>-run-<HHMM>.md (the run's start in UTC; SWITCHBOARD_BENCH_DOCS=- only
# prints). A run never changes docs/benchmarks.md: update its "Latest figures" table by hand.
# Takes about 6 minutes plus a build if one is needed.
#
#   bench/run.sh              # everything, defaults
#   bench/run.sh --help       # the environment variables it reads (durations, rates, producers, ...)
#
# It creates a database sbbench_<random> on SWITCHBOARD_BENCH_DATABASE_URL's server (default
# postgresql://postgres@127.0.0.1:5432/postgres) and drops it at the end, starts the standalone
# platform as a child process on free loopback ports with its own temporary data folder, and stops
# it again (SIGTERM, then SIGKILL after 30 s). All traffic stays on 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PLATFORM_JAR=${SWITCHBOARD_BENCH_PLATFORM_JAR:-$ROOT/standalone/target/switchboard-standalone.jar}
BENCH_JAR=$ROOT/bench/target/switchboard-bench.jar

if [[ ${1:-} == "-h" || ${1:-} == "--help" ]]; then
  [[ -f $BENCH_JAR ]] && exec java -jar "$BENCH_JAR" --help
  sed -n '2,14p' "$0"; exit 0
fi

source bench/common.sh
COMMAND=$(bench_command bench/run.sh SWITCHBOARD_BENCH_)

# (1) Build when a jar is missing or any source or pom is newer than it.
bench_build bench

COMMIT=$(bench_commit)

WORK=$(mktemp -d -t sbbench.XXXXXX)
ok=0
cleanup() {
  # The benchmark stops its platform and drops its database itself; this covers it being killed.
  if [[ -f $WORK/platform.pid ]]; then
    pid=$(cat "$WORK/platform.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  if [[ $ok == 1 ]]; then
    rm -rf "$WORK"
  else
    echo "[bench] kept $WORK (platform.log) for a look" >&2
  fi
}
trap cleanup EXIT

SWITCHBOARD_BENCH_COMMAND="$COMMAND" \
SWITCHBOARD_BENCH_COMMIT="$COMMIT" \
SWITCHBOARD_BENCH_WORK_DIR="$WORK" \
SWITCHBOARD_BENCH_PLATFORM_JAR="$PLATFORM_JAR" \
SWITCHBOARD_BENCH_DOCS="${SWITCHBOARD_BENCH_DOCS:-$ROOT/docs/benchmarks}" \
  java -jar "$BENCH_JAR"
ok=1
