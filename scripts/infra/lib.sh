# shellcheck shell=bash
# Common helpers for scripts/infra/{kafka,ferretdb,nats,questdb,all}.sh. Source it, do not run it.
#
# Layout:
#   $TBP_INFRA_CACHE (default ~/.cache/tbp-infra)  installed binaries/jars, kept across runs
#   $TBP_INFRA_RUN   (default <repo>/.infra)       runtime data, logs and pid files (gitignored)
#
# A service script sets INFRA_NAME, defines the functions svc_install, svc_start,
# svc_stop and svc_status, then calls `infra_main "$@"`.
# Logs go to stderr; stdout is kept for machine-readable output (status, env).

set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_DIR/../.." && pwd)"
INFRA_CACHE="${TBP_INFRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tbp-infra}"
INFRA_RUN="${TBP_INFRA_RUN:-$REPO_ROOT/.infra}"
INFRA_HOST="127.0.0.1"
INFRA_NAME="${INFRA_NAME:-infra}"

# ---------------------------------------------------------------- logging

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$INFRA_NAME" "$*" >&2; }
die() {
  printf '[%s %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$INFRA_NAME" "$*" >&2
  exit 1
}

# Milliseconds since the epoch, for timings.
now_ms() { date +%s%3N; }
# Seconds (one decimal) elapsed since a now_ms value.
since() { local d=$(( $(now_ms) - $1 )); printf '%d.%ds' $((d / 1000)) $(((d % 1000) / 100)); }

need_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "required command '$1' not found${2:+ ($2)}"
}

# ---------------------------------------------------------------- locking

# take_lock FILE [TIMEOUT_S]: hold an exclusive flock on FILE until the script exits,
# so that two concurrent install/start/stop calls of one service do not race.
take_lock() {
  local file=$1 timeout=${2:-300}
  mkdir -p "$(dirname "$file")"
  exec 9>"$file"
  flock -w "$timeout" 9 || die "timed out after ${timeout}s waiting for lock $file"
}

# ---------------------------------------------------------------- ports

# port_open PORT [HOST]: true if something accepts TCP connections there.
port_open() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${2:-$INFRA_HOST}" "$1" 2>/dev/null
}

# port_free_or_die PORT WHAT: refuse to start when a foreign process owns the port.
port_free_or_die() {
  if port_open "$1"; then
    local who=""
    command -v ss >/dev/null 2>&1 && who=$(ss -ltnpH "sport = :$1" 2>/dev/null | head -3 || true)
    die "port $1 ($2) on $INFRA_HOST is already in use by a process not started by this script${who:+: $who}"
  fi
}

# ---------------------------------------------------------------- processes

# pid_alive PID: the process exists and is not a zombie (our daemons are reparented to
# init, which may reap them late; kill -0 alone would count a zombie as alive).
pid_alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

svc_dir() { printf '%s/%s' "$INFRA_RUN" "$INFRA_NAME"; }
pid_file() { printf '%s/%s.pid' "$(svc_dir)" "$INFRA_NAME"; }
log_file() { printf '%s/%s.log' "$(svc_dir)" "$INFRA_NAME"; }

