#!/usr/bin/env bash
# NATS server (Debian's nats-server package) on 127.0.0.1, for Moleculer's NATS transporter.
#   scripts/infra/nats.sh {install|start|stop|restart|status|clean}
#
# Settings (environment):
#   NATS_PORT           4222
#   NATS_ARGS           extra nats-server arguments (e.g. "-js" for JetStream, "-DV" to trace)
#   NATS_START_TIMEOUT  30      seconds to wait for the server's INFO greeting
#   NATS_STOP_TIMEOUT   15      seconds of SIGTERM grace before SIGKILL
INFRA_NAME=nats
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NATS_PORT=${NATS_PORT:-4222}
NATS_ARGS=${NATS_ARGS:-}
NATS_START_TIMEOUT=${NATS_START_TIMEOUT:-30}
NATS_STOP_TIMEOUT=${NATS_STOP_TIMEOUT:-15}

RUN_DIR="$(svc_dir)"
# Appears in the server's command line: identifies our process.
PROC_MARKER="--name tbp-infra-nats"

nats_bin() { command -v nats-server || { [[ -x /usr/sbin/nats-server ]] && printf /usr/sbin/nats-server; }; }

svc_install() {
  local bin start apt_log sudo=()
  if bin=$(nats_bin); then
    log "nats-server already installed: $bin ($("$bin" --version 2>&1 | head -n 1))"
    return 0
  fi
  need_cmd apt-get "nats-server comes from Debian's package"
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "installing nats-server needs root (apt-get install -y nats-server)"
    sudo=(sudo)
  fi
  start=$(now_ms)
  mkdir -p "$INFRA_CACHE"
  apt_log="$INFRA_CACHE/nats-apt.log"
  : >"$apt_log"
  # apt-get update only when the package lists do not know nats-server yet.
  if ! apt-cache policy nats-server 2>/dev/null | grep -Eq 'Candidate: [0-9]'; then
    log "apt-get update (package lists do not list nats-server yet)"
    "${sudo[@]}" apt-get update -q >>"$apt_log" 2>&1 || { tail -n 20 "$apt_log" >&2; die "apt-get update failed (log: $apt_log)"; }
  fi
  log "apt-get install -y nats-server"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends nats-server >>"$apt_log" 2>&1 ||
    { tail -n 20 "$apt_log" >&2; die "apt-get install nats-server failed (log: $apt_log)"; }
  bin=$(nats_bin) || die "nats-server still not found after apt-get install"
  # Where systemd runs, the package enables and starts its own nats-server on 0.0.0.0:4222,
  # which would take our port: stop and disable it (we start our own, bound to loopback).
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    log "disabling the packaged nats-server.service (this script runs its own server)"
    "${sudo[@]}" systemctl disable --now nats-server.service >&2 || log "warning: could not disable nats-server.service"
  fi
  log "installed $bin ($("$bin" --version 2>&1 | head -n 1)) in $(since "$start")"
}

# A real NATS greeting: the server sends an INFO line on connect.
nats_ready() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 2 line <&3 && [[ $line == INFO* ]]' \
    _ "$INFRA_HOST" "$NATS_PORT"
}

svc_start() {
  local pid start deadline bin
  deadline=$(deadline_in "$NATS_START_TIMEOUT")
  pid=$(running_or_none "$PROC_MARKER" "$NATS_PORT")
  if [[ -n $pid ]]; then
    log "already running (pid $pid)"
    wait_ready "NATS INFO on $INFRA_HOST:$NATS_PORT" "$deadline" "$pid" nats_ready
    return 0
  fi
  port_free_or_die "$NATS_PORT" "NATS"
  bin=$(nats_bin) || die "nats-server not installed (install failed?)"
  start=$(now_ms)
  mkdir -p "$RUN_DIR"
  # shellcheck disable=SC2086 # NATS_ARGS is a list of arguments
  pid=$(spawn "$bin" $PROC_MARKER --addr "$INFRA_HOST" --port "$NATS_PORT" \
    --store_dir "$RUN_DIR/jetstream" $NATS_ARGS)
  record_port "$NATS_PORT"
  log "started pid $pid (log: $(log_file))"
  wait_ready "NATS INFO on $INFRA_HOST:$NATS_PORT" "$deadline" "$pid" nats_ready
  log "NATS up on $INFRA_HOST:$NATS_PORT in $(since "$start")"
}

svc_stop() { stop_pid "$PROC_MARKER" "$NATS_STOP_TIMEOUT"; }
svc_status() {
  local p
  p=$(recorded_port "$NATS_PORT")
  report_status "$PROC_MARKER" "$INFRA_HOST:$p (TRANSPORTER=nats://$INFRA_HOST:$p)"
}

infra_main "$@"
