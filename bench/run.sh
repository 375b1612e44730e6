#!/usr/bin/env bash
# Switchboard benchmark (issue #3): raw PostgreSQL vs. batched and single-event publish through
# the gateway, in one run on this machine. Prints a Markdown table and keeps it as a dated section
# of docs/benchmarks.md. Takes about 4 minutes plus a build if one is needed.
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
  sed -n '2,12p' "$0"; exit 0
fi

# The exact command, for the report: the benchmark's own variables that are set, then this script.
COMMAND=""
while IFS='=' read -r name _; do
  [[ $name == SWITCHBOARD_BENCH_* ]] && COMMAND+="$name=${!name} "
done < <(env | sort)
COMMAND=$(sed -E 's#(://[^:@/ ]+):[^@/ ]+@#\1:***@#g' <<<"$COMMAND")
COMMAND+="bench/run.sh"

# (1) Build when a jar is missing or any source or pom is newer than it.
needs_build() {
  [[ -f $PLATFORM_JAR && -f $BENCH_JAR ]] || return 0
  local newer
  newer=$(find . -path ./bench -prune -o -path ./.git -prune -o -path '*/target' -prune \
      -o \( -name pom.xml -o -path '*/src/*' \) -type f -newer "$PLATFORM_JAR" -print -quit 2>/dev/null)
  [[ -n $newer ]] && return 0
  newer=$(find bench/pom.xml bench/src -newer "$BENCH_JAR" -type f -print -quit 2>/dev/null)
  [[ -n $newer ]]
}
if needs_build; then
  echo "[bench] building: ./mvnw -B -q -DskipTests package"
  # Without this, a change in a service alone (not in standalone/) left the old platform jar in
  # place: the jar plugin does not recreate an unchanged jar, so nothing was repackaged.
  rm -f standalone/target/switchboard-standalone.jar standalone/target/switchboard-standalone.jar.original
  ./mvnw -B -q -DskipTests package
fi

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain --untracked-files=no 2>/dev/null | wc -l | tr -d ' ')
if [[ $DIRTY != 0 ]]; then
  COMMIT+=" plus $DIRTY locally modified tracked file(s) ($(git status --porcelain --untracked-files=no | awk '{print $NF}' | sed 's|/src/.*||' | sort -u | paste -sd, -))"
fi

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
SWITCHBOARD_BENCH_DOCS="${SWITCHBOARD_BENCH_DOCS:-$ROOT/docs/benchmarks.md}" \
  java -jar "$BENCH_JAR"
ok=1
