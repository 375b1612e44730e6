#!/usr/bin/env bash
# Switchboard WebSocket fan-out benchmark: 1,000 subscribers on one topic, one publisher on a fixed
# clock at 20, 50, 100, 150 messages/s, against (a) a minimal Node `ws` broadcast server, (b) a
# minimal Go hub on gorilla/websocket, (c) nats-server's WebSocket listener and (d) Switchboard
# (standalone jar, every event persisted), interleaved A-B-C-D and repeated 3 times; then heap per
# idle connection at 10,000 connections. Prints a Markdown report and keeps it as a new file
# docs/benchmarks/<YYYY-MM-DD>-ws-<HHMM>.md (the run's start in UTC; SWITCHBOARD_WSBENCH_DOCS=- only
# prints). A run never changes docs/benchmarks.md: update its "Latest figures" table by hand.
# Takes about 15 minutes (plus a build).
#
#   bench/ws.sh                      # everything, defaults
#   bench/ws.sh --help               # the environment variables it reads
#   SWITCHBOARD_WSBENCH_REPEATS=1 SWITCHBOARD_WSBENCH_SECONDS=5 SWITCHBOARD_WSBENCH_WARMUP_SECONDS=5 \
#     SWITCHBOARD_WSBENCH_IDLE_CONNECTIONS=2000 bench/ws.sh   # a quick smoke run (~4 minutes)
#
# Needs: java 17, node + npm (installs `ws` from bench/peers/node/package-lock.json into that
# folder), go + gorilla/websocket from Debian (apt-get install golang-go
# golang-github-gorilla-websocket-dev), nats-server (apt-get install nats-server), and a PostgreSQL
# server on 127.0.0.1 (SWITCHBOARD_BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres)
# where a database sbwsbench_<random> is created and dropped. Every server binds 127.0.0.1 on free
# ports (its own nats-server, not one that may already run on 4222).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PLATFORM_JAR=${SWITCHBOARD_BENCH_PLATFORM_JAR:-$ROOT/standalone/target/switchboard-standalone.jar}
BENCH_JAR=$ROOT/bench/target/switchboard-bench.jar

if [[ ${1:-} == "-h" || ${1:-} == "--help" ]]; then
  [[ -f $BENCH_JAR ]] && exec java -jar "$BENCH_JAR" ws --help
  sed -n '2,21p' "$0"; exit 0
fi

for tool in java node npm go nats-server; do
  command -v "$tool" >/dev/null || { echo "[wsbench] $tool is missing (see the top of $0)" >&2; exit 1; }
done
[[ -d /usr/share/gocode/src/github.com/gorilla/websocket ]] \
  || { echo "[wsbench] gorilla/websocket is missing: apt-get install golang-github-gorilla-websocket-dev" >&2; exit 1; }

source bench/common.sh
COMMAND=$(bench_command bench/ws.sh SWITCHBOARD_BENCH_ SWITCHBOARD_WSBENCH_)

# (1) Build when a jar is missing or any source or pom is newer than it.
bench_build wsbench

# (2) The peers: Node's ws from the lock file, the Go hub from source (offline, Debian's gorilla).
if [[ ! -d bench/peers/node/node_modules/ws || bench/peers/node/package-lock.json -nt bench/peers/node/node_modules ]]; then
  echo "[wsbench] npm ci in bench/peers/node"
  (cd bench/peers/node && npm ci --no-audit --no-fund --silent)
fi
GOHUB=$ROOT/bench/target/gohub
if [[ ! -x $GOHUB || bench/peers/go/main.go -nt $GOHUB ]]; then
  echo "[wsbench] go build bench/peers/go"
  mkdir -p bench/target
  (cd bench/peers/go && GO111MODULE=off GOPATH=/usr/share/gocode:$ROOT/bench/target/gopath go build -o "$GOHUB" .)
fi

COMMIT=$(bench_commit)

WORK=$(mktemp -d -t sbwsbench.XXXXXX)
ok=0
cleanup() {
  # The benchmark stops its servers and drops its database itself; this covers it being killed.
  for f in "$WORK"/*/platform.pid "$WORK"/switchboard/switchboard/platform.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
  done
  if [[ $ok == 1 && -z $(find "$WORK" -name '*.jfr' -print -quit) ]]; then
    rm -rf "$WORK"
  else
    echo "[wsbench] kept $WORK (server logs, JFR recordings) for a look" >&2
  fi
}
trap cleanup EXIT

SWITCHBOARD_BENCH_COMMAND="$COMMAND" \
SWITCHBOARD_BENCH_COMMIT="$COMMIT" \
SWITCHBOARD_BENCH_WORK_DIR="$WORK" \
SWITCHBOARD_BENCH_PLATFORM_JAR="$PLATFORM_JAR" \
SWITCHBOARD_WSBENCH_NODE_DIR="$ROOT/bench/peers/node" \
SWITCHBOARD_WSBENCH_GOHUB="$GOHUB" \
SWITCHBOARD_WSBENCH_DOCS="${SWITCHBOARD_WSBENCH_DOCS:-$ROOT/docs/benchmarks}" \
  java -Xss512k -jar "$BENCH_JAR" ws
ok=1
