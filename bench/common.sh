# Shared by bench/run.sh and bench/ws.sh (sourced from the repository root, with ROOT, PLATFORM_JAR
# and BENCH_JAR set): the report's command line, the build check and the commit description.

# bench_command SCRIPT PREFIX...: the benchmark's own variables that are set (passwords in URLs
# masked), then the script — the exact command, for the report.
bench_command() {
  local script=$1 name prefix command=""
  shift
  while IFS='=' read -r name _; do
    for prefix in "$@"; do
      [[ $name == "$prefix"* ]] && command+="$name=${!name} "
    done
  done < <(env | sort)
  command=$(sed -E 's#(://[^:@/ ]+):[^@/ ]+@#\1:***@#g' <<<"$command")
  echo "${command}${script}"
}

# True when a jar is missing or any source or pom is newer than it.
bench_needs_build() {
  [[ -f $PLATFORM_JAR && -f $BENCH_JAR ]] || return 0
  local newer
  newer=$(find . -path ./bench -prune -o -path ./.git -prune -o -path '*/target' -prune -o -path '*/node_modules' -prune \
      -o \( -name pom.xml -o -path '*/src/*' \) -type f -newer "$PLATFORM_JAR" -print -quit 2>/dev/null)
  [[ -n $newer ]] && return 0
  newer=$(find bench/pom.xml bench/src -newer "$BENCH_JAR" -type f -print -quit 2>/dev/null)
  [[ -n $newer ]]
}

# bench_build LABEL: builds the platform and bench jars when bench_needs_build says so.
bench_build() {
  bench_needs_build || return 0
  echo "[$1] building: ./mvnw -B -q -DskipTests clean package"
  # clean: without it a change in a service alone (not in standalone/) left the old platform jar
  # in place (the jar plugin does not recreate an unchanged jar), and files moved or deleted since
  # the last build stayed in target/classes and so in the jars.
  ./mvnw -B -q -DskipTests clean package
}

# The commit measured, and which tracked files differ from it.
bench_commit() {
  local commit dirty
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | wc -l | tr -d ' ')
  if [[ $dirty != 0 ]]; then
    commit+=" plus $dirty locally modified tracked file(s) ($(git status --porcelain --untracked-files=no | awk '{print $NF}' | sed 's|/src/.*||' | sort -u | paste -sd, -))"
  fi
  echo "$commit"
}
