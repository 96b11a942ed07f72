#!/usr/bin/env bash
# FerretDB 1.24.x (MongoDB wire protocol) with its SQLite backend, on 127.0.0.1.
#   scripts/infra/ferretdb.sh {install|start|stop|restart|status|clean}
# Built from the Go module proxy: scripts/infra/ferretdb/ is a tiny Go main that embeds
# FerretDB's public `ferretdb` package (its own cmd panics without build/version/version.txt).
#
# Settings (environment):
#   FERRETDB_PORT           27017
#   FERRETDB_LOG_LEVEL      warn      debug, info, warn or error
#   FERRETDB_START_TIMEOUT  60        seconds to wait for a MongoDB ping to succeed
#   FERRETDB_STOP_TIMEOUT   20        seconds of SIGTERM grace before SIGKILL
#   GO                      go on PATH, else /usr/local/go/bin/go
INFRA_NAME=ferretdb
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FERRETDB_PORT=${FERRETDB_PORT:-27017}
FERRETDB_LOG_LEVEL=${FERRETDB_LOG_LEVEL:-warn}
FERRETDB_START_TIMEOUT=${FERRETDB_START_TIMEOUT:-60}
FERRETDB_STOP_TIMEOUT=${FERRETDB_STOP_TIMEOUT:-20}

SRC_DIR="$INFRA_DIR/ferretdb"
BIN_DIR="$INFRA_CACHE/ferretdb"
RUN_DIR="$(svc_dir)"
DATA_DIR="$RUN_DIR/data"
PROC_MARKER="tbp-ferretdb-"

go_bin() {
  local g=${GO:-}
  [[ -z $g ]] && g=$(command -v go || true)
  [[ -z $g && -x /usr/local/go/bin/go ]] && g=/usr/local/go/bin/go
  [[ -n $g ]] || die "go not found (set GO=/path/to/go; Go >= 1.24 is needed)"
  printf '%s' "$g"
}

ferretdb_version() {
  awk '{ for (i = 1; i < NF; i++) if ($i == "github.com/FerretDB/FerretDB") { print $(i + 1); exit } }' "$SRC_DIR/go.mod"
}

# The binary's name carries a hash of the sources and the Go version: a change to
# main.go/go.mod/go.sum or a new Go rebuilds, anything else reuses the cached build.
binary_path() {
  local h
  h=$( { cat "$SRC_DIR/main.go" "$SRC_DIR/go.mod" "$SRC_DIR/go.sum"; "$(go_bin)" env GOVERSION; } | sha256sum | cut -c1-12)
  printf '%s/tbp-ferretdb-%s' "$BIN_DIR" "$h"
}

svc_install() {
  local bin start version
  for f in main.go go.mod go.sum; do
    [[ -f $SRC_DIR/$f ]] || die "missing $SRC_DIR/$f"
  done
  bin=$(binary_path)
  version=$(ferretdb_version)
  if [[ -x $bin ]]; then
    log "FerretDB $version already built: $bin"
    return 0
  fi
  start=$(now_ms)
  log "building FerretDB $version (SQLite backend) from the Go module proxy into $bin"
  mkdir -p "$BIN_DIR"
  # Module and build caches live in the tbp-infra cache; -modcacherw keeps them deletable.
  # GOTOOLCHAIN=local: never fetch another Go toolchain. CGO off: modernc.org/sqlite is pure Go.
  if ! (cd "$SRC_DIR" &&
    GOTOOLCHAIN=local CGO_ENABLED=0 \
      GOMODCACHE="$INFRA_CACHE/go/mod" GOCACHE="$INFRA_CACHE/go/build" \
      GOFLAGS="-mod=mod -modcacherw -buildvcs=false" \
      "$(go_bin)" build -trimpath -ldflags "-s -w" -o "$bin.tmp" . ) >"$BIN_DIR/build.log" 2>&1; then
    tail -n 40 "$BIN_DIR/build.log" >&2
    rm -f "$bin.tmp"
    die "go build of FerretDB failed (full log: $BIN_DIR/build.log)"
  fi
  mv -f "$bin.tmp" "$bin"
  # Drop binaries of older source versions.
  find "$BIN_DIR" -maxdepth 1 -name 'tbp-ferretdb-*' ! -path "$bin" -delete
  log "built $(du -h "$bin" | cut -f1) binary in $(since "$start")"
}

# A real MongoDB wire-protocol round trip with the project's `mongodb` driver.
MONGO_CHECK_JS='
const { MongoClient } = require("mongodb");
(async () => {
  const client = await MongoClient.connect(process.argv[1],
    { useUnifiedTopology: true, useNewUrlParser: true, serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    const res = await client.db("admin").command({ ping: 1 });
    if (res.ok !== 1) throw new Error("ping answered " + JSON.stringify(res));
  } finally {
    await client.close();
  }
})().catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });
'
mongo_ready() { node_run "$MONGO_CHECK_JS" "mongodb://$INFRA_HOST:$FERRETDB_PORT/"; }

svc_start() {
  local pid start deadline bin
  need_node_module mongodb
  deadline=$(deadline_in "$FERRETDB_START_TIMEOUT")
  pid=$(running_or_none "$PROC_MARKER" "$FERRETDB_PORT")
  if [[ -n $pid ]]; then
    log "already running (pid $pid)"
    wait_ready "MongoDB ping on $INFRA_HOST:$FERRETDB_PORT" "$deadline" "$pid" mongo_ready
    return 0
  fi
  port_free_or_die "$FERRETDB_PORT" "FerretDB"
  bin=$(binary_path)
  [[ -x $bin ]] || die "FerretDB binary $bin missing (install failed?)"
  start=$(now_ms)
  mkdir -p "$DATA_DIR"
  pid=$(spawn "$bin" -listen-addr "$INFRA_HOST:$FERRETDB_PORT" -sqlite-dir "$DATA_DIR" -log-level "$FERRETDB_LOG_LEVEL")
  record_port "$FERRETDB_PORT"
  log "started pid $pid (log: $(log_file))"
  wait_ready "port $INFRA_HOST:$FERRETDB_PORT accepts connections" "$deadline" "$pid" port_open "$FERRETDB_PORT"
  wait_ready "MongoDB ping on $INFRA_HOST:$FERRETDB_PORT" "$deadline" "$pid" mongo_ready
  log "FerretDB $(ferretdb_version) up on $INFRA_HOST:$FERRETDB_PORT in $(since "$start")"
}

svc_stop() { stop_pid "$PROC_MARKER" "$FERRETDB_STOP_TIMEOUT"; }
svc_status() {
  local p
  p=$(recorded_port "$FERRETDB_PORT")
  report_status "$PROC_MARKER" "$INFRA_HOST:$p (MONGO_URI=mongodb://$INFRA_HOST:$p/tbp)"
}

infra_main "$@"
