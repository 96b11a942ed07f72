#!/usr/bin/env bash
# Schemathesis (PyPI), the API fuzzer that checks the running gateway against its OpenAPI document,
# installed into a cached Python venv: $TBP_INFRA_CACHE/schemathesis-<version>.
#   scripts/infra/schemathesis.sh install        install (skipped when already there)
#   scripts/infra/schemathesis.sh st ARGS...     install if needed, then `st ARGS...` (e.g. `st run URL`)
#
# Settings (environment):
#   SCHEMATHESIS_VERSION  4.32.5   the version tested with this project (pinned)
#   PYTHON                python3  a Python >= 3.11 (what schemathesis 4.32 requires) with the venv module
INFRA_NAME=schemathesis
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCHEMATHESIS_VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
PYTHON=${PYTHON:-python3}
VENV="$INFRA_CACHE/schemathesis-$SCHEMATHESIS_VERSION"
MARKER="$VENV/.installed"

# A Python with venv and pip; on Debian without them, its packages (as nats.sh installs nats-server).
ensure_python() {
  local sudo=()
  if command -v "$PYTHON" >/dev/null 2>&1 && "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    return 0
  fi
  need_cmd apt-get "schemathesis needs $PYTHON (3.11+) with the venv module"
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "installing python3-venv needs root (apt-get install -y python3-venv)"
    sudo=(sudo)
  fi
  log "apt-get install -y python3 python3-venv"
  "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends python3 python3-venv >&2 ||
    die "apt-get install python3-venv failed"
}

svc_install() {
  local start pip_log
  if marker_matches "$MARKER" "$SCHEMATHESIS_VERSION" && [[ -x $VENV/bin/st ]]; then
    log "schemathesis $SCHEMATHESIS_VERSION already installed in $VENV"
    return 0
  fi
  start=$(now_ms)
  ensure_python
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "schemathesis $SCHEMATHESIS_VERSION needs Python 3.11+, $PYTHON is $("$PYTHON" --version 2>&1): set PYTHON to a newer one"
  rm -rf "$VENV"
  mkdir -p "$INFRA_CACHE"
  pip_log="$INFRA_CACHE/schemathesis-pip.log"
  : >"$pip_log"
  log "creating venv $VENV"
  "$PYTHON" -m venv "$VENV" >>"$pip_log" 2>&1 || { tail -n 20 "$pip_log" >&2; die "python -m venv failed (log: $pip_log)"; }
  log "pip install schemathesis==$SCHEMATHESIS_VERSION"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >>"$pip_log" 2>&1 ||
    { tail -n 20 "$pip_log" >&2; rm -rf "$VENV"; die "pip install schemathesis==$SCHEMATHESIS_VERSION failed (log: $pip_log)"; }
  write_marker "$MARKER" "$SCHEMATHESIS_VERSION"
  log "installed schemathesis $SCHEMATHESIS_VERSION in $(since "$start")"
}

install_locked() {
  take_lock "$INFRA_CACHE/locks/$INFRA_NAME.lock" 600
  svc_install
  # Released here: a long fuzzing run must not hold up another install.
  exec 9>&-
}

case ${1:-} in
  install) install_locked ;;
  st)
    shift
    install_locked
    exec "$VENV/bin/st" "$@"
    ;;
  *)
    echo "usage: $0 {install|st ARGS...}" >&2
    exit 2
    ;;
esac