# running_pid MARKER: print the pid of our running process and succeed, or fail.
# MARKER must appear in the process command line (guards against pid reuse).
# A stale pid file is removed.
running_pid() {
  local marker=$1 pf pid
  pf=$(pid_file)
  [[ -s $pf ]] || return 1
  pid=$(<"$pf")
  if [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid" &&
     tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
    printf '%s' "$pid"
    return 0
  fi
  rm -f "$pf"
  return 1
}

# spawn CMD...: start CMD detached (own session, stdin closed, output appended to the
# log file) and write its pid to the pid file. Prints the pid.
spawn() {
  local pf lf pid i
  pf=$(pid_file)
  lf=$(log_file)
  mkdir -p "$(dirname "$pf")"
  rm -f "$pf"
  printf '\n===== %s: starting %s =====\n' "$(date '+%F %T')" "$*" >>"$lf"
  # The inner shell writes its own pid (kept by exec) so the pid file is exact
  # whether or not setsid had to fork.
  # shellcheck disable=SC2016 # expanded by the inner shell
  # fd 9 (our lock) is closed so the daemon does not keep holding it.
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pf" "$@" </dev/null >>"$lf" 2>&1 9>&- &
  for ((i = 0; i < 50; i++)); do
    [[ -s $pf ]] && break
    sleep 0.1
  done
  [[ -s $pf ]] || die "could not start $1 (no pid file after 5s); see $lf"
  pid=$(<"$pf")
  printf '%s' "$pid"
}

# deadline_in SECONDS: a deadline (epoch ms) for wait_ready, shared by a start's waits.
deadline_in() { printf '%d' $(($(now_ms) + $1 * 1000)); }

# wait_ready DESC DEADLINE_MS PID CHECK_CMD...: poll CHECK_CMD until it succeeds.
# Fails loudly (with the log tail) at the deadline or if PID dies meanwhile.
wait_ready() {
  local desc=$1 deadline=$2 pid=$3
  shift 3
  local start
  start=$(now_ms)
  while true; do
    if ! pid_alive "$pid"; then
      log_tail
      die "$INFRA_NAME (pid $pid) exited while waiting for: $desc"
    fi
    if "$@" >/dev/null 2>&1; then
      log "ready: $desc ($(since "$start"))"
      return 0
    fi
    if (($(now_ms) >= deadline)); then
      log_tail
      log "last check output:"
      "$@" >&2 || true
      die "timed out waiting for: $desc (waited $(since "$start"); process $pid left running, '$0 stop' stops it)"
    fi
    sleep 0.5
  done
}

log_tail() {
  local lf
  lf=$(log_file)
  [[ -f $lf ]] || return 0
  log "last lines of $lf:"
  tail -n 30 "$lf" | sed 's/^/    /' >&2
}

# stop_pid MARKER GRACE_S: SIGTERM our process, wait up to GRACE_S, then SIGKILL.
stop_pid() {
  local marker=$1 grace=$2 pid start i
  if ! pid=$(running_pid "$marker"); then
    log "not running"
    return 0
  fi
  start=$(now_ms)
  log "stopping pid $pid (SIGTERM, up to ${grace}s)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    log "pid $pid still alive after ${grace}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    pid_alive "$pid" && die "pid $pid survived SIGKILL"
  fi
  rm -f "$(pid_file)"
  log "stopped ($(since "$start"))"
}

# running_or_none MARKER PORT: if our process runs, print its pid (and fail loudly when it
# was started on another port than PORT); print nothing if it does not run.
running_or_none() {
  local pid pf_port
  pid=$(running_pid "$1") || return 0
  pf_port=$(cat "$(svc_dir)/port" 2>/dev/null || true)
  if [[ -n $pf_port && $pf_port != "$2" ]]; then
    die "already running (pid $pid) on port $pf_port, not $2: '$0 stop' it first"
  fi
  printf '%s' "$pid"
}

# record_port PORT: remember the port of the process just started (see running_or_none).
record_port() { printf '%s\n' "$1" >"$(svc_dir)/port"; }
# recorded_port DEFAULT: the port recorded at the last start, else DEFAULT.
recorded_port() { cat "$(svc_dir)/port" 2>/dev/null || printf '%s' "$1"; }

# report_status MARKER ENDPOINT: print one status line to stdout; exit code 0 if
# running, 3 if not (LSB convention).
report_status() {
  local pid
  if pid=$(running_pid "$1"); then
    printf '%s: running (pid %s) on %s\n' "$INFRA_NAME" "$pid" "$2"
    return 0
  fi
  printf '%s: stopped\n' "$INFRA_NAME"
  return 3
}

# ---------------------------------------------------------------- cache markers

# marker_matches FILE CONTENT: true if the install marker holds exactly CONTENT.
marker_matches() { [[ -f $1 && "$(<"$1")" == "$2" ]]; }
write_marker() { printf '%s' "$2" >"$1.tmp" && mv -f "$1.tmp" "$1"; }

# ---------------------------------------------------------------- Java and Maven

# java_bin: the Java to run (JAVA, then JAVA_HOME, then the PATH); Java 17 is what the servers need.
java_bin() {
  local j=${JAVA:-}
  [[ -z $j && -n ${JAVA_HOME:-} ]] && j="$JAVA_HOME/bin/java"
  [[ -z $j ]] && j=$(command -v java || true)
  [[ -n $j && -x $j ]] || die "java not found (Java 17 is needed: apt-get install -y openjdk-17-jdk-headless)"
  printf '%s' "$j"
}

# Pinned: Maven 3.8's default maven-dependency-plugin is too old for copy-dependencies' options.
MAVEN_DEPENDENCY_PLUGIN_VERSION=3.8.1

# maven_install_jars HOME WHAT REQUIRED_JAR... < DEPENDENCIES: resolves the <dependency> elements read
# from standard input (with their runtime dependencies) from Maven Central into HOME/libs, through a
# generated HOME/pom.xml and the shared local repository of the cache. The libs appear whole or not
# at all; fails (with Maven's log) unless every REQUIRED_JAR is among them.
maven_install_jars() {
  local home=$1 what=$2 dependencies tmp jar
  shift 2
  need_cmd mvn "Maven 3.8+: apt-get install -y maven"
  java_bin >/dev/null
  dependencies=$(cat)
  mkdir -p "$home"
  tmp="$home/libs.tmp"
  rm -rf "$tmp"
  cat >"$home/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/infra/lib.sh (maven_install_jars): resolves the jars of $what. -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tbp.infra</groupId>
  <artifactId>$INFRA_NAME-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$dependencies
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>$MAVEN_DEPENDENCY_PLUGIN_VERSION</version>
        <configuration>
          <outputDirectory>\${libs.dir}</outputDirectory>
          <includeScope>runtime</includeScope>
        </configuration>
      </plugin>
    </plugins>
  </build>
</project>
POM
  if ! mvn -B -q -f "$home/pom.xml" -Dmaven.repo.local="$INFRA_CACHE/m2" -Dlibs.dir="$tmp" \
    dependency:copy-dependencies >"$home/mvn.log" 2>&1; then
    tail -n 40 "$home/mvn.log" >&2
    die "Maven could not resolve $what (full log: $home/mvn.log)"
  fi
  for jar in "$@"; do
    [[ -f $tmp/$jar ]] || die "Maven ran but $jar is missing from $tmp"
  done
  rm -rf "$home/libs"
  mv "$tmp" "$home/libs"
}

# ---------------------------------------------------------------- node clients

# node_bin: the Node.js used for readiness checks (PATH first, then the project's
# `node` npm package).
node_bin() {
  if command -v node >/dev/null 2>&1; then
    command -v node
  elif [[ -x $REPO_ROOT/node_modules/.bin/node ]]; then
    printf '%s' "$REPO_ROOT/node_modules/.bin/node"
  else
    die "no node found on PATH nor in $REPO_ROOT/node_modules/.bin (run 'npm ci' in $REPO_ROOT)"
  fi
}

# need_node_module NAME: the readiness checks use the project's own npm clients.
need_node_module() {
  [[ -f $REPO_ROOT/node_modules/$1/package.json ]] ||
    die "npm package '$1' missing from $REPO_ROOT/node_modules (run 'npm ci' in $REPO_ROOT first)"
}

# node_run SCRIPT [ARGS...]: run an inline Node script resolving the project's modules.
node_run() {
  local script=$1
  shift
  NODE_PATH="$REPO_ROOT/node_modules" "$(node_bin)" -e "$script" -- "$@"
}

# ---------------------------------------------------------------- dispatch

infra_usage() {
  cat >&2 <<EOF
usage: $0 {install|start|stop|restart|status|clean}
  install  install into $INFRA_CACHE (skipped when already there)
  start    install if needed, start in the background, wait until it serves (no-op if running)
  stop     SIGTERM, wait, then SIGKILL
  restart  stop then start (data kept)
  status   print running/stopped (exit 0 if running, 3 if stopped)
  clean    stop and delete runtime data and logs under $INFRA_RUN/$INFRA_NAME
EOF
}

infra_main() {
  local cmd=${1:-}
  # Commands are run one per line, never in `a && b` lists: bash ignores `set -e`
  # inside functions called from such lists.
  case $cmd in
    install | start | stop | restart | clean)
      take_lock "$INFRA_CACHE/locks/$INFRA_NAME.lock" 600
      ;;
  esac
  case $cmd in
    install) svc_install ;;
    start)
      svc_install
      svc_start
      ;;
    stop) svc_stop ;;
    restart)
      svc_stop
      svc_install
      svc_start
      ;;
    status) svc_status ;;
    clean)
      svc_stop
      rm -rf "$(svc_dir)"
      log "removed $(svc_dir)"
      ;;
    -h | --help | help) infra_usage ;;
    *)
      infra_usage
      exit 2
      ;;
  esac
}
